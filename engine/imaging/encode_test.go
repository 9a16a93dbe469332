package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"io"
	"testing"
)

func TestEncodeJPEGFlattensOnWhite(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := 16; x < 32; x++ {
			src.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 255})
		}
		for x := range 16 {
			src.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 0}) // transparent black
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, src, JPEG, 90); err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := img.At(4, 16); !nearRGBA(got, white, 8) {
		t.Errorf("transparent side = %v, want white", got)
	}
	if got := img.At(28, 16); !nearRGBA(got, blue, 16) {
		t.Errorf("opaque side = %v, want blue", got)
	}
}

func TestEncodeJPEGQuality(t *testing.T) {
	src := photoLike(160, 120)
	sizes := map[int]int{}
	for _, tt := range []struct {
		q       int
		wantErr bool
	}{{0, false}, {1, false}, {50, false}, {100, false}, {-1, true}, {101, true}} {
		var buf bytes.Buffer
		err := Encode(&buf, src, JPEG, tt.q)
		if (err != nil) != tt.wantErr {
			t.Errorf("quality %d: err = %v, want error %v", tt.q, err, tt.wantErr)
		}
		sizes[tt.q] = buf.Len()
	}
	if !(sizes[1] < sizes[50] && sizes[50] < sizes[100]) {
		t.Errorf("sizes by quality not increasing: %v", sizes)
	}
}

func TestEncodeUnsupported(t *testing.T) {
	for _, format := range []string{"heic", "bmp", ""} {
		if CanEncode(format) {
			t.Errorf("CanEncode(%q) = true", format)
		}
		err := Encode(io.Discard, quadrants(4, 4), format, 0)
		var ie *Error
		if !errors.As(err, &ie) || ie.Kind != Unsupported {
			t.Errorf("%q: err = %v, want Unsupported", format, err)
		}
	}
}

func meanAbsError(a, b image.Image) float64 {
	r := a.Bounds()
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			for _, d := range []int{int(ar>>8) - int(br>>8), int(ag>>8) - int(bg>>8), int(ab>>8) - int(bb>>8)} {
				sum += float64(max(d, -d))
				n++
			}
		}
	}
	return sum / n
}

// The median-cut palette must do at least as well as the fixed Plan9 palette
// with the standard library's Floyd-Steinberg, and stay close to the source.
func TestEncodeGIFQuantisation(t *testing.T) {
	src := photoLike(240, 180)
	var buf bytes.Buffer
	if err := Encode(&buf, src, GIF, 0); err != nil {
		t.Fatal(err)
	}
	ours, err := gif.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	plan9 := image.NewPaletted(src.Bounds(), palette.Plan9)
	draw.FloydSteinberg.Draw(plan9, src.Bounds(), src, image.Point{})

	oursErr, plan9Err := meanAbsError(src, ours), meanAbsError(src, plan9)
	t.Logf("mean absolute error per channel: median cut %.2f, plan9 %.2f", oursErr, plan9Err)
	if oursErr > plan9Err || oursErr > 8 {
		t.Errorf("median cut error %.2f (plan9 %.2f)", oursErr, plan9Err)
	}
}

func TestEncodeGIFTransparency(t *testing.T) {
	src := photoLike(64, 48)
	nrgba := image.NewNRGBA(src.Bounds())
	draw.Draw(nrgba, src.Bounds(), src, image.Point{}, draw.Src)
	for y := range 48 {
		for x := range 20 {
			nrgba.SetNRGBA(x, y, color.NRGBA{50, 50, 50, 10}) // mostly transparent: becomes transparent
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, nrgba, GIF, 0); err != nil {
		t.Fatal(err)
	}
	img, err := gif.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p := img.(*image.Paletted)
	if len(p.Palette) > 256 {
		t.Fatalf("palette of %d colours", len(p.Palette))
	}
	for y := range 48 {
		for x := range 64 {
			_, _, _, a := p.At(x, y).RGBA()
			if transparent := x < 20; transparent != (a == 0) {
				t.Fatalf("(%d,%d) alpha %d, want transparent=%v", x, y, a, transparent)
			}
		}
	}
}

func TestEncodeGIFKeepsPaletted(t *testing.T) {
	pal := color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{4, 5, 6, 255}}
	src := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
	src.Pix[5] = 1
	var buf bytes.Buffer
	if err := Encode(&buf, src, GIF, 0); err != nil {
		t.Fatal(err)
	}
	img, err := gif.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.At(1, 1); got != pal[1] {
		t.Errorf("(1,1) = %v, want %v", got, pal[1])
	}
}

func TestContentTypeAndExt(t *testing.T) {
	tests := []struct{ format, ct, ext string }{
		{JPEG, "image/jpeg", "jpg"},
		{PNG, "image/png", "png"},
		{GIF, "image/gif", "gif"},
		{WebP, "image/webp", "webp"},
		{AVIF, "image/avif", "avif"},
		{"tiff", "application/octet-stream", ""},
	}
	for _, tt := range tests {
		if got := ContentType(tt.format); got != tt.ct {
			t.Errorf("ContentType(%q) = %q, want %q", tt.format, got, tt.ct)
		}
		if got := Ext(tt.format); got != tt.ext {
			t.Errorf("Ext(%q) = %q, want %q", tt.format, got, tt.ext)
		}
	}
}

// An opaque NRGBA is encoded through image/jpeg's RGBA fast path: the bytes
// must be those of its generic path.
func TestJPEGOfOpaqueNRGBAMatchesGenericPath(t *testing.T) {
	src := ToNRGBA(photoLike(97, 61))
	if _, isNRGBA := any(src).(*image.NRGBA); !isNRGBA || !src.Opaque() {
		t.Fatal("want an opaque NRGBA source")
	}
	var fast, generic bytes.Buffer
	if err := Encode(&fast, src, JPEG, 80); err != nil {
		t.Fatal(err)
	}
	// Hidden behind an interface of its own, the image takes the generic path.
	if err := jpeg.Encode(&generic, struct{ image.Image }{src}, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fast.Bytes(), generic.Bytes()) {
		t.Fatal("the RGBA view encodes differently from the NRGBA image")
	}
}
