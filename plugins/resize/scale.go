package resize

import (
	"context"
	"image"

	"golang.org/x/image/draw"
)

// stripRows is how many destination rows are scaled between two looks at
// ctx: small enough that a cancelled job stops within milliseconds, large
// enough that the checks cost nothing.
const stripRows = 64

// scale resamples the sr part of src to size, checking ctx as it goes.
//
// NearestNeighbor and ApproxBiLinear compute each destination pixel on its
// own, so they run in strips of destination rows (with the full mapping),
// which give exactly the pixels of one call, with a look at ctx between
// strips.
//
// The kernels (BiLinear, CatmullRom) keep x/image/draw's two-pass scaler in
// one call: cutting it into independent strips needs an extra identity
// pass and a transpose, which measured 1.65x slower on 12 MP -> 1600 px.
// Instead the call runs on its own goroutine and scale returns as soon as
// ctx ends; the abandoned call finishes in the background (it only reads
// src and writes its own buffer) and its result is dropped.
func scale(ctx context.Context, interp draw.Interpolator, src *image.NRGBA, sr image.Rectangle, size image.Point) (*image.NRGBA, error) {
	if sr.Size() == size {
		out := image.NewNRGBA(image.Rectangle{Max: size})
		draw.Draw(out, out.Rect, src, sr.Min, draw.Src)
		return out, ctx.Err()
	}
	dst := image.NewRGBA(image.Rectangle{Max: size})
	if k, ok := interp.(*draw.Kernel); ok {
		done := make(chan struct{})
		go func() {
			defer close(done)
			k.Scale(dst, dst.Rect, src, sr, draw.Src, nil)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	} else {
		for y0 := 0; y0 < size.Y; y0 += stripRows {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			strip := dst.SubImage(image.Rect(0, y0, size.X, min(y0+stripRows, size.Y))).(*image.RGBA)
			interp.Scale(strip, dst.Rect, src, sr, draw.Src, nil)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return unpremultiply(dst), nil
}

// unpremultiply converts the scaler's premultiplied result to NRGBA.
func unpremultiply(src *image.RGBA) *image.NRGBA {
	dst := image.NewNRGBA(image.Rectangle{Max: src.Rect.Size()})
	w, h := src.Rect.Dx(), src.Rect.Dy()
	for y := 0; y < h; y++ {
		s := src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y):][:w*4]
		d := dst.Pix[y*dst.Stride:][:w*4]
		for i := 0; i < len(s); i += 4 {
			switch a := uint32(s[i+3]); a {
			case 0xff:
				copy(d[i:i+4], s[i:i+4])
			case 0:
				// Fully transparent: colour is meaningless, leave zero.
			default:
				d[i+0] = uint8((uint32(s[i+0])*0xff + a/2) / a)
				d[i+1] = uint8((uint32(s[i+1])*0xff + a/2) / a)
				d[i+2] = uint8((uint32(s[i+2])*0xff + a/2) / a)
				d[i+3] = uint8(a)
			}
		}
	}
	return dst
}
