package watermark

import "image"

// over composites mark (premultiplied) onto dst (non-premultiplied) with its
// top-left corner at at, using the Porter-Duff "over" operator with the
// mark's alpha multiplied by opacity/255. Pixels the mark leaves fully
// transparent are not touched, so their colour survives even where dst is
// transparent.
//
// In non-premultiplied terms, with source alpha sa and destination alpha da:
//
//	outA = sa + da×(1−sa)
//	outC = (sC×sa + dC×da×(1−sa)) / outA
//
// The sums below carry both alphas scaled to 255×255 = 65025 and a common
// denominator of 65025², so the only rounding is the final division.
func over(dst *image.NRGBA, at image.Point, mark *image.RGBA, opacity uint32) {
	const one = 0xff * 0xff
	r := image.Rectangle{Min: at, Max: at.Add(mark.Rect.Size())}.Intersect(dst.Rect)
	if r.Empty() || opacity == 0 {
		return
	}
	op := uint64(opacity)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		mi := mark.PixOffset(mark.Rect.Min.X+r.Min.X-at.X, mark.Rect.Min.Y+y-at.Y)
		di := dst.PixOffset(r.Min.X, y)
		m := mark.Pix[mi : mi+4*r.Dx()]
		d := dst.Pix[di : di+4*r.Dx()]
		for i := 0; i+3 < len(m); i += 4 {
			sa := uint64(m[i+3]) * op // 0..one
			switch {
			case sa == 0:
				continue
			case sa == one:
				// An opaque mark at full opacity: its premultiplied colour is
				// the colour.
				copy(d[i:i+4], m[i:i+4])
				continue
			}
			if d[i+3] == 0xff {
				// The common case, an opaque photo: outA is one², and the
				// division is by a constant.
				for c := 0; c < 3; c++ {
					d[i+c] = uint8((uint64(m[i+c])*0xff*op + uint64(d[i+c])*(one-sa) + one/2) / one)
				}
				continue
			}
			da := uint64(d[i+3]) * 0xff // 0..one
			keep := da * (one - sa)     // destination weight, scaled by one²
			outA := sa*one + keep
			for c := 0; c < 3; c++ {
				num := uint64(m[i+c])*0xff*op*one + uint64(d[i+c])*keep
				d[i+c] = uint8((num + outA/2) / outA)
			}
			d[i+3] = uint8((outA + one*0xff/2) / (one * 0xff))
		}
	}
}
