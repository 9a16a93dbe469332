package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"testing"
)

// ICC profiles are built here, byte by byte, from the published primaries
// and tone curves of each colour space. The reference conversion is computed
// independently of the code under test: it goes straight from the source
// space to XYZ under the source's own white and on to sRGB, in float64,
// without the D50 connection space the implementation works through.

type chromaticity struct{ x, y float64 }

type colourSpace struct {
	name       string
	r, g, b, w chromaticity
	decode     func(v float64) float64 // the space's transfer function, to linear
	curve      func(ch int) []byte     // its TRC tag
}

var (
	whiteD65 = chromaticity{0.3127, 0.3290}
	whiteD50 = chromaticity{0.3457, 0.3585}

	srgbSpace = colourSpace{name: "sRGB", r: chromaticity{0.64, 0.33}, g: chromaticity{0.30, 0.60}, b: chromaticity{0.15, 0.06}, w: whiteD65}

	displayP3 = colourSpace{
		name: "Display P3",
		r:    chromaticity{0.680, 0.320}, g: chromaticity{0.265, 0.690}, b: chromaticity{0.150, 0.060}, w: whiteD65,
		decode: srgbDecodeRef,
		curve:  func(int) []byte { return paraTag(3, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045) },
	}
	adobeRGB = colourSpace{
		name: "Adobe RGB (1998)",
		r:    chromaticity{0.64, 0.33}, g: chromaticity{0.21, 0.71}, b: chromaticity{0.15, 0.06}, w: whiteD65,
		decode: func(v float64) float64 { return math.Pow(v, 563.0/256) },
		curve:  func(int) []byte { return curvGammaTag(563.0 / 256) },
	}
	// ProPhoto with a sampled 1.8 gamma, large enough that the profile
	// needs two JPEG APP2 segments.
	proPhoto = colourSpace{
		name: "ProPhoto RGB",
		r:    chromaticity{0.7347, 0.2653}, g: chromaticity{0.1596, 0.8404}, b: chromaticity{0.0366, 0.0001}, w: whiteD50,
		decode: func(v float64) float64 { return math.Pow(v, 1.8) },
		curve: func(int) []byte {
			t := make([]uint16, 12000)
			for i := range t {
				t[i] = uint16(math.Round(math.Pow(float64(i)/float64(len(t)-1), 1.8) * 65535))
			}
			return curvTableTag(t)
		},
	}
	rec2020 = colourSpace{
		name: "Rec. 2020",
		r:    chromaticity{0.708, 0.292}, g: chromaticity{0.170, 0.797}, b: chromaticity{0.131, 0.046}, w: whiteD65,
		decode: func(v float64) float64 {
			if v < 0.081 {
				return v / 4.5
			}
			return math.Pow((v+0.099)/1.099, 1/0.45)
		},
		curve: func(int) []byte { return paraTag(3, 1/0.45, 1/1.099, 0.099/1.099, 1/4.5, 0.081) },
	}
)

func srgbDecodeRef(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func srgbEncodeRef(v float64) float64 {
	v = min(max(v, 0), 1)
	if v <= 0.0031308 {
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

func xyzOf(c chromaticity) [3]float64 { return [3]float64{c.x / c.y, 1, (1 - c.x - c.y) / c.y} }

// toXYZ is the RGB -> XYZ matrix of a space under its own white.
func (s colourSpace) toXYZ() [3][3]float64 {
	var p [3][3]float64
	for c, prim := range []chromaticity{s.r, s.g, s.b} {
		v := xyzOf(prim)
		for r := range 3 {
			p[r][c] = v[r]
		}
	}
	inv, _ := invert3(p)
	scale := mulVec(inv, xyzOf(s.w))
	for r := range 3 {
		for c := range 3 {
			p[r][c] *= scale[c]
		}
	}
	return p
}

// iccFor builds a v4 matrix/TRC display profile: colorants adapted to D50
// with Bradford, a chad tag saying so, a D50 media white.
func iccFor(s colourSpace) []byte {
	adapt := bradford(xyzOf(s.w), d50)
	m := mul3(adapt, s.toXYZ())
	tags := map[string][]byte{
		"wtpt": xyzTag(d50),
		"chad": sf32Tag(adapt),
		"rTRC": s.curve(0), "gTRC": s.curve(1), "bTRC": s.curve(2),
	}
	for c, sig := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		tags[sig] = xyzTag([3]float64{m[0][c], m[1][c], m[2][c]})
	}
	return buildICC("RGB ", tags)
}

func buildICC(space string, tags map[string][]byte) []byte {
	sigs := make([]string, 0, len(tags))
	for sig := range tags {
		sigs = append(sigs, sig)
	}
	// Deterministic layout.
	for i := range sigs {
		for j := i + 1; j < len(sigs); j++ {
			if sigs[j] < sigs[i] {
				sigs[i], sigs[j] = sigs[j], sigs[i]
			}
		}
	}
	hdr := make([]byte, 128)
	binary.BigEndian.PutUint32(hdr[8:], 0x04300000)
	copy(hdr[12:], "mntr")
	copy(hdr[16:], space)
	copy(hdr[20:], "XYZ ")
	copy(hdr[36:], "acsp")
	copy(hdr[68:], xyzTag(d50)[8:])
	table := binary.BigEndian.AppendUint32(nil, uint32(len(sigs)))
	var data []byte
	off := 128 + 4 + 12*len(sigs)
	for _, sig := range sigs {
		t := tags[sig]
		table = append(table, sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(data)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t)))
		data = append(data, t...)
		for len(data)%4 != 0 {
			data = append(data, 0)
		}
	}
	out := append(append(hdr, table...), data...)
	binary.BigEndian.PutUint32(out, uint32(len(out)))
	return out
}

