package imaging

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"github.com/gen2brain/avif"
)

func TestCanEncode(t *testing.T) {
	for format, want := range map[string]bool{JPEG: true, PNG: true, GIF: true, WebP: true, AVIF: true, "heic": false, "source": false, "": false} {
		if got := CanEncode(format); got != want {
			t.Errorf("CanEncode(%q) = %v, want %v", format, got, want)
		}
	}
}

// WebP output, read back through Decode (golang.org/x/image/webp, with the
// limited-range correction).
func TestEncodeWebP(t *testing.T) {
	photo := photoLike(320, 240)
	disc := whiteDisc(64)
	for _, tt := range []struct {
		name     string
		img      image.Image
		quality  int
		minPSNR  float64
		wantSize bool // size smaller than at quality 95
	}{
		{"photo q90", photo, 90, 38, false},
		{"photo q50", photo, 50, 30, true},
		{"alpha disc q90", disc, 90, 30, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeWith(&buf, tt.img, WebP, EncodeOptions{Quality: tt.quality}); err != nil {
				t.Fatal(err)
			}
			got, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Bounds().Size() != tt.img.Bounds().Size() {
				t.Fatalf("size %v, want %v", got.Bounds().Size(), tt.img.Bounds().Size())
			}
			p := psnr(tt.img, got)
			t.Logf("%s: %d bytes, PSNR %.1f dB", tt.name, buf.Len(), p)
			if p < tt.minPSNR {
				t.Errorf("PSNR %.1f dB, want at least %.0f", p, tt.minPSNR)
			}
			if tt.wantSize {
				var hq bytes.Buffer
				if err := EncodeWith(&hq, tt.img, WebP, EncodeOptions{Quality: 95}); err != nil {
					t.Fatal(err)
				}
				if buf.Len() >= hq.Len() {
					t.Errorf("quality %d gives %d bytes, not fewer than %d at 95", tt.quality, buf.Len(), hq.Len())
				}
			}
		})
	}
	var buf bytes.Buffer
	if err := EncodeWith(&buf, photo, WebP, EncodeOptions{Quality: 101}); err == nil {
		t.Error("quality 101 accepted")
	}
	// Transparency survives.
	if err := EncodeWith(&buf, disc, WebP, EncodeOptions{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	got, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, a := got.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner alpha %d, want 0", a)
	}
	if c := color.NRGBAModel.Convert(got.At(32, 32)).(color.NRGBA); c.A != 255 || c.R < 250 {
		t.Errorf("centre %v, want opaque white", c)
	}
}

