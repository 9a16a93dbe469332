package thumbnail

import (
	"context"
	"image"
)

// A kernel's cost grows with the reduction factor (CatmullRom reads 4 source
// pixels per output pixel per axis at 1×, 60 at 15×), so large reductions
// are done in two steps, as libvips does: an integer box average (area
// sampling, cheap) down to between 2× and 4× the box, then the kernel for the
// rest. The box step averages premultiplied values, like the kernel.

// preShrinkFactor returns the integer box factor to apply to an sw×sh
// region before resampling it to bw×bh with a filter kernel, or 1 for none.
// It leaves at least a 2× reduction for the kernel.
func preShrinkFactor(sw, sh, bw, bh int) int {
	return max(1, min(sw/bw, sh/bh)/2)
}

// boxShrink averages k×k blocks of src's region sr into a new premultiplied
// image. The blocks are centred in sr; the fewer than k leftover rows and
// columns are split between the edges and dropped, which moves the result by
// less than half a block, i.e. under a quarter of an output pixel.
func boxShrink(ctx context.Context, src *image.NRGBA, sr image.Rectangle, k int) (*image.RGBA, error) {
	ow, oh := sr.Dx()/k, sr.Dy()/k
	x0 := sr.Min.X + (sr.Dx()-ow*k)/2
	y0 := sr.Min.Y + (sr.Dy()-oh*k)/2
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	acc := make([]uint64, 4*ow)
	n := uint64(k * k)
	for oy := 0; oy < oh; oy++ {
		if oy%16 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		clear(acc)
		for y := y0 + oy*k; y < y0+(oy+1)*k; y++ {
			i := src.PixOffset(x0, y)
			row := src.Pix[i : i+4*ow*k]
			for ox := 0; ox < ow; ox++ {
				var r, g, b, a uint64
				block := row[4*ox*k : 4*(ox+1)*k]
				for j := 0; j+3 < len(block); j += 4 {
					pa := uint64(block[j+3])
					r += uint64(block[j+0]) * pa
					g += uint64(block[j+1]) * pa
					b += uint64(block[j+2]) * pa
					a += pa
				}
				acc[4*ox+0] += r
				acc[4*ox+1] += g
				acc[4*ox+2] += b
				acc[4*ox+3] += a
			}
		}
		d := out.Pix[oy*out.Stride : oy*out.Stride+4*ow]
		for i := 0; i < len(d); i += 4 {
			d[i+0] = uint8((acc[i+0] + 255*n/2) / (255 * n))
			d[i+1] = uint8((acc[i+1] + 255*n/2) / (255 * n))
			d[i+2] = uint8((acc[i+2] + 255*n/2) / (255 * n))
			d[i+3] = uint8((acc[i+3] + n/2) / n)
		}
	}
	return out, nil
}