func s15(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536))))
}

func xyzTag(v [3]float64) []byte {
	t := []byte("XYZ \x00\x00\x00\x00")
	for _, c := range v {
		t = append(t, s15(c)...)
	}
	return t
}

func sf32Tag(m [3][3]float64) []byte {
	t := []byte("sf32\x00\x00\x00\x00")
	for r := range 3 {
		for c := range 3 {
			t = append(t, s15(m[r][c])...)
		}
	}
	return t
}

func paraTag(kind uint16, params ...float64) []byte {
	t := []byte("para\x00\x00\x00\x00")
	t = binary.BigEndian.AppendUint16(t, kind)
	t = append(t, 0, 0)
	for _, p := range params {
		t = append(t, s15(p)...)
	}
	return t
}

func curvGammaTag(g float64) []byte {
	t := []byte("curv\x00\x00\x00\x00\x00\x00\x00\x01")
	return binary.BigEndian.AppendUint16(t, uint16(math.Round(g*256)))
}

func curvTableTag(v []uint16) []byte {
	t := binary.BigEndian.AppendUint32([]byte("curv\x00\x00\x00\x00"), uint32(len(v)))
	for _, x := range v {
		t = binary.BigEndian.AppendUint16(t, x)
	}
	return t
}

// reference converts 8-bit values in space s to 8-bit sRGB, clipping out of
// gamut colours in linear light, with a chromatic adaptation (Bradford)
// only when the whites differ.
func (s colourSpace) reference() func(r, g, b uint8) [3]uint8 {
	m := s.toXYZ()
	if s.w != whiteD65 {
		m = mul3(bradford(xyzOf(s.w), xyzOf(whiteD65)), m)
	}
	toSRGB, _ := invert3(srgbSpace.toXYZ())
	m = mul3(toSRGB, m)
	return func(r, g, b uint8) [3]uint8 {
		lin := mulVec(m, [3]float64{s.decode(float64(r) / 255), s.decode(float64(g) / 255), s.decode(float64(b) / 255)})
		var out [3]uint8
		for i, v := range lin {
			out[i] = uint8(math.Round(srgbEncodeRef(v) * 255))
		}
		return out
	}
}

// lab converts 8-bit sRGB to CIELAB (D65).
func lab(c [3]uint8) [3]float64 {
	xyz := mulVec(srgbSpace.toXYZ(), [3]float64{
		srgbDecodeRef(float64(c[0]) / 255), srgbDecodeRef(float64(c[1]) / 255), srgbDecodeRef(float64(c[2]) / 255),
	})
	w := xyzOf(whiteD65)
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(xyz[0]/w[0]), f(xyz[1]/w[1]), f(xyz[2]/w[2])
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

func deltaE(a, b [3]uint8) float64 {
	la, lb := lab(a), lab(b)
	return math.Sqrt((la[0]-lb[0])*(la[0]-lb[0]) + (la[1]-lb[1])*(la[1]-lb[1]) + (la[2]-lb[2])*(la[2]-lb[2]))
}

func rgbAt(img image.Image, x, y int) [3]uint8 {
	c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	return [3]uint8{c.R, c.G, c.B}
}

// meanDeltaE compares every pixel of got with ref(pixel of src).
func meanDeltaE(src, got image.Image, ref func(r, g, b uint8) [3]uint8) (mean, worst float64) {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			s := rgbAt(src, x, y)
			d := deltaE(rgbAt(got, x, y), ref(s[0], s[1], s[2]))
			mean += d
			worst = max(worst, d)
		}
	}
	return mean / float64(b.Dx()*b.Dy()), worst
}

