package imaging

import (
	"image"

	"golang.org/x/image/draw"
)

// orientedPoint maps source pixel (x, y) of a w×h image to where it is shown
// under EXIF orientation o.
func orientedPoint(o, x, y, w, h int) (int, int) {
	switch o {
	case 2: // mirror horizontally
		return w - 1 - x, y
	case 3: // rotate 180
		return w - 1 - x, h - 1 - y
	case 4: // mirror vertically
		return x, h - 1 - y
	case 5: // transpose (mirror along the main diagonal)
		return y, x
	case 6: // rotate 90 clockwise
		return h - 1 - y, x
	case 7: // transverse (mirror along the anti-diagonal)
		return h - 1 - y, w - 1 - x
	case 8: // rotate 270 clockwise
		return y, w - 1 - x
	}
	return x, y
}

// orient returns img displayed under EXIF orientation o, as a new image (or
// img itself for orientation 1). An *image.NRGBA stays NRGBA, so that
// colour under partial alpha is not rounded through premultiplication;
// anything else is first brought to RGBA, which has draw fast paths from
// every decoder's output type. The transform is then a plain 4-byte copy.
// The destination offset is affine in (x, y), so it is computed once per
// orientation instead of per pixel.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	var srcPix, dstPix []byte
	var srcStride, dstStride int
	var out image.Image
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
		srcPix, srcStride, dstPix, dstStride, out = n.Pix, n.Stride, dst.Pix, dst.Stride, dst
	} else {
		src, ok := img.(*image.RGBA)
		if !ok || src.Rect.Min != (image.Point{}) {
			src = image.NewRGBA(image.Rect(0, 0, w, h))
			draw.Draw(src, src.Rect, img, img.Bounds().Min, draw.Src)
		}
		dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
		srcPix, srcStride, dstPix, dstStride, out = src.Pix, src.Stride, dst.Pix, dst.Stride, dst
	}
	offset := func(x, y int) int {
		dx, dy := orientedPoint(o, x, y, w, h)
		return dy*dstStride + dx*4
	}
	origin := offset(0, 0)
	stepX, stepY := offset(1, 0)-origin, offset(0, 1)-origin
	for y := range h {
		si := y * srcStride
		di := origin + y*stepY
		for range w {
			copy(dstPix[di:di+4], srcPix[si:si+4])
			si += 4
			di += stepX
		}
	}
	return out
}
