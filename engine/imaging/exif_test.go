package imaging

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"testing"
)

// Where the source's red/green/blue/white quadrants (TL, TR, BL, BR) must be
// displayed under each EXIF orientation, written out by hand from the EXIF
// definitions rather than derived from the code under test.
var orientationCases = []struct {
	o              int
	name           string
	tl, tr, bl, br color.RGBA
}{
	{1, "identity", red, green, blue, white},
	{2, "flip horizontal", green, red, white, blue},
	{3, "rotate 180", white, blue, green, red},
	{4, "flip vertical", blue, white, red, green},
	{5, "transpose", red, blue, green, white},
	{6, "rotate 90 cw", blue, red, white, green},
	{7, "transverse", white, green, blue, red},
	{8, "rotate 270 cw", green, white, red, blue},
}

func checkQuadrants(t *testing.T, img image.Image, tl, tr, bl, br color.RGBA, tol int) {
	t.Helper()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	for _, c := range []struct {
		x, y int
		want color.RGBA
		name string
	}{
		{w / 4, h / 4, tl, "top-left"},
		{3 * w / 4, h / 4, tr, "top-right"},
		{w / 4, 3 * h / 4, bl, "bottom-left"},
		{3 * w / 4, 3 * h / 4, br, "bottom-right"},
	} {
		if got := img.At(b.Min.X+c.x, b.Min.Y+c.y); !nearRGBA(got, c.want, tol) {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	const w, h = 64, 32 // not square, so a missing swap shows
	base := encodeJPEG(t, quadrants(w, h), 95)
	for _, bo := range []byteOrder{littleEndian, bigEndian} {
		for _, tt := range orientationCases {
			t.Run(fmt.Sprintf("%v/%d %s", bo, tt.o, tt.name), func(t *testing.T) {
				data := withAPP1(base, exifAPP1(tiffWithOrientation(bo, uint16(tt.o))))
				img, info, err := Decode(bytes.NewReader(data), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				wantW, wantH := w, h
				if tt.o >= 5 {
					wantW, wantH = h, w
				}
				if info.Orientation != tt.o || info.Width != wantW || info.Height != wantH {
					t.Errorf("info = %+v, want orientation %d, %dx%d", info, tt.o, wantW, wantH)
				}
				if img.Bounds() != image.Rect(0, 0, wantW, wantH) {
					t.Fatalf("bounds = %v, want %dx%d at origin", img.Bounds(), wantW, wantH)
				}
				checkQuadrants(t, img, tt.tl, tt.tr, tt.bl, tt.br, 40)
			})
		}
	}
}

func TestPNGeXIfOrientation(t *testing.T) {
	base := encodePNG(t, quadrants(64, 32))
	for _, tt := range orientationCases {
		for _, prefixed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d prefixed=%v", tt.o, prefixed), func(t *testing.T) {
				exif := tiffWithOrientation(littleEndian, uint16(tt.o))
				if prefixed {
					exif = exifAPP1(exif)
				}
				img, info, err := Decode(bytes.NewReader(withPNGChunk(base, "eXIf", exif)), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if info.Orientation != tt.o {
					t.Errorf("orientation = %d, want %d", info.Orientation, tt.o)
				}
				checkQuadrants(t, img, tt.tl, tt.tr, tt.bl, tt.br, 0)
			})
		}
	}
}

// Orientation also works on odd sizes, exactly, for every pixel.
func TestOrientEveryPixel(t *testing.T) {
	const w, h = 5, 3
	src := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			src.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 7, 255})
		}
	}
	for _, tt := range orientationCases {
		got := orient(src, tt.o)
		for y := range h {
			for x := range w {
				dx, dy := orientedPoint(tt.o, x, y, w, h)
				if c := color.RGBAModel.Convert(got.At(dx, dy)).(color.RGBA); c.R != uint8(x) || c.G != uint8(y) {
					t.Fatalf("orientation %d: source (%d,%d) not at (%d,%d): %v", tt.o, x, y, dx, dy, c)
				}
			}
		}
	}
}

func TestMalformedExif(t *testing.T) {
	valid := tiffWithOrientation(littleEndian, 6)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	le := binary.LittleEndian
	tests := []struct {
		name string
		tiff []byte
		want int
	}{
		{"valid", valid, 6},
		{"empty", nil, 1},
		{"short header", valid[:7], 1},
		{"bad byte order", mut(func(b []byte) []byte { b[0] = 'X'; return b }), 1},
		{"IFD offset past end", mut(func(b []byte) []byte { le.PutUint32(b[4:], 0xfffffff0); return b }), 1},
		{"IFD offset into header", mut(func(b []byte) []byte { le.PutUint32(b[4:], 2); return b }), 1},
		{"IFD offset at last byte", mut(func(b []byte) []byte { le.PutUint32(b[4:], uint32(len(b)-1)); return b }), 1},
		{"entry count huge", mut(func(b []byte) []byte { le.PutUint16(b[8:], 0xffff); return b }), 6},
		{"entries truncated", valid[:10+12+6], 1},
		{"wrong type", mut(func(b []byte) []byte { le.PutUint16(b[10+12+2:], 7); return b }), 1},
		{"long type", mut(func(b []byte) []byte {
			le.PutUint16(b[10+12+2:], 4)
			le.PutUint32(b[10+12+8:], 8)
			return b
		}), 8},
		{"zero count", mut(func(b []byte) []byte { le.PutUint32(b[10+12+4:], 0); return b }), 1},
		{"value 0", tiffWithOrientation(littleEndian, 0), 1},
		{"value 9", tiffWithOrientation(littleEndian, 9), 1},
		{"value 0xffff", tiffWithOrientation(bigEndian, 0xffff), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tiffOrientation(tt.tiff); got != tt.want {
				t.Errorf("tiffOrientation = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMalformedJPEGSegments(t *testing.T) {
	base := encodeJPEG(t, quadrants(16, 16), 90)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"no exif", base, 1},
		{"xmp app1 first", withAPP1(withAPP1(base, exifAPP1(tiffWithOrientation(bigEndian, 3))), []byte("http://ns.adobe.com/xap/1.0/\x00<x/>")), 3},
		{"exif prefix only", withAPP1(base, []byte("Exif\x00\x00")), 1},
		{"app1 length 0", append([]byte{0xff, 0xd8, 0xff, 0xe1, 0, 0}, base[2:]...), 1},
		{"app1 length past end", []byte{0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E', 'x'}, 1},
		{"just soi", []byte{0xff, 0xd8}, 1},
		{"not a marker", []byte{0xff, 0xd8, 0x00, 0x00}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jpegOrientation(bytes.NewReader(tt.data)); got != tt.want {
				t.Errorf("jpegOrientation = %d, want %d", got, tt.want)
			}
		})
	}
}