// patches returns a 36×36 image of 6×6×6 colour levels, each a 6×6 patch
// (flat enough to survive JPEG), covering the gamut corners.
func patches() *image.NRGBA {
	levels := []uint8{0, 40, 96, 160, 220, 255}
	img := image.NewNRGBA(image.Rect(0, 0, 36*6, 6*6))
	for i := range 216 {
		c := color.NRGBA{levels[i/36], levels[i/6%6], levels[i%6], 255}
		px, py := i%36*6, i/36*6
		for y := py; y < py+6; y++ {
			for x := px; x < px+6; x++ {
				img.SetNRGBA(x, y, c)
			}
		}
	}
	return img
}

func withICCInPNG(p, icc []byte) []byte { return pngWithICC(p, icc) }

func TestProfileConversionToSRGB(t *testing.T) {
	const maxMean, maxWorst = 0.35, 1.5 // CIE76 ΔE against the reference
	src := patches()
	containers := map[string]func(t testing.TB, icc []byte) []byte{
		"png": func(t testing.TB, icc []byte) []byte { return withICCInPNG(encodePNG(t, src), icc) },
		"jpeg": func(t testing.TB, icc []byte) []byte {
			return jpegWithICC(encodeJPEG(t, src, 95), icc)
		},
		"webp": func(t testing.TB, icc []byte) []byte {
			var buf bytes.Buffer
			if err := EncodeWith(&buf, src, WebP, EncodeOptions{Quality: 95, ICC: icc}); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		},
	}
	for _, cs := range []colourSpace{displayP3, adobeRGB, proPhoto, rec2020} {
		icc := iccFor(cs)
		ref := cs.reference()
		for _, container := range []string{"png", "jpeg", "webp"} {
			t.Run(cs.name+"/"+container, func(t *testing.T) {
				data := containers[container](t, icc)
				kept, err := DecodeWith(bytes.NewReader(data), DecodeOptions{Color: KeepProfile})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(kept.ICC, icc) || kept.Converted {
					t.Fatalf("KeepProfile: ICC of %d bytes (want %d), converted %v", len(kept.ICC), len(icc), kept.Converted)
				}
				conv, err := DecodeWith(bytes.NewReader(data), DecodeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if conv.ICC != nil || !conv.Converted {
					t.Fatalf("ConvertToSRGB: ICC %d bytes, converted %v", len(conv.ICC), conv.Converted)
				}
				// The reference starts from the pixels as stored (after any
				// lossy coding), so only the conversion is measured.
				mean, worst := meanDeltaE(kept.Image, conv.Image, ref)
				naive, _ := meanDeltaE(kept.Image, kept.Image, ref)
				t.Logf("%s in %s (%d-byte profile): mean ΔE %.3f, max %.3f; unconverted mean ΔE %.2f",
					cs.name, container, len(icc), mean, worst, naive)
				if mean > maxMean || worst > maxWorst {
					t.Errorf("mean ΔE %.3f (limit %.2f), max %.3f (limit %.1f)", mean, maxMean, worst, maxWorst)
				}
				if naive < 2 {
					t.Errorf("unconverted mean ΔE only %.2f: the test colours do not tell the spaces apart", naive)
				}
			})
		}
	}
}

func countAPP2(jpg []byte) int {
	n := 0
	for i := 2; i+4 <= len(jpg) && jpg[i] == 0xff && jpg[i+1] != 0xda; {
		if jpg[i+1] == 0xe2 {
			n++
		}
		i += 2 + int(binary.BigEndian.Uint16(jpg[i+2:]))
	}
	return n
}

// A profile not converted is embedded in the output: JPEG APP2 (split in
// 64 KB segments), PNG iCCP, WebP ICCP; read back byte for byte.
func TestEncodeEmbedsProfile(t *testing.T) {
	src := patches()
	for _, cs := range []colourSpace{displayP3, proPhoto} {
		icc := iccFor(cs)
		for _, format := range []string{JPEG, PNG, WebP} {
			t.Run(cs.name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := EncodeWith(&buf, src, format, EncodeOptions{ICC: icc}); err != nil {
					t.Fatal(err)
				}
				d, err := DecodeWith(bytes.NewReader(buf.Bytes()), DecodeOptions{Color: KeepProfile})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(d.ICC, icc) {
					t.Errorf("read back %d profile bytes, want the %d written", len(d.ICC), len(icc))
				}
				if format == JPEG {
					if got, want := countAPP2(buf.Bytes()), (len(icc)+65518)/65519; got != want {
						t.Errorf("%d APP2 segments, want %d", got, want)
					}
				}
			})
		}
	}
}

