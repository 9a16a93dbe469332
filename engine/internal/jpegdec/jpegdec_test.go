package jpegdec

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/engine/samples"
)

// planes returns an image's sample planes, each cut to the samples inside
// its rectangle, row by row.
func planes(t testing.TB, img image.Image) [][]uint8 {
	t.Helper()
	switch m := img.(type) {
	case *image.Gray:
		return [][]uint8{crop(m.Pix, m.Stride, m.Rect.Dx(), m.Rect.Dy())}
	case *image.YCbCr:
		cw, ch := chromaSize(m)
		return [][]uint8{
			crop(m.Y, m.YStride, m.Rect.Dx(), m.Rect.Dy()),
			crop(m.Cb, m.CStride, cw, ch),
			crop(m.Cr, m.CStride, cw, ch),
		}
	}
	t.Fatalf("decoded a %T", img)
	return nil
}

func chromaSize(m *image.YCbCr) (w, h int) {
	w, h = m.Rect.Dx(), m.Rect.Dy()
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	}
	return w, h
}

func crop(pix []uint8, stride, w, h int) []uint8 {
	out := make([]uint8, 0, w*h)
	for y := range h {
		out = append(out, pix[y*stride:y*stride+w]...)
	}
	return out
}

// compare decodes data with this package and with image/jpeg and returns
// the largest difference of any sample, failing on any other mismatch.
func compare(t *testing.T, data []byte) int {
	t.Helper()
	want, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("image/jpeg: %v", err)
	}
	for _, workers := range []int{1, 2, 5} {
		got, err := Decode(data, workers)
		if err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		if fmt.Sprintf("%T %v", got, got.Bounds()) != fmt.Sprintf("%T %v", want, want.Bounds()) {
			t.Fatalf("decoded %T %v, image/jpeg %T %v", got, got.Bounds(), want, want.Bounds())
		}
		if g, ok := got.(*image.YCbCr); ok && g.SubsampleRatio != want.(*image.YCbCr).SubsampleRatio {
			t.Fatalf("subsampling %v, image/jpeg %v", g.SubsampleRatio, want.(*image.YCbCr).SubsampleRatio)
		}
		gp, wp := planes(t, got), planes(t, want)
		worst := 0
		for i := range wp {
			for j := range wp[i] {
				worst = max(worst, abs(int(gp[i][j])-int(wp[i][j])))
			}
		}
		if workers == 1 {
			defer func() { t.Logf("largest difference from image/jpeg: %d", worst) }()
		}
		if worst > 1 {
			t.Fatalf("workers %d: a sample differs from image/jpeg's by %d", workers, worst)
		}
	}
	return 0
}

func abs(v int) int { return max(v, -v) }

// TestMatchesImageJPEG decodes files from two encoders (Go's, and libjpeg
// through libvips and ImageMagick for testdata: 4:4:4, 4:2:2, 4:4:0,
// grey, restart intervals of 1, 3 and 5, optimised Huffman tables) and
// holds every sample within one level of image/jpeg's.
func TestMatchesImageJPEG(t *testing.T) {
	files, err := filepath.Glob("testdata/*.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.Contains(f, "unsupported") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, data)
		})
	}
	for _, c := range []struct {
		w, h, q int
	}{{641, 479, 90}, {16, 16, 100}, {1, 1, 75}, {17, 33, 1}, {1000, 37, 50}} {
		t.Run(fmt.Sprintf("go-%dx%d-q%d", c.w, c.h, c.q), func(t *testing.T) {
			compare(t, samples.JPEG(c.w, c.h, uint64(c.w), c.q))
		})
	}
	t.Run("go-jfif-and-adobe-0", func(t *testing.T) {
		// With a JFIF segment, image/jpeg reads YCbCr whatever the Adobe
		// segment says; so must Decode.
		jfif := []byte{0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
		adobe := []byte{0xff, 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0}
		data := samples.JPEG(64, 48, 3, 90)
		compare(t, slices.Concat(data[:2], jfif, adobe, data[2:]))
	})
	t.Run("go-gray", func(t *testing.T) {
		src := samples.Photo(301, 207, 9)
		gray := image.NewGray(src.Bounds())
		for y := range 207 {
			for x := range 301 {
				gray.Set(x, y, src.At(x, y))
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, gray, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		compare(t, buf.Bytes())
	})
}

// TestUnsupportedIsReported makes sure the kinds left to image/jpeg are
// recognised, not decoded wrongly.
func TestUnsupportedIsReported(t *testing.T) {
	for _, f := range []string{"testdata/progressive-unsupported.jpg", "testdata/s411-unsupported.jpg"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(data, 2); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want ErrUnsupported", f, err)
		}
	}
	// An Adobe APP14 segment with transform 0 and no JFIF (Go's encoder
	// writes none): RGB samples, which image/jpeg does not convert.
	data := samples.JPEG(48, 32, 1, 90)
	rgb := append([]byte{0xff, 0xd8, 0xff, 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0}, data[2:]...)
	unsupportedRGB(t, "Adobe transform 0", rgb)
	// Components named R, G and B (in the frame and the scan header).
	named := bytes.Clone(data)
	for _, m := range []struct {
		marker     byte
		first, per int // offset of the first component's id after the marker, bytes per component
	}{{markSOF0, 10, 3}, {markSOS, 5, 2}} {
		i := bytes.Index(named, []byte{0xff, m.marker})
		if i < 0 {
			t.Fatalf("no marker %#x", m.marker)
		}
		for k, id := range []byte("RGB") {
			named[i+m.first+k*m.per] = id
		}
	}
	unsupportedRGB(t, "components R, G, B", named)
}

// unsupportedRGB checks that image/jpeg reads data as RGB and that Decode
// leaves it to image/jpeg.
func unsupportedRGB(t *testing.T, what string, data []byte) {
	t.Helper()
	if img, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("%s: %v", what, err)
	} else if _, ok := img.(*image.RGBA); !ok {
		t.Fatalf("%s: image/jpeg decoded %T, want *image.RGBA", what, img)
	}
	if _, err := Decode(data, 2); !errors.Is(err, ErrUnsupported) {
		t.Errorf("%s: error %v, want ErrUnsupported", what, err)
	}
}

