package resample

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
)

// testImage is a detailed, deterministic picture: smooth gradients, noise,
// hard edges and a zone plate (rings of rising frequency), which shows
// aliasing at once. With alpha, its left part fades out.
func testImage(w, h int, seed uint64, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cx, cy := float64(w)*0.6, float64(h)*0.45
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			zone := 0.5 + 0.5*math.Cos((dx*dx+dy*dy)*math.Pi/float64(2*max(w, h)))
			g := float64(x) / float64(w)
			n := r.Float64()
			edge := 0.0
			if (x/97+y/61)%2 == 0 {
				edge = 1
			}
			c := color.NRGBA{
				R: uint8(255 * (0.5*zone + 0.3*g + 0.2*n)),
				G: uint8(255 * (0.4*zone + 0.4*edge + 0.2*n)),
				B: uint8(255 * (0.6*(1-g) + 0.2*edge + 0.2*zone)),
				A: 255,
			}
			if alpha && x < w/3 {
				c.A = uint8(255 * float64(x) / float64(w/3))
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func TestBandsAreExact(t *testing.T) {
	// Bands must reproduce one whole-image kernel call: sizes whose ratio
	// gives q = 1, small q, large q (coprime), enlargements, a crop.
	src := testImage(613, 457, 1, true)
	cases := []struct {
		name string
		sr   image.Rectangle
		size image.Point
	}{
		{"halve", src.Rect, image.Pt(306, 228)},
		{"2.5x", image.Rect(0, 0, 600, 450), image.Pt(240, 180)},
		{"coprime", src.Rect, image.Pt(211, 149)},
		{"slight", src.Rect, image.Pt(601, 449)},
		{"enlarge", image.Rect(10, 20, 110, 90), image.Pt(333, 251)},
		{"crop", image.Rect(101, 37, 512, 400), image.Pt(97, 181)},
		{"one row", src.Rect, image.Pt(50, 1)},
	}
	for _, k := range []*draw.Kernel{draw.CatmullRom, draw.BiLinear} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%p", c.name, k), func(t *testing.T) {
				want := image.NewRGBA(image.Rectangle{Max: c.size})
				k.Scale(want, want.Rect, src, c.sr, draw.Src, nil)
				got, err := Scale(context.Background(), src, c.sr, c.size, Options{Kernel: k, NoShrink: true, Workers: 3})
				if err != nil {
					t.Fatal(err)
				}
				if d, at := maxDiff(got, want); d > 1 {
					t.Fatalf("banded result differs from one call by %d at %v", d, at)
				}
			})
		}
	}
}

func maxDiff(a, b *image.RGBA) (int, image.Point) {
	worst, at := 0, image.Point{}
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx()*4; x++ {
			d := int(a.Pix[y*a.Stride+x]) - int(b.Pix[y*b.Stride+x])
			if d < 0 {
				d = -d
			}
			if d > worst {
				worst, at = d, image.Pt(x/4, y)
			}
		}
	}
	return worst, at
}

func TestShrinkFactors(t *testing.T) {
	for _, c := range []struct {
		from, to image.Point
		kx, ky   int
	}{
		{image.Pt(4000, 3000), image.Pt(1600, 1200), 1, 1},
		{image.Pt(4000, 3000), image.Pt(800, 600), 2, 2},
		{image.Pt(4000, 3000), image.Pt(801, 601), 1, 1},
		{image.Pt(3000, 3000), image.Pt(200, 200), 6, 6},
		{image.Pt(4000, 3000), image.Pt(4000, 100), 1, 12},
		{image.Pt(100, 100), image.Pt(400, 400), 1, 1},
	} {
		kx, ky := ShrinkFactors(c.from, c.to)
		if kx != c.kx || ky != c.ky {
			t.Errorf("ShrinkFactors(%v, %v) = %d, %d; want %d, %d", c.from, c.to, kx, ky, c.kx, c.ky)
		}
	}
}