func TestProfilesNotConverted(t *testing.T) {
	src := patches()
	srgb := iccFor(colourSpace{
		name: "sRGB", r: srgbSpace.r, g: srgbSpace.g, b: srgbSpace.b, w: whiteD65,
		curve: displayP3.curve, // the sRGB curve
	})
	// A LUT-only RGB profile: A2B0 and no colorants.
	lut := buildICC("RGB ", map[string][]byte{"wtpt": xyzTag(d50), "A2B0": []byte("mft2\x00\x00\x00\x00\x03\x03\x02\x00")})
	cmykProfile := buildICC("CMYK", map[string][]byte{"A2B0": []byte("mft2\x00\x00\x00\x00\x04\x03\x02\x00")})
	for _, tt := range []struct {
		name    string
		icc     []byte
		wantICC bool // kept for the encoder to embed
	}{
		{"sRGB: nothing to do", srgb, false},
		{"LUT-based RGB: kept", lut, true},
		{"CMYK profile on RGB pixels: dropped", cmykProfile, false},
		{"garbage: dropped", []byte("not a profile at all, really not"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DecodeWith(bytes.NewReader(withICCInPNG(encodePNG(t, src), tt.icc)), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Converted || (d.ICC != nil) != tt.wantICC {
				t.Errorf("converted %v, ICC kept %v; want not converted, kept %v", d.Converted, d.ICC != nil, tt.wantICC)
			}
			if mean, _ := meanDeltaE(src, d.Image, func(r, g, b uint8) [3]uint8 { return [3]uint8{r, g, b} }); mean != 0 {
				t.Errorf("pixels changed: mean ΔE %.3f", mean)
			}
		})
	}
}

// A gray image with a gray (gamma 1.8) profile stays gray and is converted
// along the neutral axis.
func TestGrayProfile(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 256, 1))
	for x := range 256 {
		src.Pix[x] = uint8(x)
	}
	icc := buildICC("GRAY", map[string][]byte{"wtpt": xyzTag(d50), "kTRC": curvGammaTag(1.8)})
	d, err := DecodeWith(bytes.NewReader(withICCInPNG(encodePNG(t, src), icc)), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, ok := d.Image.(*image.Gray)
	if !ok || !d.Converted {
		t.Fatalf("decoded %T, converted %v; want *image.Gray, converted", d.Image, d.Converted)
	}
	worst := 0
	for x := range 256 {
		want := int(math.Round(srgbEncodeRef(math.Pow(float64(x)/255, 1.8)) * 255))
		worst = max(worst, abs(int(g.Pix[x])-want))
	}
	if worst > 1 {
		t.Errorf("gray conversion off by up to %d levels", worst)
	}
}

func abs(v int) int { return max(v, -v) }

