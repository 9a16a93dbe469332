// Package resample scales 8-bit images quickly with golang.org/x/image/draw,
// for the bundled plugins.
//
// Two things make it faster than one call to a draw.Kernel's Scale, without
// changing what the kernel computes:
//
//   - A large reduction starts with an integer box average (area sampling,
//     which reads each source pixel once) down to Gap times the output size,
//     and the kernel does only the remaining, fractional reduction. A
//     kernel's cost grows with the reduction factor (CatmullRom reads 4
//     source pixels per output pixel per axis at 1×, 60 at 15×); a box
//     average's does not. libvips works the same way.
//   - The kernel runs on horizontal bands of the output, in parallel. Each
//     band is an exact piece of the whole: bands start on output rows that
//     map to whole source rows, and each is computed with enough rows of
//     margin that the kernel never meets a band edge that is not an image
//     edge. The result is the same as one call over the whole image.
//
// Everything is premultiplied between the steps, so that transparent pixels
// do not bleed their colour into their neighbours.
package resample

import (
	"context"
	"encoding/binary"
	"image"
	"math"
	"runtime"
	"sync"

	"golang.org/x/image/draw"
)

// Gap is how much reduction the box average leaves to the kernel: the box
// factor is the largest integer k with reduction/k >= Gap. A box average
// decimated by k is soft and lets some detail alias; a kernel reduction of
// at least 2.5× after it filters out most of that aliasing, and finishing
// with Lanczos-3 (sharper than CatmullRom) makes up for the softness. Below
// 2.5 the tests measure a clear loss against a Lanczos reference.
const Gap = 2.5

// bandRows is the target height of an output band: small enough that a
// cancelled context is noticed quickly and that the kernel's temporary
// buffer (8 bytes per channel per pixel of the band's source rows) stays
// small, large enough that the margins cost little.
const bandRows = 64

// Options tune Scale. The zero value uses draw.CatmullRom, the box
// pre-shrink and every CPU.
type Options struct {
	// Kernel resamples; nil means draw.CatmullRom. A draw.Kernel gets the
	// box pre-shrink and parallel bands; other interpolators (nearest
	// neighbour, approximate bilinear) are point samplers and run as they
	// are, in parallel bands. After a box pre-shrink, every kernel but
	// draw.BiLinear (chosen for softness) finishes with Lanczos3.
	Kernel draw.Interpolator
	// NoShrink turns the box pre-shrink off (for comparisons).
	NoShrink bool
	// Workers bounds the goroutines; 0 means runtime.GOMAXPROCS(0).
	Workers int
}

// Scale returns the region sr of src resampled to size, premultiplied (the
// layout x/image/draw writes fastest). src may be *image.NRGBA or
// *image.RGBA (premultiplied). ctx is checked between bands: a cancelled
// scale returns ctx.Err() within a band's time.
func Scale(ctx context.Context, src image.Image, sr image.Rectangle, size image.Point, opts Options) (*image.RGBA, error) {
	dst := image.NewRGBA(image.Rectangle{Max: size})
	if err := ScaleInto(ctx, dst, src, sr, opts); err != nil {
		return nil, err
	}
	return dst, nil
}

// ScaleInto resamples the region sr of src to fill dst.
func ScaleInto(ctx context.Context, dst *image.RGBA, src image.Image, sr image.Rectangle, opts Options) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	size := dst.Rect.Size()
	if size.X <= 0 || size.Y <= 0 || sr.Empty() {
		return nil
	}
	interp := opts.Kernel
	if interp == nil {
		interp = draw.CatmullRom
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	src = premultipliedView(src, sr)
	k, isKernel := interp.(*draw.Kernel)
	if !isKernel {
		return pointScale(ctx, dst, src, sr, interp, workers)
	}
	if !opts.NoShrink {
		kx, ky := ShrinkFactors(sr.Size(), size)
		if kx > 1 || ky > 1 {
			small, err := BoxShrink(ctx, src, sr, kx, ky, workers)
			if err != nil {
				return err
			}
			src, sr = small, small.Rect
			if k != draw.BiLinear {
				k = Lanczos3
			}
		}
	}
	return kernelScale(ctx, dst, src, sr, k, workers)
}

// Lanczos3 is the Lanczos filter with three lobes, as a draw.Kernel.
var Lanczos3 = &draw.Kernel{Support: 3, At: lanczos3}

func lanczos3(t float64) float64 {
	switch {
	case t == 0:
		return 1
	case t >= 3:
		return 0
	}
	pt := math.Pi * t
	return 3 * math.Sin(pt) * math.Sin(pt/3) / (pt * pt)
}

