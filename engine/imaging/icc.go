package imaging

import (
	"encoding/binary"
	"math"
)

// ICC profiles: reading the matrix/TRC model.
//
// An RGB display profile of the matrix/TRC kind (Display P3, Adobe RGB,
// ProPhoto, Rec.2020, sRGB and most camera and phone profiles) maps device
// RGB to the D50 profile connection space in two steps: a tone curve per
// channel (rTRC, gTRC, bTRC: "curv" tables or gammas, or "para" parametric
// curves) to linear light, then a 3×3 matrix whose columns are the rXYZ,
// gXYZ and bXYZ colorants. A gray profile has one curve (kTRC). That is the
// whole of what this file reads.
//
// Not covered: profiles whose only description is a lookup table (A2B0/B2A0
// of type mft1, mft2, mAB: most CMYK, Lab-PCS and some "perceptual" RGB
// profiles), named-colour and device-link profiles, and rendering intents
// other than relative colorimetric. A profile with both a LUT and a matrix
// is converted through its matrix.

// iccProfile is the part of an ICC profile the converter needs.
type iccProfile struct {
	space  string        // "RGB " or "GRAY"
	matrix [3][3]float64 // device linear RGB -> XYZ (D50); rows X, Y, Z
	curves [3]toneCurve  // device value (0..1) -> linear, per channel; one for gray
}

// toneCurve is an ICC curv or para tag.
type toneCurve struct {
	table  []float64  // sampled curve, evenly spaced over 0..1 (curv with 2+ entries)
	kind   int        // parametric function type 0..4, used when table is nil
	params [7]float64 // g, a, b, c, d, e, f
}

func (c *toneCurve) eval(x float64) float64 {
	x = min(max(x, 0), 1)
	if c.table != nil {
		p := x * float64(len(c.table)-1)
		i := int(p)
		if i >= len(c.table)-1 {
			return c.table[len(c.table)-1]
		}
		f := p - float64(i)
		return c.table[i]*(1-f) + c.table[i+1]*f
	}
	g, a, b, cc, d, e, f := c.params[0], c.params[1], c.params[2], c.params[3], c.params[4], c.params[5], c.params[6]
	pow := func(v float64) float64 {
		if v <= 0 {
			return 0
		}
		return math.Pow(v, g)
	}
	switch c.kind {
	case 1:
		if x >= -b/a {
			return pow(a*x + b)
		}
		return 0
	case 2:
		if x >= -b/a {
			return pow(a*x+b) + cc
		}
		return cc
	case 3:
		if x >= d {
			return pow(a*x + b)
		}
		return cc * x
	case 4:
		if x >= d {
			return pow(a*x+b) + e
		}
		return cc*x + f
	}
	return pow(x)
}

// d50 is the ICC profile connection space white.
var d50 = [3]float64{0.9642, 1.0, 0.8249}

// parseICC reads a matrix/TRC RGB or a gray TRC profile. ok is false for
// anything else (see the file comment), or for a malformed profile.
func parseICC(b []byte) (p iccProfile, ok bool) {
	if len(b) < 132 || string(b[36:40]) != "acsp" {
		return p, false
	}
	if size := binary.BigEndian.Uint32(b); size < 132 || uint64(size) > uint64(len(b)) {
		return p, false
	}
	b = b[:binary.BigEndian.Uint32(b)]
	p.space = string(b[16:20])
	if string(b[20:24]) != "XYZ " || (p.space != "RGB " && p.space != "GRAY") {
		return p, false
	}
	tags := map[string][]byte{}
	n := int(binary.BigEndian.Uint32(b[128:]))
	if n > (len(b)-132)/12 {
		return p, false
	}
	for i := range n {
		e := b[132+12*i:]
		off, size := uint64(binary.BigEndian.Uint32(e[4:])), uint64(binary.BigEndian.Uint32(e[8:]))
		if off+size > uint64(len(b)) || size < 8 {
			continue
		}
		tags[string(e[:4])] = b[off : off+size]
	}

	if p.space == "GRAY" {
		c, ok := parseCurve(tags["kTRC"])
		p.curves[0] = c
		return p, ok
	}
	var cols [3][3]float64
	for i, sig := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		xyz, ok := parseXYZ(tags[sig])
		if !ok {
			return p, false
		}
		cols[i] = xyz
		c, ok := parseCurve(tags[sig[:1]+"TRC"])
		if !ok {
			return p, false
		}
		p.curves[i] = c
	}
	// Colorants are relative to D50 already in every v4 profile and in v2
	// profiles that carry a chad tag. An old v2 profile without chad whose
	// white point is not D50 gives colorants relative to its own white:
	// adapt them (Bradford) so that device white lands on D50.
	if _, hasChad := tags["chad"]; !hasChad {
		if wt, ok := parseXYZ(tags["wtpt"]); ok && !nearWhite(wt, d50) {
			m := bradford(wt, d50)
			for i := range cols {
				cols[i] = mulVec(m, cols[i])
			}
		}
	}
	for r := range 3 {
		for c := range 3 {
			p.matrix[r][c] = cols[c][r]
		}
	}
	return p, true
}

