// Package samples generates photo-like test images: smooth gradients,
// sharp-edged shapes and sensor-like noise, so that decoders, resamplers and
// encoders work as hard as they would on a real photograph.
package samples

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
)

// Photo returns a w×h opaque image that is deterministic for a seed.
func Photo(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	// A few discs and bars with hard edges over a two-axis gradient.
	type disc struct {
		x, y, r float64
		c       [3]float64
	}
	discs := make([]disc, 6)
	for i := range discs {
		discs[i] = disc{
			x: rng.Float64() * float64(w), y: rng.Float64() * float64(h),
			r: (0.05 + rng.Float64()*0.2) * float64(min(w, h)),
			c: [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255},
		}
	}
	top := [3]float64{60 + rng.Float64()*80, 110 + rng.Float64()*80, 180 + rng.Float64()*70}
	bottom := [3]float64{90 + rng.Float64()*60, 70 + rng.Float64()*60, 40 + rng.Float64()*40}
	stripe := 8 + rng.IntN(24)
	noise := rng.Uint64()

	for y := 0; y < h; y++ {
		fy := float64(y) / float64(max(h-1, 1))
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := 0; x < w; x++ {
			fx := float64(x) / float64(max(w-1, 1))
			var c [3]float64
			for k := range c {
				c[k] = top[k]*(1-fy) + bottom[k]*fy + 25*math.Sin(6*fx+float64(k))
			}
			for _, d := range discs {
				dx, dy := float64(x)-d.x, float64(y)-d.y
				if dx*dx+dy*dy < d.r*d.r {
					c = d.c
				}
			}
			if fy > 0.8 && (x/stripe)%2 == 0 {
				c = [3]float64{230, 230, 220}
			}
			// Cheap per-pixel hash noise, like sensor grain.
			n := hash(noise ^ uint64(y)<<32 ^ uint64(x))
			for k := range c {
				v := c[k] + float64(int(n>>(8*k)&0x1f)-16)
				row[4*x+k] = uint8(min(max(v, 0), 255))
			}
			row[4*x+3] = 255
		}
	}
	return img
}

func hash(v uint64) uint64 {
	v ^= v >> 33
	v *= 0xff51afd7ed558ccd
	v ^= v >> 33
	v *= 0xc4ceb9fe1a85ec53
	v ^= v >> 33
	return v
}

// JPEG returns Photo(w, h, seed) encoded as a JPEG of the given quality.
func JPEG(w, h int, seed uint64, quality int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Photo(w, h, seed), &jpeg.Options{Quality: quality}); err != nil {
		panic(err) // writing to memory cannot fail
	}
	return buf.Bytes()
}

// PNGWithAlpha returns a PNG: a photo inside a soft-edged transparent frame.
func PNGWithAlpha(w, h int, seed uint64) []byte {
	src := Photo(w, h, seed)
	img := image.NewNRGBA(src.Bounds())
	cx, cy := float64(w)/2, float64(h)/2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := src.RGBAAt(x, y)
			dx, dy := (float64(x)-cx)/cx, (float64(y)-cy)/cy
			a := 1.4 - math.Sqrt(dx*dx+dy*dy)
			img.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, uint8(255 * min(max(a, 0), 1))})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
