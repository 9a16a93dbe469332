package imaging

import (
	"image"
	"image/color"
	"slices"

	"golang.org/x/image/draw"
)

// Colour quantisation for GIF output.
//
// The palette comes from median cut over a 5-bit-per-channel histogram: it
// follows the image's own colours, which beats a fixed palette such as Plan9
// on photos and gradients. Images with at most maxColors distinct colours
// keep them exactly. Dithering is Floyd-Steinberg with a nearest-colour
// lookup cached per 6-bit-per-channel cell, which keeps the cost per pixel
// constant instead of a scan of the whole palette.

const (
	histBits  = 5
	cacheBits = 6
)

// quantize returns img as a paletted image with at most maxColors entries,
// one of which is fully transparent if any pixel is under 50% alpha.
func quantize(img image.Image, maxColors int) *image.Paletted {
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)

	// Make every pixel either fully transparent or opaque (un-premultiplied).
	transparent := false
	exact := map[color.RGBA]struct{}{}
	var hist [1 << (3 * histBits)]bin
	for i := 0; i < len(rgba.Pix); i += 4 {
		p := rgba.Pix[i : i+4 : i+4]
		a := uint32(p[3])
		if a < 0x80 {
			p[0], p[1], p[2], p[3] = 0, 0, 0, 0
			transparent = true
			continue
		}
		if a < 0xff {
			p[0] = uint8(min(uint32(p[0])*0xff/a, 0xff))
			p[1] = uint8(min(uint32(p[1])*0xff/a, 0xff))
			p[2] = uint8(min(uint32(p[2])*0xff/a, 0xff))
			p[3] = 0xff
		}
		if exact != nil {
			exact[color.RGBA{p[0], p[1], p[2], 0xff}] = struct{}{}
			if len(exact) > maxColors {
				exact = nil
			}
		}
		h := &hist[histIndex(p[0], p[1], p[2])]
		h.n++
		h.r += uint64(p[0])
		h.g += uint64(p[1])
		h.b += uint64(p[2])
	}

	opaqueSlots := maxColors
	if transparent {
		opaqueSlots--
	}
	var pal color.Palette
	if exact != nil && len(exact) <= opaqueSlots {
		for c := range exact {
			pal = append(pal, c)
		}
		slices.SortFunc(pal, func(x, y color.Color) int { return cmpRGBA(x.(color.RGBA), y.(color.RGBA)) })
	} else {
		pal = medianCut(&hist, opaqueSlots)
	}
	if transparent {
		pal = append(pal, color.RGBA{})
	}
	if len(pal) == 0 { // zero-sized image
		pal = color.Palette{color.RGBA{}}
	}
	out := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), pal)
	ditherInto(out, rgba, transparent)
	return out
}

type bin struct {
	n       uint64
	r, g, b uint64 // channel sums, for the mean colour
}

func histIndex(r, g, b uint8) int {
	const s = 8 - histBits
	return int(r>>s)<<(2*histBits) | int(g>>s)<<histBits | int(b>>s)
}

func cmpRGBA(x, y color.RGBA) int {
	return int(x.R)<<16 + int(x.G)<<8 + int(x.B) - (int(y.R)<<16 + int(y.G)<<8 + int(y.B))
}

type box struct {
	bins   []int // histogram indices of non-empty cells
	n      uint64
	axis   int // channel with the widest extent
	extent int
}

func newBox(hist *[1 << (3 * histBits)]bin, bins []int) box {
	bx := box{bins: bins}
	lo, hi := [3]int{255, 255, 255}, [3]int{}
	for _, i := range bins {
		bx.n += hist[i].n
		for c, v := range cellCoords(i) {
			lo[c], hi[c] = min(lo[c], v), max(hi[c], v)
		}
	}
	for c := range 3 {
		if e := hi[c] - lo[c]; e > bx.extent {
			bx.axis, bx.extent = c, e
		}
	}
	return bx
}

func cellCoords(i int) [3]int {
	const m = 1<<histBits - 1
	return [3]int{i >> (2 * histBits) & m, i >> histBits & m, i & m}
}

