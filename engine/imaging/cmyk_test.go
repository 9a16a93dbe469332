package imaging

import (
	"bytes"
	"image"
	"math"
	"testing"
)

// flatJPEG writes a baseline JPEG of bw×bh 8×8 blocks in which every block
// of every component is flat: sample(bx, by, c) is its value. Flat blocks
// need only DC coefficients, so the whole encoder is a DC difference coder
// with a fixed Huffman table (category c gets the 4-bit code c) and an
// end-of-block code per block. Go's encoder cannot write four components;
// this can. adobe < 0 leaves out the Adobe APP14 segment; otherwise it is
// the segment's transform (0: CMYK, 2: YCCK).
func flatJPEG(bw, bh, comps, adobe int, sample func(bx, by, c int) uint8) []byte {
	b := []byte{0xff, 0xd8}
	if adobe >= 0 {
		b = append(b, 0xff, 0xee, 0, 14)
		b = append(b, "Adobe\x00\x64\x00\x00\x00\x00"...)
		b = append(b, byte(adobe))
	}
	b = append(b, 0xff, 0xdb, 0, 67, 0x00) // DQT: table 0, all ones
	b = append(b, bytes.Repeat([]byte{1}, 64)...)
	b = append(b, 0xff, 0xc0, 0, byte(8+3*comps), 8, byte(bh*8>>8), byte(bh*8), byte(bw*8>>8), byte(bw*8), byte(comps))
	for id := 1; id <= comps; id++ {
		b = append(b, byte(id), 0x11, 0)
	}
	// DC table: 12 codes of length 4 for categories 0..11.
	b = append(b, 0xff, 0xc4, 0, 3+16+12, 0x00, 0, 0, 0, 12)
	b = append(b, make([]byte, 12)...)
	for c := range 12 {
		b = append(b, byte(c))
	}
	// AC table: end-of-block only, code "0".
	b = append(b, 0xff, 0xc4, 0, 3+16+1, 0x10, 1)
	b = append(b, make([]byte, 15)...)
	b = append(b, 0x00)
	b = append(b, 0xff, 0xda, 0, byte(6+2*comps), byte(comps))
	for id := 1; id <= comps; id++ {
		b = append(b, byte(id), 0x00)
	}
	b = append(b, 0, 63, 0)

	var acc uint32
	var n uint
	put := func(v uint32, bits uint) {
		for i := int(bits) - 1; i >= 0; i-- {
			acc = acc<<1 | (v>>uint(i))&1
			n++
			if n == 8 {
				b = append(b, byte(acc))
				if byte(acc) == 0xff {
					b = append(b, 0) // byte stuffing
				}
				acc, n = 0, 0
			}
		}
	}
	prev := make([]int, comps)
	for by := range bh {
		for bx := range bw {
			for c := range comps {
				dc := 8 * (int(sample(bx, by, c)) - 128)
				diff := dc - prev[c]
				prev[c] = dc
				cat := uint(0)
				for a := abs(diff); a > 0; a >>= 1 {
					cat++
				}
				put(uint32(cat), 4)
				if diff < 0 {
					diff += 1<<cat - 1
				}
				put(uint32(diff), cat)
				put(0, 1) // end of block
			}
		}
	}
	for n != 0 {
		put(1, 1)
	}
	return append(b, 0xff, 0xd9)
}

// Ink amounts (0 none, 255 full) of the test patches.
var cmykPatches = [][4]uint8{
	{0, 0, 0, 0},         // paper white
	{255, 0, 0, 0},       // cyan
	{0, 255, 0, 0},       // magenta
	{0, 0, 255, 0},       // yellow
	{0, 0, 0, 128},       // 50% black
	{20, 60, 90, 10},     // a skin tone
	{200, 120, 0, 40},    // a blue
	{255, 255, 255, 255}, // rich black
}

// naiveCMYK is the conversion used without a CMYK profile, in float64.
func naiveCMYK(c [4]uint8) [3]uint8 {
	k := 1 - float64(c[3])/255
	var out [3]uint8
	for i := range 3 {
		out[i] = uint8(math.Round(255 * (1 - float64(c[i])/255) * k))
	}
	return out
}

func TestCMYKAndYCCK(t *testing.T) {
	const bw, bh = 4, 2
	ink := func(bx, by int) [4]uint8 { return cmykPatches[by*bw+bx] }
	for _, tt := range []struct {
		name    string
		adobe   int
		stored  func(ink [4]uint8, c int) uint8
		maxMean float64
	}{
		{"Adobe CMYK (inverted)", 0, func(ink [4]uint8, c int) uint8 { return 255 - ink[c] }, 0.3},
		{"plain CMYK, no Adobe marker (not inverted)", -1, func(ink [4]uint8, c int) uint8 { return ink[c] }, 0.3},
		{"Adobe YCCK", 2, func(ink [4]uint8, c int) uint8 {
			if c == 3 {
				return 255 - ink[3]
			}
			// As libjpeg writes it: the stored (Adobe-inverted) CMY are
			// complemented, which gives the ink amounts back, and those are
			// coded as if they were RGB. K is stored inverted.
			r, g, b := float64(ink[0]), float64(ink[1]), float64(ink[2])
			v := [3]float64{
				0.299*r + 0.587*g + 0.114*b,
				-0.1687*r - 0.3313*g + 0.5*b + 128,
				0.5*r - 0.4187*g - 0.0813*b + 128,
			}[c]
			return uint8(min(max(math.Round(v), 0), 255))
		}, 1.0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := flatJPEG(bw, bh, 4, tt.adobe, func(bx, by, c int) uint8 { return tt.stored(ink(bx, by), c) })
			img, info, err := Decode(bytes.NewReader(data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != 32 || info.Height != 16 {
				t.Fatalf("size %dx%d", info.Width, info.Height)
			}
			if _, ok := img.(*image.NRGBA); !ok {
				t.Errorf("decoded to %T, want *image.NRGBA", img)
			}
			var mean, worst float64
			for i, p := range cmykPatches {
				got := rgbAt(img, i%bw*8+4, i/bw*8+4)
				d := deltaE(got, naiveCMYK(p))
				mean += d / float64(len(cmykPatches))
				worst = max(worst, d)
				if d > 3 {
					t.Errorf("ink %v: got %v, want %v (ΔE %.2f)", p, got, naiveCMYK(p), d)
				}
			}
			t.Logf("%s: mean ΔE %.3f, max %.3f", tt.name, mean, worst)
			if mean > tt.maxMean {
				t.Errorf("mean ΔE %.3f over %.1f", mean, tt.maxMean)
			}
		})
	}
}

// The flat-block writer itself, checked where image/jpeg has an answer of
// its own: a three-component YCbCr file.
func TestFlatJPEGWriter(t *testing.T) {
	data := flatJPEG(2, 1, 3, -1, func(bx, _, c int) uint8 { return [][3]uint8{{200, 128, 128}, {30, 128, 128}}[bx][c] })
	img, _, err := Decode(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for bx, want := range []uint8{200, 30} {
		if got := rgbAt(img, bx*8+3, 3); got != [3]uint8{want, want, want} {
			t.Errorf("block %d = %v, want gray %d", bx, got, want)
		}
	}
}