func nearWhite(a, b [3]float64) bool {
	return math.Abs(a[0]-b[0]) < 0.002 && math.Abs(a[1]-b[1]) < 0.002 && math.Abs(a[2]-b[2]) < 0.002
}

func s15f16(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

func parseXYZ(t []byte) ([3]float64, bool) {
	if len(t) < 20 || string(t[:4]) != "XYZ " {
		return [3]float64{}, false
	}
	return [3]float64{s15f16(t[8:]), s15f16(t[12:]), s15f16(t[16:])}, true
}

// parseCurve reads a curv or para tag into a toneCurve.
func parseCurve(t []byte) (toneCurve, bool) {
	var c toneCurve
	if len(t) < 12 {
		return c, false
	}
	switch string(t[:4]) {
	case "curv":
		n := int(binary.BigEndian.Uint32(t[8:]))
		switch {
		case n == 0:
			c.params[0] = 1 // identity
		case n == 1:
			if len(t) < 14 {
				return c, false
			}
			c.params[0] = float64(binary.BigEndian.Uint16(t[12:])) / 256 // u8Fixed8 gamma
		default:
			if n > (len(t)-12)/2 {
				return c, false
			}
			c.table = make([]float64, n)
			for i := range n {
				c.table[i] = float64(binary.BigEndian.Uint16(t[12+2*i:])) / 65535
			}
		}
		return c, true
	case "para":
		kind := int(binary.BigEndian.Uint16(t[8:]))
		count := [...]int{1, 3, 4, 5, 7}
		if kind > 4 || len(t) < 12+4*count[kind] {
			return c, false
		}
		c.kind = kind
		for i := range count[kind] {
			c.params[i] = s15f16(t[12+4*i:])
		}
		if kind > 0 && c.params[1] == 0 {
			return c, false // a = 0 divides by zero in the domain test
		}
		return c, true
	}
	return c, false
}

// srgbD50 is the sRGB colorant matrix adapted to D50 with Bradford, as in
// the sRGB profiles browsers ship: linear sRGB -> XYZ (D50).
var srgbD50 = [3][3]float64{
	{0.4360747, 0.3850649, 0.1430804},
	{0.2225045, 0.7168786, 0.0606169},
	{0.0139322, 0.0971045, 0.7141733},
}

// isSRGB tells whether p describes sRGB closely enough that converting would
// change no 8-bit value.
func (p *iccProfile) isSRGB() bool {
	if p.space != "RGB " {
		return false
	}
	for r := range 3 {
		for c := range 3 {
			if math.Abs(p.matrix[r][c]-srgbD50[r][c]) > 0.0015 {
				return false
			}
		}
	}
	for _, c := range p.curves {
		for _, x := range []float64{0.02, 0.1, 0.25, 0.5, 0.75, 0.9} {
			if math.Abs(c.eval(x)-srgbToLinear(x)) > 0.001 {
				return false
			}
		}
	}
	return true
}

func srgbToLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func linearToSRGB(v float64) float64 {
	if v <= 0.0031308 {
		return v * 12.92
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

// bradford returns the matrix adapting XYZ colours from white src to dst.
func bradford(src, dst [3]float64) [3][3]float64 {
	m := [3][3]float64{{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}}
	s, d := mulVec(m, src), mulVec(m, dst)
	var scale [3][3]float64
	for i := range 3 {
		scale[i][i] = d[i] / s[i]
	}
	inv, _ := invert3(m)
	return mul3(inv, mul3(scale, m))
}

func mulVec(m [3][3]float64, v [3]float64) [3]float64 {
	return [3]float64{
		m[0][0]*v[0] + m[0][1]*v[1] + m[0][2]*v[2],
		m[1][0]*v[0] + m[1][1]*v[1] + m[1][2]*v[2],
		m[2][0]*v[0] + m[2][1]*v[1] + m[2][2]*v[2],
	}
}

func mul3(a, b [3][3]float64) [3][3]float64 {
	var out [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				out[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return out
}

func invert3(m [3][3]float64) ([3][3]float64, bool) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if math.Abs(det) < 1e-12 {
		return [3][3]float64{}, false
	}
	var inv [3][3]float64
	inv[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) / det
	inv[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / det
	inv[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / det
	inv[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) / det
	inv[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / det
	inv[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / det
	inv[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) / det
	inv[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / det
	inv[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / det
	return inv, true
}
