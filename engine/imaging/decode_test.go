package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"os"
	"testing"

	"github.com/seed62486500/resizer/engine/samples"
)

func TestRoundTrip(t *testing.T) {
	src := quadrants(48, 36)
	for _, tt := range []struct {
		format string
		tol    int
	}{{JPEG, 40}, {PNG, 0}, {GIF, 0}} {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, src, tt.format, 90); err != nil {
				t.Fatal(err)
			}
			img, info, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if info != (Info{tt.format, 48, 36, 1, 1}) || img.Bounds() != image.Rect(0, 0, 48, 36) {
				t.Errorf("info %+v, bounds %v", info, img.Bounds())
			}
			checkQuadrants(t, img, red, green, blue, white, tt.tol)
		})
	}
}

func TestDecodeLosslessWebP(t *testing.T) {
	// Red marks the top-left 2×2 corner, blue the right column: an
	// asymmetric picture, so a transposed or flipped decode would show.
	const w, h = 7, 5
	on := func(x, y int) (bool, bool) { return x < 2 && y < 2, x == w-1 }
	img, info, err := Decode(bytes.NewReader(losslessWebP(w, h, on)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{WebP, w, h, 1, 1}) || img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("info %+v, bounds %v", info, img.Bounds())
	}
	for y := range h {
		for x := range w {
			r, b := on(x, y)
			want := color.NRGBA{0, 0x80, 0, 0xff}
			if r {
				want.R = 0xff
			}
			if b {
				want.B = 0xff
			}
			if got := color.NRGBAModel.Convert(img.At(x, y)); got != want {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestDecodeLossyWebP(t *testing.T) {
	data, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	img, info, err := Decode(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{WebP, 150, 100, 1, 1}) || img.Bounds() != image.Rect(0, 0, 150, 100) {
		t.Errorf("info %+v, bounds %v", info, img.Bounds())
	}
	if out := Resize(img, 75, 50); out.Bounds() != image.Rect(0, 0, 75, 50) {
		t.Errorf("resized bounds %v", out.Bounds())
	}
	_, _, err = Decode(bytes.NewReader(data[:len(data)/2]), Limits{})
	if err == nil || kindOf(t, err) != Corrupt {
		t.Errorf("truncated webp: err = %v, want Corrupt", err)
	}
}

// Pixel layouts other than the common 8-bit ones decode and resize; the test
// checks one known colour survives both steps.
func TestDecodeVariants(t *testing.T) {
	const w, h = 40, 30
	fill := func(img interface{ Set(x, y int, c color.Color) }, c color.Color) {
		for y := range h {
			for x := range w {
				img.Set(x, y, c)
			}
		}
	}
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, w, h))
	fill(nrgba64, color.NRGBA64{0xffff, 0x8000, 0x1234, 0xffff})
	gray := image.NewGray(image.Rect(0, 0, w, h))
	fill(gray, color.Gray{0x60})
	gray16 := image.NewGray16(image.Rect(0, 0, w, h))
	fill(gray16, color.Gray16{0x6060})
	paletted := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.NRGBA{}, color.NRGBA{0, 0, 255, 255}})
	for y := range h {
		for x := w / 2; x < w; x++ {
			paletted.SetColorIndex(x, y, 1) // left half transparent (tRNS), right half blue
		}
	}

	tests := []struct {
		name   string
		data   []byte
		at     image.Point // in the half-size result
		want   color.RGBA  // premultiplied, as Resize returns
		wantTy string
	}{
		{"png 16-bit rgba", encodePNG(t, nrgba64), image.Pt(10, 7), color.RGBA{0xff, 0x80, 0x12, 0xff}, "*image.RGBA64"}, // opaque, so written as 16-bit RGB
		{"png gray", encodePNG(t, gray), image.Pt(10, 7), color.RGBA{0x60, 0x60, 0x60, 0xff}, "*image.Gray"},
		{"png gray 16-bit", encodePNG(t, gray16), image.Pt(10, 7), color.RGBA{0x60, 0x60, 0x60, 0xff}, "*image.Gray16"},
		{"png paletted with transparency, clear side", encodePNG(t, paletted), image.Pt(3, 7), color.RGBA{}, "*image.Paletted"},
		{"png paletted with transparency, blue side", encodePNG(t, paletted), image.Pt(17, 7), color.RGBA{0, 0, 255, 255}, "*image.Paletted"},
		{"png interlaced", interlacedPNG(t, quadrants(w, h)), image.Pt(15, 11), white, "*image.RGBA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, info, err := Decode(bytes.NewReader(tt.data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", img); got != tt.wantTy {
				t.Errorf("decoded to %s, want %s", got, tt.wantTy)
			}
			rw, rh := Fit(info.Width, info.Height, info.Width/2, 0)
			out := Resize(img, rw, rh)
			if out.Bounds() != image.Rect(0, 0, rw, rh) {
				t.Fatalf("resized bounds %v", out.Bounds())
			}
			if got := out.At(tt.at.X, tt.at.Y); !nearRGBA(got, tt.want, 1) {
				t.Errorf("resized pixel %v = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestInterlacedPNGExact(t *testing.T) {
	for _, size := range []image.Point{{1, 1}, {3, 2}, {9, 9}, {17, 13}} {
		src := noisy(size.X, size.Y, uint64(size.X))
		img, _, err := Decode(bytes.NewReader(interlacedPNG(t, src)), Limits{})
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		for y := range size.Y {
			for x := range size.X {
				if got := color.RGBAModel.Convert(img.At(x, y)); got != src.RGBAAt(x, y) {
					t.Fatalf("%v: (%d,%d) = %v, want %v", size, x, y, got, src.RGBAAt(x, y))
				}
			}
		}
	}
}

// A GIF whose first frame covers only part of the logical screen decodes to
// the full screen, transparent outside the frame.
func TestGIFFirstFrameOnScreen(t *testing.T) {
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}}
	f1 := image.NewPaletted(image.Rect(10, 5, 20, 15), pal)
	f2 := image.NewPaletted(image.Rect(0, 0, 30, 20), pal)
	for i := range f2.Pix {
		f2.Pix[i] = 1
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{
		Image:  []*image.Paletted{f1, f2},
		Delay:  []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 30, Height: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, info, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{GIF, 30, 20, 1, 2}) || img.Bounds() != image.Rect(0, 0, 30, 20) {
		t.Fatalf("info %+v, bounds %v", info, img.Bounds())
	}
	if got := img.At(15, 10); !nearRGBA(got, red, 0) {
		t.Errorf("inside first frame = %v, want red", got)
	}
	if got := img.At(2, 2); !nearRGBA(got, color.RGBA{}, 0) {
		t.Errorf("outside first frame = %v, want transparent", got)
	}
}

// Trailing junk or a cut after the first frame of an animation is tolerated
// (only that frame is decoded); the frame count reflects what was readable.
func TestGIFCutAfterFirstFrame(t *testing.T) {
	data := multiFrameGIF(t, 3)
	// Find the second image descriptor: the first 0x2c after the first one.
	first := bytes.IndexByte(data[13+6:], 0x2c) + 13 + 6
	second := first + 1 + bytes.IndexByte(data[first+1:], 0x2c)
	_, info, err := Decode(bytes.NewReader(data[:second+4]), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Frames != 1 {
		t.Errorf("frames = %d, want 1", info.Frames)
	}
}

// TestJPEGDecodersAgree decodes JPEGs that take each decoder (the project's
// for baseline files, with and without restart markers; image/jpeg for a
// progressive one) through DecodeWith, and holds the pixels within one
// level of image/jpeg's.
func TestJPEGDecodersAgree(t *testing.T) {
	for _, name := range []string{"testdata/progressive.jpg", "testdata/restart.jpg", "generated"} {
		t.Run(name, func(t *testing.T) {
			data := samples.JPEG(333, 251, 5, 88)
			if name != "generated" {
				var err error
				if data, err = os.ReadFile(name); err != nil {
					t.Fatal(err)
				}
			}
			d, err := DecodeWith(bytes.NewReader(data), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			got, want := ToNRGBA(d.Image), ToNRGBA(ref)
			if got.Rect != want.Rect {
				t.Fatalf("bounds %v, image/jpeg %v", got.Rect, want.Rect)
			}
			worst := 0
			for i := range want.Pix {
				worst = max(worst, int(got.Pix[i])-int(want.Pix[i]), int(want.Pix[i])-int(got.Pix[i]))
			}
			// One level in Y, Cb or Cr moves R, G or B by up to 2.
			if worst > 3 {
				t.Errorf("a channel differs from image/jpeg's by %d", worst)
			}
		})
	}
}
