package samples

import (
	"bytes"
	"image"
	"image/jpeg"
	_ "image/png"
	"testing"
)

// TestCMYKJPEG checks that the hand-assembled file decodes to the inks it
// was built with.
func TestCMYKJPEG(t *testing.T) {
	for _, want := range []image.Point{{0, 0}, {9, 9}, {15, 15}} {
		img, err := jpeg.Decode(bytes.NewReader(CMYKJPEG(0, 255, 200, 30)))
		if err != nil {
			t.Fatal(err)
		}
		cm, ok := img.(*image.CMYK)
		if !ok {
			t.Fatalf("decoded as %T, want *image.CMYK", img)
		}
		c := cm.CMYKAt(want.X, want.Y)
		if d := int(c.C) + abs(int(c.M)-255) + abs(int(c.Y)-200) + abs(int(c.K)-30); d > 4 {
			t.Errorf("at %v: %v, want {0 255 200 30}", want, c)
		}
	}
}

func TestInterlacedPNG(t *testing.T) {
	img, _, err := image.Decode(bytes.NewReader(InterlacedPNG(33, 21, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ref := Photo(33, 21, 1)
	for _, p := range []image.Point{{0, 0}, {5, 3}, {32, 20}} {
		r, g, b, _ := img.At(p.X, p.Y).RGBA()
		w := ref.RGBAAt(p.X, p.Y)
		if uint8(r>>8) != w.R || uint8(g>>8) != w.G || uint8(b>>8) != w.B {
			t.Errorf("at %v: %v, want %v", p, img.At(p.X, p.Y), w)
		}
	}
}

func TestJPEGWithOrientation(t *testing.T) {
	data := JPEGWithOrientation(40, 30, 1, 6)
	if !bytes.Contains(data[:64], []byte("Exif\x00\x00MM")) {
		t.Error("no EXIF segment at the start")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 40 || cfg.Height != 30 {
		t.Errorf("DecodeConfig = %+v, %v; want 40x30 as stored", cfg, err)
	}
}