// Decoding with KeepProfile and converting afterwards gives the pixels that
// decoding with ConvertToSRGB gives (orientation applied first or not).
func TestToSRGBAfterKeep(t *testing.T) {
	icc := iccFor(adobeRGB)
	data := withAPP1(jpegWithICC(encodeJPEG(t, patches(), 90), icc), exifAPP1(tiffWithOrientation(littleEndian, 6)))
	kept, err := DecodeWith(bytes.NewReader(data), DecodeOptions{Color: KeepProfile})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := DecodeWith(bytes.NewReader(data), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := ToNRGBA(kept.Image)
	before = &image.NRGBA{Pix: append([]uint8(nil), before.Pix...), Stride: before.Stride, Rect: before.Rect}
	late, still := ToSRGB(kept.Image, kept.ICC)
	if still != nil {
		t.Fatal("profile not converted")
	}
	if mean, _ := meanDeltaE(before, kept.Image, func(r, g, b uint8) [3]uint8 { return [3]uint8{r, g, b} }); mean != 0 {
		t.Errorf("ToSRGB changed the image it was given (mean ΔE %.3f)", mean)
	}
	if mean, worst := meanDeltaE(conv.Image, late, func(r, g, b uint8) [3]uint8 { return [3]uint8{r, g, b} }); worst > 0.5 {
		t.Errorf("converted after decoding differs from converted while decoding: mean ΔE %.3f, max %.3f", mean, worst)
	}
	if img, still := ToSRGB(kept.Image, nil); img != kept.Image || still != nil {
		t.Error("no profile: image changed")
	}
}

// GIF cannot carry a profile: kept pixels are converted on the way out.
func TestGIFOutputConvertsKeptProfile(t *testing.T) {
	src := patches()
	var buf bytes.Buffer
	if err := EncodeWith(&buf, src, GIF, EncodeOptions{ICC: iccFor(displayP3)}); err != nil {
		t.Fatal(err)
	}
	got, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	mean, _ := meanDeltaE(src, got, displayP3.reference())
	t.Logf("gif from Display P3: mean ΔE %.2f (palette of 216 patch colours)", mean)
	if mean > 1 {
		t.Errorf("mean ΔE %.2f: pixels not converted", mean)
	}
}

// An old v2 profile without chad, whose colorants are relative to its own
// D65 white, is adapted to D50 and converts like the modern profile.
func TestV2ProfileWithoutChad(t *testing.T) {
	m := adobeRGB.toXYZ() // under D65, not adapted
	tags := map[string][]byte{
		"wtpt": xyzTag(xyzOf(whiteD65)),
		"rTRC": adobeRGB.curve(0), "gTRC": adobeRGB.curve(1), "bTRC": adobeRGB.curve(2),
	}
	for c, sig := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		tags[sig] = xyzTag([3]float64{m[0][c], m[1][c], m[2][c]})
	}
	src := patches()
	d, err := DecodeWith(bytes.NewReader(withICCInPNG(encodePNG(t, src), buildICC("RGB ", tags))), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mean, worst := meanDeltaE(src, d.Image, adobeRGB.reference())
	t.Logf("v2 Adobe RGB without chad: mean ΔE %.3f, max %.3f", mean, worst)
	if !d.Converted || mean > 0.35 || worst > 1.5 {
		t.Errorf("converted %v, mean ΔE %.3f, max %.3f", d.Converted, mean, worst)
	}
}

// Every parametric curve type against its ICC definition.
func TestParametricCurves(t *testing.T) {
	g, a, b, c, d, e, f := 2.2, 0.9, 0.1, 0.3, 0.2, 0.05, 0.02
	pow := func(v float64) float64 { return math.Pow(max(v, 0), g) }
	for _, tt := range []struct {
		kind   uint16
		params []float64
		want   func(x float64) float64
	}{
		{0, []float64{g}, func(x float64) float64 { return pow(x) }},
		{1, []float64{g, a, b}, func(x float64) float64 {
			if x >= -b/a {
				return pow(a*x + b)
			}
			return 0
		}},
		{2, []float64{g, a, b, c}, func(x float64) float64 {
			if x >= -b/a {
				return pow(a*x+b) + c
			}
			return c
		}},
		{3, []float64{g, a, b, c, d}, func(x float64) float64 {
			if x >= d {
				return pow(a*x + b)
			}
			return c * x
		}},
		{4, []float64{g, a, b, c, d, e, f}, func(x float64) float64 {
			if x >= d {
				return pow(a*x+b) + e
			}
			return c*x + f
		}},
	} {
		curve, ok := parseCurve(paraTag(tt.kind, tt.params...))
		if !ok {
			t.Fatalf("type %d not parsed", tt.kind)
		}
		for _, x := range []float64{0, 0.05, 0.19, 0.21, 0.5, 0.9, 1} {
			if got, want := curve.eval(x), tt.want(x); math.Abs(got-want) > 1e-4 {
				t.Errorf("type %d at %.2f = %.5f, want %.5f", tt.kind, x, got, want)
			}
		}
	}
	if _, ok := parseCurve(paraTag(5, 1)); ok {
		t.Error("type 5 accepted")
	}
}
