package resize

import (
	"context"
	"image"

	"golang.org/x/image/draw"

	"github.com/seed62486500/resizer/plugins/internal/resample"
)

// scale resamples the sr part of src to size. The work is resample's: a box
// pre-shrink for large reductions, then interp in parallel bands of
// destination rows, each band exact, with a look at ctx between bands.
func scale(ctx context.Context, interp draw.Interpolator, src *image.NRGBA, sr image.Rectangle, size image.Point) (*image.NRGBA, error) {
	if sr.Size() == size {
		out := image.NewNRGBA(image.Rectangle{Max: size})
		draw.Draw(out, out.Rect, src, sr.Min, draw.Src)
		return out, ctx.Err()
	}
	dst, err := resample.Scale(ctx, src, sr, size, resample.Options{Kernel: interp})
	if err != nil {
		return nil, err
	}
	return resample.Unpremultiply(dst, 0), nil
}
