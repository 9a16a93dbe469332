package imaging

import (
	"bytes"
	"errors"
	"image"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

func kindOf(t *testing.T, err error) Kind {
	t.Helper()
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *imaging.Error", err, err)
	}
	return ie.Kind
}

func TestRefusals(t *testing.T) {
	randomBytes := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range randomBytes {
		randomBytes[i] = uint8(rng.UintN(256))
	}
	randomBytes[0] = 0x13 // keep the seed from starting with a real signature

	jpg := encodeJPEG(t, noisy(64, 64, 1), 90)
	pngData := encodePNG(t, noisy(64, 64, 2))
	gifData := encodeGIF(t, noisy(64, 64, 3))

	tests := []struct {
		name string
		data []byte
		lim  Limits
		want Kind
	}{
		{"empty", nil, Limits{}, Unsupported},
		{"text", []byte("hello, this is not an image\n"), Limits{}, Unsupported},
		{"html", []byte("<!DOCTYPE html><html><body>nope</body></html>"), Limits{}, Unsupported},
		{"random", randomBytes, Limits{}, Unsupported},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), Limits{}, Unsupported},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00\x00\x00"), Limits{}, Unsupported},
		{"avif", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00"), Limits{}, Unsupported},
		{"riff avi", []byte("RIFF\x00\x10\x00\x00AVI LIST"), Limits{}, Unsupported},
		{"one byte", []byte{0xff}, Limits{}, Unsupported},

		{"jpeg signature only", []byte{0xff, 0xd8}, Limits{}, Corrupt},
		{"png signature cut", []byte("\x89PNG\r\n"), Limits{}, Corrupt},
		{"jpeg truncated in header", jpg[:40], Limits{}, Corrupt},
		{"jpeg truncated in scan", jpg[:len(jpg)/2], Limits{}, Corrupt},
		{"jpeg without EOI tail", jpg[:len(jpg)-200], Limits{}, Corrupt},
		{"png truncated in IHDR", pngData[:20], Limits{}, Corrupt},
		{"png truncated in IDAT", pngData[:len(pngData)/2], Limits{}, Corrupt},
		{"png missing IEND", pngData[:len(pngData)-12], Limits{}, Corrupt},
		{"png bad crc", func() []byte {
			b := bytes.Clone(pngData)
			b[29] ^= 0xff // inside IHDR's CRC
			return b
		}(), Limits{}, Corrupt},
		{"gif truncated in header", gifData[:10], Limits{}, Corrupt},
		{"gif truncated in frame", gifData[:len(gifData)/2], Limits{}, Corrupt},
		{"webp riff only", []byte("RIFF\x04\x00\x00\x00WEBP"), Limits{}, Corrupt},
		{"webp bad chunk", riff([]byte("VP8L\x05\x00\x00\x00\x2f\x00\x00")), Limits{}, Corrupt},

		{"png 60000x60000", pngHeaderOnly(60000, 60000), Limits{}, TooLarge},
		{"jpeg 60000x60000", jpegHeaderOnly(60000, 60000), Limits{}, TooLarge},
		{"gif 60000x60000", gifHeaderOnly(60000, 60000), Limits{}, TooLarge},
		{"webp 60000x60000", webpVP8XHeaderOnly(60000, 60000), Limits{}, TooLarge},
		{"gif zero width", gifHeaderOnly(0, 10), Limits{}, TooLarge},
		{"over custom pixel cap", pngData, Limits{MaxPixels: 64*64 - 1}, TooLarge},
		{"over frame cap", multiFrameGIF(t, 4), Limits{MaxFrames: 3}, TooLarge},
		{"over default frame cap", multiFrameGIF(t, DefaultMaxFrames+1), Limits{}, TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, _, err := Decode(bytes.NewReader(tt.data), tt.lim)
			if err == nil {
				t.Fatalf("Decode accepted it: %T %v", img, img.Bounds())
			}
			if got := kindOf(t, err); got != tt.want {
				t.Errorf("kind = %v, want %v (%v)", got, tt.want, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestTooLargeMessage(t *testing.T) {
	_, err := Probe(bytes.NewReader(pngHeaderOnly(60000, 60000)), Limits{})
	want := "image too large: 60000x60000 = 3600.0 MP exceeds the 50.0 MP limit"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// A header declaring 3.6 gigapixels must be refused from the header alone:
// no pixel buffer, quickly.
func TestTooLargeRefusedBeforeAllocating(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"png", pngHeaderOnly(60000, 60000)},
		{"jpeg", jpegHeaderOnly(60000, 60000)},
		{"gif", gifHeaderOnly(60000, 60000)},
		{"webp", webpVP8XHeaderOnly(60000, 60000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, _, err := Decode(bytes.NewReader(tt.data), Limits{})
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil || kindOf(t, err) != TooLarge {
				t.Fatalf("err = %v, want TooLarge", err)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 2<<20 {
				t.Errorf("allocated %d bytes refusing a header", d)
			}
			if elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want Info
	}{
		{"jpeg", encodeJPEG(t, quadrants(40, 30), 90), Info{JPEG, 40, 30, 1, 1}},
		{"jpeg rotated", withAPP1(encodeJPEG(t, quadrants(40, 30), 90), exifAPP1(tiffWithOrientation(bigEndian, 6))), Info{JPEG, 30, 40, 6, 1}},
		{"png", encodePNG(t, quadrants(40, 30)), Info{PNG, 40, 30, 1, 1}},
		{"gif", multiFrameGIF(t, 5), Info{GIF, 1, 1, 1, 5}},
		{"webp", losslessWebP(3, 2, func(x, y int) (bool, bool) { return true, false }), Info{WebP, 3, 2, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Probe(bytes.NewReader(tt.data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Probe = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The image need not start at offset 0 of the reader.
func TestProbeFromCurrentOffset(t *testing.T) {
	data := append([]byte("junkjunk"), encodePNG(t, quadrants(8, 6))...)
	r := bytes.NewReader(data)
	if _, err := r.Seek(8, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	img, info, err := Decode(r, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != PNG || img.Bounds() != image.Rect(0, 0, 8, 6) {
		t.Errorf("got %+v %v", info, img.Bounds())
	}
}

type failingReader struct {
	*bytes.Reader
	after int64
}

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	pos, _ := f.Seek(0, io.SeekCurrent)
	if pos >= f.after {
		return 0, errDisk
	}
	p = p[:min(int64(len(p)), f.after-pos)]
	return f.Reader.Read(p)
}

// An I/O failure is not the image's fault: it must not be reported as an
// *Error (which callers treat as permanent).
func TestReaderErrorIsNotImageError(t *testing.T) {
	data := encodePNG(t, noisy(64, 64, 4))
	for _, after := range []int64{0, 10, 100, int64(len(data) / 2)} {
		_, _, err := Decode(&failingReader{bytes.NewReader(data), after}, Limits{})
		var ie *Error
		if !errors.Is(err, errDisk) || errors.As(err, &ie) {
			t.Errorf("after %d bytes: err = %v, want the reader's error unclassified", after, err)
		}
	}
}