// medianCut splits the populated histogram cells into at most n boxes,
// always splitting the box with the largest extent × population at its
// population median, and returns each box's mean colour.
func medianCut(hist *[1 << (3 * histBits)]bin, n int) color.Palette {
	var all []int
	for i := range hist {
		if hist[i].n > 0 {
			all = append(all, i)
		}
	}
	if len(all) == 0 || n <= 0 {
		return nil
	}
	boxes := []box{newBox(hist, all)}
	for len(boxes) < n {
		best, score := -1, uint64(0)
		for i, bx := range boxes {
			if len(bx.bins) < 2 {
				continue
			}
			if s := uint64(bx.extent) * bx.n; s > score || best < 0 {
				best, score = i, s
			}
		}
		if best < 0 {
			break
		}
		bx := boxes[best]
		slices.SortFunc(bx.bins, func(x, y int) int { return cellCoords(x)[bx.axis] - cellCoords(y)[bx.axis] })
		var acc uint64
		cut := 1
		for j, i := range bx.bins[:len(bx.bins)-1] {
			acc += hist[i].n
			cut = j + 1
			if acc*2 >= bx.n {
				break
			}
		}
		boxes[best] = newBox(hist, bx.bins[:cut:cut])
		boxes = append(boxes, newBox(hist, bx.bins[cut:]))
	}
	pal := make(color.Palette, 0, len(boxes))
	for _, bx := range boxes {
		var r, g, b uint64
		for _, i := range bx.bins {
			r, g, b = r+hist[i].r, g+hist[i].g, b+hist[i].b
		}
		pal = append(pal, color.RGBA{uint8(r / bx.n), uint8(g / bx.n), uint8(b / bx.n), 0xff})
	}
	return pal
}

// ditherInto maps src (opaque or fully transparent pixels only) onto dst's
// palette with Floyd-Steinberg error diffusion. Transparent pixels take the
// last palette entry and neither receive nor pass on error.
func ditherInto(dst *image.Paletted, src *image.RGBA, transparent bool) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	opaque := dst.Palette
	transIdx := uint8(0)
	if transparent {
		transIdx = uint8(len(opaque) - 1)
		opaque = opaque[:len(opaque)-1]
	}
	if len(opaque) == 0 {
		return // everything transparent: all pixels are already index 0
	}
	pal := make([][3]int32, len(opaque))
	for i, c := range opaque {
		r, g, b, _ := c.RGBA()
		pal[i] = [3]int32{int32(r >> 8), int32(g >> 8), int32(b >> 8)}
	}
	cache := make([]int16, 1<<(3*cacheBits))
	for i := range cache {
		cache[i] = -1
	}
	nearest := func(c [3]int32) uint8 {
		const s = 8 - cacheBits
		k := int(c[0])>>s<<(2*cacheBits) | int(c[1])>>s<<cacheBits | int(c[2])>>s
		if v := cache[k]; v >= 0 {
			return uint8(v)
		}
		best, bestD := 0, int32(1<<30)
		for i, p := range pal {
			dr, dg, db := c[0]-p[0], c[1]-p[1], c[2]-p[2]
			if d := dr*dr + dg*dg + db*db; d < bestD {
				best, bestD = i, d
			}
		}
		cache[k] = int16(best)
		return uint8(best)
	}

	// Error rows in 1/16 units, one pixel of padding either side.
	cur := make([][3]int32, w+2)
	next := make([][3]int32, w+2)
	for y := range h {
		clear(next)
		si := y * src.Stride
		di := y * dst.Stride
		for x := range w {
			p := src.Pix[si+4*x : si+4*x+4 : si+4*x+4]
			if p[3] == 0 {
				dst.Pix[di+x] = transIdx
				continue
			}
			var want [3]int32
			for c := range 3 {
				want[c] = min(max(int32(p[c])+cur[x+1][c]/16, 0), 255)
			}
			idx := nearest(want)
			dst.Pix[di+x] = idx
			for c := range 3 {
				e := want[c] - pal[idx][c]
				cur[x+2][c] += e * 7
				next[x][c] += e * 3
				next[x+1][c] += e * 5
				next[x+2][c] += e * 1
			}
		}
		cur, next = next, cur
	}
}