// 16-bit sources are rounded, not truncated, to the 8 bits of the pipeline;
// gray sources come out of a PNG as gray with every level.
func TestDeepAndGrayTonalRange(t *testing.T) {
	const w = 4096
	g16 := image.NewGray16(image.Rect(0, 0, w, 1))
	for x := range w {
		g16.SetGray16(x, 0, color.Gray16{uint16(x * 65535 / (w - 1))})
	}
	img, _, err := Decode(bytes.NewReader(encodePNG(t, g16)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	n := ToNRGBA(img)
	worst, levels := 0.0, map[uint8]bool{}
	for x := range w {
		want := float64(g16.Gray16At(x, 0).Y) / 257
		got := float64(n.Pix[4*x])
		worst = max(worst, abs64(got-want))
		levels[n.Pix[4*x]] = true
	}
	if worst > 0.5+1e-9 {
		t.Errorf("16-bit to 8-bit error up to %.3f of a level, want at most 0.5", worst)
	}
	if len(levels) != 256 {
		t.Errorf("%d distinct levels, want 256", len(levels))
	}

	// Through the pipeline's NRGBA and out as PNG: still gray, all levels.
	var buf bytes.Buffer
	if err := Encode(&buf, n, PNG, 0); err != nil {
		t.Fatal(err)
	}
	out, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	og, ok := out.(*image.Gray)
	if !ok {
		t.Fatalf("gray source written as %T, want *image.Gray", out)
	}
	for x := range w {
		if og.Pix[x] != n.Pix[4*x] {
			t.Fatalf("level at %d changed: %d, want %d", x, og.Pix[x], n.Pix[4*x])
		}
	}
	// A colour image is not mistaken for gray.
	buf.Reset()
	if err := Encode(&buf, ToNRGBA(quadrants(8, 8)), PNG, 0); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := Decode(bytes.NewReader(buf.Bytes()), Limits{}); out == nil || out.ColorModel() == color.GrayModel {
		t.Error("colour image written as gray")
	}
}

func abs64(v float64) float64 { return max(v, -v) }

// Lossy WebP is limited-range YCbCr: black and white come back as black and
// white, not as 16 and 235.
func TestLossyWebPKeepsFullRange(t *testing.T) {
	for _, v := range []uint8{0, 16, 128, 235, 255} {
		src := image.NewNRGBA(image.Rect(0, 0, 16, 16))
		for i := range src.Pix {
			src.Pix[i] = v
			if i%4 == 3 {
				src.Pix[i] = 255
			}
		}
		var buf bytes.Buffer
		if err := EncodeWith(&buf, src, WebP, EncodeOptions{Quality: 100}); err != nil {
			t.Fatal(err)
		}
		img, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got := img.At(8, 8); !nearRGBA(got, color.RGBA{v, v, v, 255}, 2) {
			t.Errorf("gray %d came back as %v", v, got)
		}
	}
}

// Jobs run concurrently, so the encoder is used from several goroutines.
func TestEncodeWebPConcurrently(t *testing.T) {
	src := photoLike(200, 150)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var buf bytes.Buffer
			err := EncodeWith(&buf, src, WebP, EncodeOptions{Quality: 80})
			if err == nil {
				_, _, err = Decode(bytes.NewReader(buf.Bytes()), Limits{})
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// AVIF output, read back with the same library's decoder (Decode does not
// take AVIF input).
func TestEncodeAVIF(t *testing.T) {
	photo := photoLike(96, 64)
	var buf bytes.Buffer
	if err := EncodeWith(&buf, photo, AVIF, EncodeOptions{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	got, err := avif.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	p := psnr(photo, got)
	t.Logf("avif q70: %d bytes, PSNR %.1f dB", buf.Len(), p)
	if got.Bounds().Size() != photo.Bounds().Size() || p < 32 {
		t.Errorf("size %v, PSNR %.1f dB; want %v, at least 32 dB", got.Bounds().Size(), p, photo.Bounds().Size())
	}

	// Pixels in a convertible profile are converted, since AVIF gets none.
	buf.Reset()
	src := patches()
	if err := EncodeWith(&buf, src, AVIF, EncodeOptions{Quality: 90, ICC: iccFor(displayP3)}); err != nil {
		t.Fatal(err)
	}
	if got, err = avif.Decode(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	mean, _ := meanDeltaE(src, got, displayP3.reference())
	t.Logf("avif from Display P3: mean ΔE %.2f against the converted reference", mean)
	if mean > 1.5 {
		t.Errorf("mean ΔE %.2f: the pixels were not converted", mean)
	}
	// A profile that cannot be converted cannot be honoured.
	lut := buildICC("RGB ", map[string][]byte{"A2B0": []byte("mft2\x00\x00\x00\x00\x03\x03\x02\x00")})
	if err := EncodeWith(&buf, src, AVIF, EncodeOptions{ICC: lut}); kindOf(t, err) != Unsupported {
		t.Errorf("LUT profile: err %v, want Unsupported", err)
	}
}

// An image whose rows are further apart than its width (a sub-image) is
// encoded as the picture it shows.
func TestEncodeWebPSubImage(t *testing.T) {
	big := ToNRGBA(quadrants(64, 64))
	sub := big.SubImage(image.Rect(0, 0, 32, 32)).(*image.NRGBA) // the red quadrant, stride of 64 pixels
	var buf bytes.Buffer
	if err := EncodeWith(&buf, sub, WebP, EncodeOptions{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p := psnr(sub, img); p < 30 {
		t.Errorf("PSNR %.1f dB against the sub-image", p)
	}
}
