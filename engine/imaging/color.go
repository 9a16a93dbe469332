package imaging

import (
	"image"
	"math"

	"golang.org/x/image/draw"
)

// ColorPolicy says what Decode does with an embedded ICC profile.
type ColorPolicy int

const (
	// ConvertToSRGB (the default) converts the pixels of a matrix/TRC RGB
	// or gray profile to sRGB and drops the profile. A profile it cannot
	// convert (LUT-based) is kept in Decoded.ICC, for the encoder to embed.
	ConvertToSRGB ColorPolicy = iota
	// KeepProfile leaves the pixels alone and keeps every RGB or gray
	// profile in Decoded.ICC.
	KeepProfile
)

// outLUTSize samples linear light for the sRGB encoding: fine enough that
// the darkest steps (where sRGB is steepest) stay under half a code value.
const outLUTSize = 1 << 14

// srgbFromD50 maps XYZ (D50) to linear sRGB.
var srgbFromD50, _ = invert3(srgbD50)

// srgbEncode8 maps linear light (as an index into 0..outLUTSize-1) to 8-bit sRGB.
var srgbEncode8 = func() []uint8 {
	t := make([]uint8, outLUTSize)
	for i := range t {
		t[i] = uint8(math.Round(linearToSRGB(float64(i)/(outLUTSize-1)) * 255))
	}
	return t
}()

func encodeIndex(v float64) int {
	switch {
	case !(v > 0): // also NaN, which a hostile profile's matrix or curve can produce
		return 0
	case v >= 1:
		return outLUTSize - 1
	}
	return int(v*(outLUTSize-1) + 0.5)
}

// toSRGB converts img, whose colours are in profile p, to sRGB. It returns
// an *image.NRGBA for an RGB profile and an *image.Gray for a gray one, or
// ok false if the image and the profile do not match (a gray profile on a
// colour image).
func (p *iccProfile) toSRGB(img image.Image) (image.Image, bool) {
	deep := false
	switch img.(type) {
	case *image.Gray16, *image.RGBA64, *image.NRGBA64:
		deep = true
	}
	b := img.Bounds()
	if p.space == "GRAY" {
		var gray image.Image
		switch src := img.(type) {
		case *image.Gray, *image.Gray16:
			gray = src
		default:
			return nil, false
		}
		lut := p.inputLUT(0, deep)
		dst := image.NewGray(image.Rectangle{Max: b.Size()})
		for y := range b.Dy() {
			row := dst.Pix[y*dst.Stride:]
			for x := range b.Dx() {
				var v float64
				if g16, ok := gray.(*image.Gray16); ok {
					v = lut.at16(g16.Gray16At(b.Min.X+x, b.Min.Y+y).Y)
				} else {
					v = lut.at8(gray.(*image.Gray).GrayAt(b.Min.X+x, b.Min.Y+y).Y)
				}
				row[x] = srgbEncode8[encodeIndex(v)]
			}
		}
		return dst, true
	}

	m := mul3(srgbFromD50, p.matrix)
	luts := [3]inputLUT{p.inputLUT(0, deep), p.inputLUT(1, deep), p.inputLUT(2, deep)}
	apply := func(r, g, bl float64) (uint8, uint8, uint8) {
		return srgbEncode8[encodeIndex(m[0][0]*r+m[0][1]*g+m[0][2]*bl)],
			srgbEncode8[encodeIndex(m[1][0]*r+m[1][1]*g+m[1][2]*bl)],
			srgbEncode8[encodeIndex(m[2][0]*r+m[2][1]*g+m[2][2]*bl)]
	}
	if deep {
		src := image.NewNRGBA64(image.Rectangle{Max: b.Size()})
		draw.Draw(src, src.Rect, img, b.Min, draw.Src)
		dst := image.NewNRGBA(src.Rect)
		for y := range b.Dy() {
			s := src.Pix[y*src.Stride:][:8*b.Dx()]
			d := dst.Pix[y*dst.Stride:][:4*b.Dx()]
			for i, j := 0, 0; i < len(s); i, j = i+8, j+4 {
				d[j], d[j+1], d[j+2] = apply(
					luts[0].at16(uint16(s[i])<<8|uint16(s[i+1])),
					luts[1].at16(uint16(s[i+2])<<8|uint16(s[i+3])),
					luts[2].at16(uint16(s[i+4])<<8|uint16(s[i+5])))
				d[j+3] = uint8((uint32(s[i+6])<<8 | uint32(s[i+7]) + 128) / 257)
			}
		}
		return dst, true
	}
	dst := ToNRGBA(img)
	if sharesPixels(img, dst) { // converted in place below: never touch the caller's image
		own := image.NewNRGBA(dst.Rect)
		copy(own.Pix, dst.Pix)
		dst = own
	}
	for y := range b.Dy() {
		d := dst.Pix[y*dst.Stride:][:4*b.Dx()]
		for j := 0; j < len(d); j += 4 {
			d[j], d[j+1], d[j+2] = apply(luts[0].at8(d[j]), luts[1].at8(d[j+1]), luts[2].at8(d[j+2]))
		}
	}
	return dst, true
}

// sharesPixels tells whether ToNRGBA returned a view of img's own pixels.
func sharesPixels(img image.Image, n *image.NRGBA) bool {
	if len(n.Pix) == 0 {
		return false
	}
	switch m := img.(type) {
	case *image.NRGBA:
		return len(m.Pix) > 0 && &m.Pix[0] == &n.Pix[0]
	case *image.RGBA:
		return len(m.Pix) > 0 && &m.Pix[0] == &n.Pix[0]
	}
	return false
}

// inputLUT holds a tone curve sampled for 8-bit input (256 entries, exact)
// or 16-bit input (4097 entries, interpolated).
type inputLUT struct {
	t    []float64
	deep bool
}

func (p *iccProfile) inputLUT(ch int, deep bool) inputLUT {
	n := 256
	if deep {
		n = 4097
	}
	t := make([]float64, n)
	for i := range t {
		t[i] = p.curves[ch].eval(float64(i) / float64(n-1))
	}
	return inputLUT{t: t, deep: deep}
}

func (l inputLUT) at8(v uint8) float64 { return l.t[v] }

func (l inputLUT) at16(v uint16) float64 {
	if !l.deep {
		return l.t[(uint32(v)+128)/257]
	}
	p := float64(v) * 4096 / 65535
	i := int(p)
	if i >= 4096 {
		return l.t[4096]
	}
	f := p - float64(i)
	return l.t[i]*(1-f) + l.t[i+1]*f
}

// ToSRGB converts img, whose pixels are in the profile icc (Decoded.ICC of
// an image decoded with KeepProfile), to sRGB when the profile is one this
// package converts. It returns the result and the profile the result is
// still in: nil once converted, icc when it could not be. A caller whose
// outputs differ in their colour policy decodes once with KeepProfile and
// calls this for the outputs that want sRGB.
func ToSRGB(img image.Image, icc []byte) (image.Image, []byte) {
	if icc == nil {
		return img, nil
	}
	out, still, _ := applyProfile(img, icc, ConvertToSRGB)
	return out, still
}