// TestTruncated cuts files short everywhere: image/jpeg fails on all of
// them, and so must Decode (never inventing the missing pixels).
func TestTruncated(t *testing.T) {
	before := runtime.NumGoroutine()
	defer func() {
		// Decode waits for its workers, failed or not.
		if after := runtime.NumGoroutine(); after > before {
			t.Errorf("%d goroutines before, %d after", before, after)
		}
	}()
	for _, f := range []string{"testdata/s420-restart.jpg", "testdata/s444.jpg", "testdata/gray-restart.jpg"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n += 1 + n/50 {
			if _, err := jpeg.Decode(bytes.NewReader(data[:n])); err == nil {
				continue // image/jpeg takes this prefix; nothing to hold Decode to
			}
			if _, err := Decode(data[:n], 2); err == nil {
				t.Fatalf("%s cut to %d of %d bytes: decoded", f, n, len(data))
			} else if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("%s cut to %d bytes: error %v does not wrap ErrUnsupported", f, n, err)
			}
		}
	}
}

// FuzzDecode holds Decode to image/jpeg on any input: no panic, and
// whatever Decode accepts image/jpeg accepts too, with the same geometry
// and samples within one level.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpg")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 8000 {
			f.Add(data)
		}
	}
	f.Add(samples.JPEG(24, 24, 1, 50))
	f.Fuzz(func(t *testing.T, data []byte) {
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		got, err := Decode(data, 2)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v does not wrap ErrUnsupported", err)
			}
			return
		}
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("decoded what image/jpeg rejects (%v)", err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("bounds %v, image/jpeg %v", got.Bounds(), want.Bounds())
		}
		gp, wp := planes(t, got), planes(t, want)
		if len(gp) != len(wp) {
			t.Fatalf("%d planes, image/jpeg %d", len(gp), len(wp))
		}
	})
}

// BenchmarkDecode12MP compares image/jpeg with Decode on one and on every
// CPU, for a 12 MP 4:2:0 photo-like JPEG.
func BenchmarkDecode12MP(b *testing.B) {
	data := samples.JPEG(4000, 3000, 1, 90)
	b.Run("image-jpeg", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, workers := range []int{2, 0} {
		name := fmt.Sprintf("jpegdec-%d-goroutines", workers)
		if workers == 0 {
			name = "jpegdec-gomaxprocs"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Decode(data, workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFlatBlocks holds the shortcut for blocks without AC coefficients to
// what the inverse DCT gives them, over every DC a file can produce (an
// 11-bit difference times a 16-bit quantiser, and beyond).
func TestFlatBlocks(t *testing.T) {
	dst := make([]uint8, 64)
	for dc := int32(-1 << 20); dc <= 1<<20; dc += 3 {
		var blk [64]int32
		blk[0] = dc
		idct(&blk, dst, 8)
		want := flatSample(dc)
		for i, v := range dst {
			if v != want {
				t.Fatalf("dc %d: sample %d is %d, flatSample %d", dc, i, v, want)
			}
		}
	}
}

// TestTransform1D holds the shared-product transform to the plain sums it
// stands for, exactly.
func TestTransform1D(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		var x [8]int32
		for i := range x {
			x[i] = int32(r.IntN(1<<13)) - 1<<12
		}
		var got [8]int32
		transform1D(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], &got)
		e := [4]int32{
			c4*x[0] + c2*x[2] + c4*x[4] + c6*x[6],
			c4*x[0] + c6*x[2] - c4*x[4] - c2*x[6],
			c4*x[0] - c6*x[2] - c4*x[4] + c2*x[6],
			c4*x[0] - c2*x[2] + c4*x[4] - c6*x[6],
		}
		o := [4]int32{
			c1*x[1] + c3*x[3] + c5*x[5] + c7*x[7],
			c3*x[1] - c7*x[3] - c1*x[5] - c5*x[7],
			c5*x[1] - c1*x[3] + c7*x[5] + c3*x[7],
			c7*x[1] - c5*x[3] + c3*x[5] - c1*x[7],
		}
		for n := range 4 {
			if got[n] != e[n]+o[n] || got[7-n] != e[n]-o[n] {
				t.Fatalf("x %v: got %v, want x[%d] = %d and x[%d] = %d", x, got, n, e[n]+o[n], 7-n, e[n]-o[n])
			}
		}
	}
}