// ShrinkFactors returns the box factors (at least 1) for reducing a region
// of size from to size to: each leaves at least Gap to the kernel.
func ShrinkFactors(from, to image.Point) (kx, ky int) {
	f := func(s, d int) int {
		return max(1, int(math.Floor(float64(s)/float64(d)/Gap)))
	}
	return f(from.X, to.X), f(from.Y, to.Y)
}

// BoxShrink averages kx×ky blocks of the region sr of src into a new
// premultiplied image of sr.Dx()/kx × sr.Dy()/ky pixels. The blocks are
// centred in sr; the leftover rows and columns (fewer than a block) are
// split between the edges and dropped, which moves the result by less than
// half a block: under a quarter of an output pixel when the kernel reduces
// by Gap more.
func BoxShrink(ctx context.Context, src image.Image, sr image.Rectangle, kx, ky, workers int) (*image.RGBA, error) {
	ow, oh := max(1, sr.Dx()/kx), max(1, sr.Dy()/ky)
	kx, ky = min(kx, sr.Dx()), min(ky, sr.Dy())
	x0 := sr.Min.X + (sr.Dx()-ow*kx)/2
	y0 := sr.Min.Y + (sr.Dy()-oh*ky)/2
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	pix, stride, premultiplied, ok := pixels(src)
	if !ok {
		// An unusual layout: convert the region once, then average.
		n := image.NewNRGBA(image.Rect(0, 0, ow*kx, oh*ky))
		draw.Draw(n, n.Rect, src, image.Pt(x0, y0), draw.Src)
		pix, stride, premultiplied = n.Pix, n.Stride, false
		x0, y0 = 0, 0
	} else {
		o := src.Bounds().Min
		x0, y0 = x0-o.X, y0-o.Y
	}
	n := uint64(kx * ky)
	err := inBands(ctx, oh, 16, workers, func(r0, r1 int) {
		if premultiplied && kx == 2 && ky == 2 {
			for oy := r0; oy < r1; oy++ {
				y := y0 + 2*oy
				box2x2(out.Pix[oy*out.Stride:][:4*ow], pix[y*stride+4*x0:][:8*ow], pix[(y+1)*stride+4*x0:][:8*ow])
			}
			return
		}
		acc := make([]uint64, 4*ow)
		for oy := r0; oy < r1; oy++ {
			clear(acc)
			for y := y0 + oy*ky; y < y0+(oy+1)*ky; y++ {
				row := pix[y*stride+4*x0:][:4*ow*kx]
				if premultiplied {
					sumBlocks(acc, row, kx)
				} else {
					sumBlocksPremultiplying(acc, row, kx)
				}
			}
			d := out.Pix[oy*out.Stride:][:4*ow]
			if premultiplied {
				for i := range d {
					d[i] = uint8((acc[i] + n/2) / n)
				}
				continue
			}
			for i := 0; i < len(d); i += 4 {
				d[i+0] = uint8((acc[i+0] + 255*n/2) / (255 * n))
				d[i+1] = uint8((acc[i+1] + 255*n/2) / (255 * n))
				d[i+2] = uint8((acc[i+2] + 255*n/2) / (255 * n))
				d[i+3] = uint8((acc[i+3] + n/2) / n)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sumBlocksPremultiplying adds each k-pixel block of an NRGBA row, colour
// weighted by alpha, to acc (4 sums per block).
func sumBlocksPremultiplying(acc []uint64, row []uint8, k int) {
	for ox := 0; ox < len(acc)/4; ox++ {
		var r, g, b, a uint64
		block := row[4*ox*k:][:4*k]
		for j := 0; j < len(block); j += 4 {
			p := block[j : j+4 : j+4]
			pa := uint64(p[3])
			if pa == 0xff {
				r += uint64(p[0]) * 0xff
				g += uint64(p[1]) * 0xff
				b += uint64(p[2]) * 0xff
			} else {
				r += uint64(p[0]) * pa
				g += uint64(p[1]) * pa
				b += uint64(p[2]) * pa
			}
			a += pa
		}
		s := acc[4*ox : 4*ox+4 : 4*ox+4]
		s[0] += r
		s[1] += g
		s[2] += b
		s[3] += a
	}
}

// lanes selects the even bytes of a little-endian word: loaded from two
// RGBA pixels, w&lanes holds R0, B0, R1, B1 and w>>8&lanes G0, A0, G1, A1,
// each in a 16-bit lane that can take 256 additions of a byte.
const lanes = 0x00ff00ff_00ff00ff

// sumBlocks adds each k-pixel block of a premultiplied row to acc, two
// pixels per load (see lanes).
func sumBlocks(acc []uint64, row []uint8, k int) {
	if k > 512 {
		sumBlocksWide(acc, row, k)
		return
	}
	for ox := 0; ox < len(acc)/4; ox++ {
		block := row[4*ox*k:][:4*k]
		var rb, ga uint64
		j := 0
		for ; j+8 <= len(block); j += 8 {
			w := binary.LittleEndian.Uint64(block[j:])
			rb += w & lanes
			ga += w >> 8 & lanes
		}
		if j < len(block) {
			w := uint64(binary.LittleEndian.Uint32(block[j:]))
			rb += w & lanes
			ga += w >> 8 & lanes
		}
		s := acc[4*ox : 4*ox+4 : 4*ox+4]
		s[0] += rb&0xffff + rb>>32&0xffff
		s[1] += ga&0xffff + ga>>32&0xffff
		s[2] += rb>>16&0xffff + rb>>48
		s[3] += ga>>16&0xffff + ga>>48
	}
}

// sumBlocksWide is sumBlocks for blocks too wide for 16-bit lanes.
func sumBlocksWide(acc []uint64, row []uint8, k int) {
	for ox := 0; ox < len(acc)/4; ox++ {
		var r, g, b, a uint64
		block := row[4*ox*k:][:4*k]
		for j := 0; j < len(block); j += 4 {
			p := block[j : j+4 : j+4]
			r += uint64(p[0])
			g += uint64(p[1])
			b += uint64(p[2])
			a += uint64(p[3])
		}
		s := acc[4*ox : 4*ox+4 : 4*ox+4]
		s[0] += r
		s[1] += g
		s[2] += b
		s[3] += a
	}
}

// box2x2 writes to d the rounded mean of each 2×2 block of the premultiplied
// rows a and b (the commonest box, a halving), two pixels per load.
func box2x2(d, a, b []uint8) {
	for i := 0; i+4 <= len(d); i += 4 {
		wa := binary.LittleEndian.Uint64(a[2*i:])
		wb := binary.LittleEndian.Uint64(b[2*i:])
		rb := wa&lanes + wb&lanes
		ga := wa>>8&lanes + wb>>8&lanes
		// Fold the second pixel's lanes onto the first's, and round.
		rb += rb>>32 + 0x0002_0002
		ga += ga>>32 + 0x0002_0002
		binary.LittleEndian.PutUint32(d[i:], uint32(rb>>2&0xff|(ga>>2&0xff)<<8|(rb>>18&0xff)<<16|(ga>>18&0xff)<<24))
	}
}

// premultipliedView returns an opaque NRGBA region as an RGBA image over
// the same bytes (without alpha the two layouts are identical), so that the
// kernel reads it through x/image/draw's RGBA fast path instead of
// premultiplying every tap; anything else is returned as it is.
func premultipliedView(src image.Image, sr image.Rectangle) image.Image {
	n, ok := src.(*image.NRGBA)
	if !ok || !sr.In(n.Rect) {
		return src
	}
	for y := sr.Min.Y; y < sr.Max.Y; y++ {
		if !opaqueRow(n.Pix[n.PixOffset(sr.Min.X, y):][:4*sr.Dx()]) {
			return src
		}
	}
	return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
}

// opaqueRow reports whether every alpha byte of a row of 8-bit RGBA pixels
// is 0xff, two pixels per load.
func opaqueRow(row []uint8) bool {
	const alphas = 0xff000000_ff000000
	i := 0
	for ; i+8 <= len(row); i += 8 {
		if binary.LittleEndian.Uint64(row[i:])&alphas != alphas {
			return false
		}
	}
	return i == len(row) || row[i+3] == 0xff
}

// pixels exposes the bytes of the layouts BoxShrink reads directly.
func pixels(img image.Image) (pix []uint8, stride int, premultiplied, ok bool) {
	switch m := img.(type) {
	case *image.NRGBA:
		return m.Pix, m.Stride, false, true
	case *image.RGBA:
		return m.Pix, m.Stride, true, true
	}
	return nil, 0, false, false
}

// kernelScale runs k over sr → dst in parallel bands of output rows (see
// the package comment for why the bands are exact).
func kernelScale(ctx context.Context, dst *image.RGBA, src image.Image, sr image.Rectangle, k *draw.Kernel, workers int) error {
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	sh := sr.Dy()
	// Output row y starts a band only if y·sh/dh is a whole source row:
	// y a multiple of q, where sh/dh = p/q in lowest terms.
	g := gcd(sh, dh)
	p, q := sh/g, dh/g
	// Rows of margin each side (a multiple of q) so that no kernel tap of a
	// band's own rows is clipped by the band: the support is 2·scale source
	// rows when reducing, 2 rows when enlarging, plus one for rounding.
	scale := float64(sh) / float64(dh)
	support := k.Support * math.Max(scale, 1)
	margin := roundUp(int(math.Ceil((support+2)/scale)), q)
	band := roundUp(bandRows, q)
	if band >= dh || workers == 1 && !cancellable(ctx) {
		k.Scale(dst, dst.Rect, src, sr, draw.Src, nil)
		return ctx.Err()
	}
	// Every band computes a window of the same number of output rows: its
	// own rows with the margin each side, moved inward at the image's top
	// and bottom (where the edge needs no margin). The windows start on
	// multiples of q, so they stay exact, and being of one shape they share
	// one draw.Scaler, which keeps the distributions and pools the
	// temporary buffer (8 bytes per channel per pixel of dw × the window's
	// source rows): at most one buffer per worker.
	win := min(dh, band+2*margin)
	z := k.NewScaler(dw, win, sr.Dx(), win/q*p)
	return inBands(ctx, dh, band, workers, func(y0, y1 int) {
		a := min(max(0, y0-margin), dh-win)
		srBand := image.Rect(sr.Min.X, sr.Min.Y+a/q*p, sr.Max.X, sr.Min.Y+(a+win)/q*p)
		dr := image.Rect(dst.Rect.Min.X, dst.Rect.Min.Y+a, dst.Rect.Min.X+dw, dst.Rect.Min.Y+a+win)
		rows := dst.SubImage(image.Rect(dst.Rect.Min.X, dst.Rect.Min.Y+y0, dst.Rect.Max.X, dst.Rect.Min.Y+y1)).(*image.RGBA)
		z.Scale(rows, dr, src, srBand, draw.Src, nil)
	})
}

// cancellable reports whether ctx can end, which makes banding worth it even
// on one worker: a band is the unit of cancellation.
func cancellable(ctx context.Context) bool { return ctx.Done() != nil }

// pointScale runs a point sampler (nearest neighbour, approximate bilinear)
// in parallel bands: each output pixel depends only on its own position, so
// any split is exact.
func pointScale(ctx context.Context, dst *image.RGBA, src image.Image, sr image.Rectangle, interp draw.Interpolator, workers int) error {
	dh := dst.Rect.Dy()
	return inBands(ctx, dh, bandRows, workers, func(y0, y1 int) {
		rows := dst.SubImage(image.Rect(dst.Rect.Min.X, dst.Rect.Min.Y+y0, dst.Rect.Max.X, dst.Rect.Min.Y+y1)).(*image.RGBA)
		interp.Scale(rows, dst.Rect, src, sr, draw.Src, nil)
	})
}

// inBands calls fn on consecutive ranges [y0, y1) of [0, n), each band rows
// long (the last may be shorter), on up to workers goroutines. It stops
// handing out bands when ctx ends, waits for those under way, and returns
// ctx.Err().
func inBands(ctx context.Context, n, band, workers int, fn func(y0, y1 int)) error {
	bands := (n + band - 1) / band
	workers = max(1, min(workers, bands))
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= bands || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	work := func() {
		for {
			i, ok := take()
			if !ok {
				return
			}
			fn(i*band, min(n, (i+1)*band))
		}
	}
	for range workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	return ctx.Err()
}

// Unpremultiply converts the premultiplied m to NRGBA in place, in
// parallel bands, and returns the same pixels as an *image.NRGBA; m must
// not be used afterwards.
func Unpremultiply(m *image.RGBA, workers int) *image.NRGBA {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	inBands(context.Background(), h, 256, workers, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):][:w*4]
			for i := 0; i < len(row); i += 4 {
				p := row[i : i+4 : i+4]
				switch a := uint32(p[3]); a {
				case 0xff:
				case 0:
					// Transparent: its colour is meaningless; make it zero.
					p[0], p[1], p[2] = 0, 0, 0
				default:
					p[0] = uint8((uint32(p[0])*0xff + a/2) / a)
					p[1] = uint8((uint32(p[1])*0xff + a/2) / a)
					p[2] = uint8((uint32(p[2])*0xff + a/2) / a)
				}
			}
		}
	})
	return &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// roundUp returns the smallest multiple of m that is at least n (and at
// least m).
func roundUp(n, m int) int { return max(1, (n+m-1)/m) * m }
