package imaging

import (
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
)

// DefaultQuality is the JPEG quality used when Encode is given 0.
const DefaultQuality = 85

// Encode writes img in format (JPEG, PNG or GIF; there is no WebP encoder).
//
// JPEG: quality 1..100, 0 meaning DefaultQuality; anything with transparency
// is flattened onto white first. GIF: an *image.Paletted is written as is;
// anything else is quantised to a median-cut palette of the image's own
// colours with Floyd-Steinberg dithering, pixels under 50% alpha becoming the
// transparent index. Errors from w are returned as is.
func Encode(w io.Writer, img image.Image, format string, quality int) error {
	switch format {
	case JPEG:
		if quality == 0 {
			quality = DefaultQuality
		}
		if quality < 1 || quality > 100 {
			return fmt.Errorf("imaging: jpeg quality %d outside 1..100", quality)
		}
		return jpeg.Encode(w, flattenOnWhite(img), &jpeg.Options{Quality: quality})
	case PNG:
		return png.Encode(w, img)
	case GIF:
		p, ok := img.(*image.Paletted)
		if !ok || len(p.Palette) == 0 || len(p.Palette) > 256 {
			p = quantize(img, 256)
		}
		return gif.Encode(w, p, &gif.Options{NumColors: len(p.Palette)})
	case WebP:
		return errorf(Unsupported, nil, "cannot encode webp: no encoder available")
	}
	return errorf(Unsupported, nil, "cannot encode unknown format %q", format)
}

// flattenOnWhite composites img over opaque white unless it is already opaque.
func flattenOnWhite(img image.Image) image.Image {
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK:
		return img
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.White, image.Point{}, draw.Src)
	draw.Draw(dst, b, img, b.Min, draw.Over)
	return dst
}
