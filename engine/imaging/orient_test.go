package imaging

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"testing"
)

// extendedWebP rewrites a simple WebP (one VP8L chunk) as an extended one
// with an EXIF chunk after the bitstream, where the spec puts it.
func extendedWebP(simple, exif []byte, w, h int) []byte {
	vp8x := []byte("VP8X")
	vp8x = binary.LittleEndian.AppendUint32(vp8x, 10)
	vp8x = append(vp8x, 0x08, 0, 0, 0) // EXIF present
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	c := append(vp8x, simple[12:]...)
	c = append(c, "EXIF"...)
	c = binary.LittleEndian.AppendUint32(c, uint32(len(exif)))
	c = append(c, exif...)
	if len(exif)%2 == 1 {
		c = append(c, 0)
	}
	return riff(c)
}

func TestWebPOrientation(t *testing.T) {
	const w, h = 16, 8
	// Quadrant colours of the source, standing for red, green, blue, white
	// of orientationCases: what the lossless bitstream writer can express.
	tl, tr, bl, br := color.RGBA{255, 128, 0, 255}, color.RGBA{0, 128, 0, 255}, color.RGBA{255, 128, 255, 255}, color.RGBA{0, 128, 255, 255}
	as := map[color.RGBA]color.RGBA{red: tl, green: tr, blue: bl, white: br}
	simple := losslessWebP(w, h, func(x, y int) (bool, bool) {
		left, top := x < w/2, y < h/2
		return left, !top
	})
	for _, tt := range orientationCases {
		for _, prefixed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d %s prefixed=%v", tt.o, tt.name, prefixed), func(t *testing.T) {
				exif := tiffWithOrientation(bigEndian, uint16(tt.o))
				if prefixed {
					exif = exifAPP1(exif)
				}
				img, info, err := Decode(bytes.NewReader(extendedWebP(simple, exif, w, h)), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				wantW, wantH := w, h
				if tt.o >= 5 {
					wantW, wantH = h, w
				}
				if info.Orientation != tt.o || info.Width != wantW || info.Height != wantH || img.Bounds() != image.Rect(0, 0, wantW, wantH) {
					t.Fatalf("info %+v, bounds %v; want orientation %d, %dx%d", info, img.Bounds(), tt.o, wantW, wantH)
				}
				checkQuadrants(t, img, as[tt.tl], as[tt.tr], as[tt.bl], as[tt.br], 0)
			})
		}
	}
}

// Outputs are upright and carry no orientation tag: a viewer that honours
// EXIF and one that does not show the same thing.
func TestOrientationNotCarriedToOutputs(t *testing.T) {
	const w, h = 64, 32
	src := withAPP1(encodeJPEG(t, quadrants(w, h), 95), exifAPP1(tiffWithOrientation(littleEndian, 6)))
	img, _, err := Decode(bytes.NewReader(src), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{JPEG, PNG, GIF, WebP} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, img, format, 90); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte("Exif\x00\x00")) || bytes.Contains(buf.Bytes(), []byte("eXIf")) || bytes.Contains(buf.Bytes(), []byte("EXIF")) {
				t.Error("output carries EXIF")
			}
			out, info, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != 1 || info.Width != h || info.Height != w {
				t.Errorf("output info %+v, want upright %dx%d", info, h, w)
			}
			checkQuadrants(t, out, blue, red, white, green, 48)
		})
	}
}
