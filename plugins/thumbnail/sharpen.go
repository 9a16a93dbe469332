package thumbnail

import "image"

// sharpenAmount is how much of the detail removed by the blur is added back.
// Light on purpose: it restores the crispness a large reduction loses
// without visible halos.
const sharpenAmount = 0.5

// sharpen applies an unsharp mask to m in place: out = c + amount×(c − blur),
// where blur is the separable 3×3 binomial filter [1 2 1]/4 (a Gaussian of
// σ ≈ 0.7) with replicated borders. m is premultiplied, so colour is clamped
// to alpha; alpha itself is untouched. Flat areas are left exactly as they
// were, because there the blur equals the pixel.
func sharpen(m *image.RGBA) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if w == 0 || h == 0 {
		return
	}
	at := func(x, y, c int) int32 {
		x = max(0, min(x, w-1))
		y = max(0, min(y, h-1))
		return int32(m.Pix[y*m.Stride+4*x+c])
	}
	// Horizontal pass, ×4.
	horiz := make([]int32, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				horiz[(y*w+x)*3+c] = at(x-1, y, c) + 2*at(x, y, c) + at(x+1, y, c)
			}
		}
	}
	hAt := func(x, y, c int) int32 {
		y = max(0, min(y, h-1))
		return horiz[(y*w+x)*3+c]
	}
	out := make([]uint8, len(m.Pix))
	copy(out, m.Pix)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*m.Stride + 4*x
			a := float32(m.Pix[i+3])
			for c := 0; c < 3; c++ {
				blur16 := hAt(x, y-1, c) + 2*hAt(x, y, c) + hAt(x, y+1, c)
				orig := float32(m.Pix[i+c])
				v := orig + sharpenAmount*(orig-float32(blur16)/16)
				out[i+c] = uint8(max(0, min(v, a)) + 0.5)
			}
		}
	}
	copy(m.Pix, out)
}