func TestBoxShrinkAverages(t *testing.T) {
	// A 2×2 block of one opaque and one transparent red, and two opaque
	// blues: premultiplied averaging gives no colour to the transparent
	// pixel.
	src := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	src.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	src.SetNRGBA(1, 0, color.NRGBA{0, 255, 0, 0})
	src.SetNRGBA(0, 1, color.NRGBA{0, 0, 255, 255})
	src.SetNRGBA(1, 1, color.NRGBA{0, 0, 255, 255})
	got, err := BoxShrink(context.Background(), src, src.Rect, 2, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := color.RGBA{64, 0, 128, 191}
	if c := got.RGBAAt(0, 0); c != want {
		t.Fatalf("box average = %v, want %v", c, want)
	}
	// The same from premultiplied input.
	pre := image.NewRGBA(src.Rect)
	draw.Draw(pre, pre.Rect, src, image.Point{}, draw.Src)
	got, err = BoxShrink(context.Background(), pre, pre.Rect, 2, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.RGBAAt(0, 0); c != want {
		t.Fatalf("box average of premultiplied input = %v, want %v", c, want)
	}
}

// TestBoxShrinkMatchesReference checks the word-at-a-time sums (the 2×2
// path, blocks of odd and even widths, and blocks too wide for 16-bit
// lanes) against a plain per-pixel average of premultiplied input, with
// every byte at its extremes somewhere.
func TestBoxShrinkMatchesReference(t *testing.T) {
	src := image.NewRGBA(image.Rect(3, 1, 3+1100, 1+37))
	r := rand.New(rand.NewPCG(5, 6))
	for i := range src.Pix {
		switch r.IntN(4) {
		case 0:
			src.Pix[i] = 0
		case 1:
			src.Pix[i] = 0xff
		default:
			src.Pix[i] = uint8(r.IntN(256))
		}
	}
	for _, k := range [][2]int{{2, 2}, {1, 2}, {2, 1}, {3, 3}, {6, 6}, {7, 2}, {513, 3}, {1100, 37}} {
		sr := image.Rect(src.Rect.Min.X+1, src.Rect.Min.Y+1, src.Rect.Max.X, src.Rect.Max.Y)
		got, err := BoxShrink(context.Background(), src, sr, k[0], k[1], 2)
		if err != nil {
			t.Fatal(err)
		}
		ow, oh := sr.Dx()/k[0], sr.Dy()/k[1]
		x0, y0 := sr.Min.X+(sr.Dx()-ow*k[0])/2, sr.Min.Y+(sr.Dy()-oh*k[1])/2
		n := uint64(k[0] * k[1])
		for oy := range oh {
			for ox := range ow {
				var sum [4]uint64
				for y := y0 + oy*k[1]; y < y0+(oy+1)*k[1]; y++ {
					for x := x0 + ox*k[0]; x < x0+(ox+1)*k[0]; x++ {
						p := src.Pix[src.PixOffset(x, y):]
						for c := range sum {
							sum[c] += uint64(p[c])
						}
					}
				}
				g := got.Pix[got.PixOffset(ox, oy):]
				for c := range sum {
					if want := uint8((sum[c] + n/2) / n); g[c] != want {
						t.Fatalf("box %v, pixel (%d,%d) channel %d = %d, want %d", k, ox, oy, c, g[c], want)
					}
				}
			}
		}
	}
}

func TestOpaqueRow(t *testing.T) {
	for n := 0; n <= 5; n++ {
		row := make([]uint8, 4*n)
		for i := 3; i < len(row); i += 4 {
			row[i] = 0xff
		}
		if !opaqueRow(row) {
			t.Errorf("%d opaque pixels: not opaque", n)
		}
		for i := 3; i < len(row); i += 4 {
			row[i] = 0xfe
			if opaqueRow(row) {
				t.Errorf("%d pixels, alpha 0xfe at byte %d: opaque", n, i)
			}
			row[i] = 0xff
		}
	}
}

func TestCancelled(t *testing.T) {
	src := testImage(800, 600, 2, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scale(ctx, src, src.Rect, image.Pt(100, 75), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Scale with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestPointSamplers(t *testing.T) {
	src := testImage(300, 200, 3, true)
	for _, interp := range []draw.Interpolator{draw.NearestNeighbor, draw.ApproxBiLinear} {
		want := image.NewRGBA(image.Rect(0, 0, 131, 77))
		interp.Scale(want, want.Rect, src, src.Rect, draw.Src, nil)
		got, err := Scale(context.Background(), src, src.Rect, want.Rect.Size(), Options{Kernel: interp, Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		if d, at := maxDiff(got, want); d != 0 {
			t.Fatalf("%T banded differs by %d at %v", interp, d, at)
		}
	}
}

// TestQualityAgainstLanczos holds the fast path to its bar: PSNR against
// a high-quality Lanczos-3 reference of the same size no worse than plain
// single-call CatmullRom's minus 0.5 dB, for reductions with and without
// the box step, on a photo-like image and on a harsh synthetic one (a zone
// plate, hard-edged checks and white noise).
func TestQualityAgainstLanczos(t *testing.T) {
	photo := photoLike(1200, 900, 7)
	synthetic := testImage(1200, 900, 4, false)
	for _, c := range []struct {
		name string
		src  *image.NRGBA
	}{{"photo", photo}, {"synthetic", synthetic}} {
		for _, f := range []float64{1.2, 2.5, 4.5, 5, 7, 8, 10, 15, 24} {
			size := image.Pt(int(1200/f), int(900/f))
			ref := lanczos(c.src, size)
			plain := image.NewRGBA(image.Rectangle{Max: size})
			draw.CatmullRom.Scale(plain, plain.Rect, c.src, c.src.Rect, draw.Src, nil)
			fast, err := Scale(context.Background(), c.src, c.src.Rect, size, Options{})
			if err != nil {
				t.Fatal(err)
			}
			kx, ky := ShrinkFactors(c.src.Rect.Size(), size)
			pPlain, pFast := psnr(plain, ref), psnr(fast, ref)
			t.Logf("%s %v (%.1f×, box %d×%d): PSNR vs Lanczos-3: plain CatmullRom %.2f dB, fast path %.2f dB",
				c.name, size, f, kx, ky, pPlain, pFast)
			if pFast < pPlain-0.5 {
				t.Errorf("%s %v: fast path PSNR %.2f dB is more than 0.5 dB below plain CatmullRom's %.2f dB", c.name, size, pFast, pPlain)
			}
		}
	}
}

// photoLike is a smooth two-axis gradient with hard-edged discs, a band of
// stripes and sensor-like grain: what a photograph asks of a resampler.
func photoLike(w, h int, seed uint64) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, 1))
	type disc struct{ x, y, r float64 }
	discs := make([]disc, 5)
	for i := range discs {
		discs[i] = disc{r.Float64() * float64(w), r.Float64() * float64(h), (0.05 + 0.2*r.Float64()) * float64(min(w, h))}
	}
	for y := 0; y < h; y++ {
		fy := float64(y) / float64(h)
		for x := 0; x < w; x++ {
			fx := float64(x) / float64(w)
			c := [3]float64{70 + 100*fy, 120 + 40*math.Sin(6*fx), 200 - 150*fy}
			for i, d := range discs {
				if dx, dy := float64(x)-d.x, float64(y)-d.y; dx*dx+dy*dy < d.r*d.r {
					c = [3]float64{float64(40 * i), 200 - float64(30*i), 90}
				}
			}
			if fy > 0.8 && (x/13)%2 == 0 {
				c = [3]float64{230, 230, 220}
			}
			var px [3]uint8
			for i := range c {
				px[i] = uint8(min(max(c[i]+float64(r.IntN(33)-16), 0), 255))
			}
			m.SetNRGBA(x, y, color.NRGBA{px[0], px[1], px[2], 255})
		}
	}
	return m
}

// lanczos resizes src to size with a separable Lanczos-3 filter widened by
// the reduction factor (so it antialiases), in float64 on premultiplied
// values, weights renormalised at the edges. It is the reference: slow and
// simple.
func lanczos(src *image.NRGBA, size image.Point) [][4]float64 {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	pre := make([][4]float64, sw*sh)
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			c := src.NRGBAAt(src.Rect.Min.X+x, src.Rect.Min.Y+y)
			a := float64(c.A) / 255
			pre[y*sw+x] = [4]float64{float64(c.R) * a, float64(c.G) * a, float64(c.B) * a, float64(c.A)}
		}
	}
	weights := func(dn, sn int) [][]struct {
		i int
		w float64
	} {
		scale := float64(sn) / float64(dn)
		support := 3 * math.Max(scale, 1)
		out := make([][]struct {
			i int
			w float64
		}, dn)
		for d := range out {
			c := (float64(d)+0.5)*scale - 0.5
			total := 0.0
			for i := int(math.Floor(c - support)); i <= int(math.Ceil(c+support)); i++ {
				if i < 0 || i >= sn {
					continue
				}
				t := (float64(i) - c) / math.Max(scale, 1)
				w := sinc(t) * sinc(t/3)
				if math.Abs(t) >= 3 {
					w = 0
				}
				if w == 0 {
					continue
				}
				out[d] = append(out[d], struct {
					i int
					w float64
				}{i, w})
				total += w
			}
			for j := range out[d] {
				out[d][j].w /= total
			}
		}
		return out
	}
	wx, wy := weights(size.X, sw), weights(size.Y, sh)
	tmp := make([][4]float64, size.X*sh)
	for y := 0; y < sh; y++ {
		for x := 0; x < size.X; x++ {
			var s [4]float64
			for _, c := range wx[x] {
				p := pre[y*sw+c.i]
				for ch := range s {
					s[ch] += p[ch] * c.w
				}
			}
			tmp[y*size.X+x] = s
		}
	}
	out := make([][4]float64, size.X*size.Y)
	for y := 0; y < size.Y; y++ {
		for x := 0; x < size.X; x++ {
			var s [4]float64
			for _, c := range wy[y] {
				p := tmp[c.i*size.X+x]
				for ch := range s {
					s[ch] += p[ch] * c.w
				}
			}
			out[y*size.X+x] = s
		}
	}
	return out
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// psnr compares the premultiplied colour channels of img with ref, in dB.
func psnr(img *image.RGBA, ref [][4]float64) float64 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var sum float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r := ref[y*w+x]
			for ch := 0; ch < 3; ch++ {
				v := math.Min(255, math.Max(0, r[ch]))
				d := float64(img.Pix[y*img.Stride+4*x+ch]) - v
				sum += d * d
			}
		}
	}
	mse := sum / float64(3*w*h)
	return 10 * math.Log10(255*255/mse)
}
