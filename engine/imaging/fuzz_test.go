package imaging

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"
)

var writeFuzzSeeds = flag.Bool("write-fuzz-seeds", false, "regenerate testdata/fuzz/FuzzDecode")

// fuzzSeeds are small valid and nearly valid files of every format and
// feature the decoder path knows about.
func fuzzSeeds(t testing.TB) map[string][]byte {
	jpg := encodeJPEG(t, quadrants(16, 8), 80)
	pngData := encodePNG(t, quadrants(16, 8))
	seeds := map[string][]byte{
		"jpeg":             jpg,
		"jpeg-exif-le-6":   withAPP1(jpg, exifAPP1(tiffWithOrientation(littleEndian, 6))),
		"jpeg-exif-be-7":   withAPP1(jpg, exifAPP1(tiffWithOrientation(bigEndian, 7))),
		"jpeg-cmyk":        cmykJPEG(),
		"jpeg-truncated":   jpg[:len(jpg)/2],
		"jpeg-header-huge": jpegHeaderOnly(60000, 60000),
		"png":              pngData,
		"png-exif-3":       withPNGChunk(pngData, "eXIf", tiffWithOrientation(bigEndian, 3)),
		"png-interlaced":   interlacedPNG(t, quadrants(9, 7)),
		"png-header-huge":  pngHeaderOnly(60000, 60000),
		"gif":              encodeGIF(t, quadrants(16, 8)),
		"gif-3-frames":     multiFrameGIF(t, 3),
		"webp-lossless":    losslessWebP(5, 3, func(x, y int) (bool, bool) { return x == 0, y == 0 }),
		"webp-vp8x-huge":   webpVP8XHeaderOnly(40000, 40000),
		"text":             []byte("not an image\n"),
		"png-iccp-p3":      pngWithICC(pngData, iccFor(displayP3)),
		"png-iccp-gray":    pngWithICC(encodePNG(t, image.NewGray(image.Rect(0, 0, 4, 4))), buildICC("GRAY", map[string][]byte{"kTRC": curvGammaTag(1.8)})),
		"jpeg-icc-adobe":   jpegWithICC(jpg, iccFor(adobeRGB)),
		"jpeg-cmyk-plain":  flatJPEG(2, 1, 4, -1, func(bx, _, c int) uint8 { return uint8(40 * (bx + c)) }),
		"jpeg-ycck":        flatJPEG(1, 2, 4, 2, func(_, by, c int) uint8 { return uint8(200 - 30*(by+c)) }),
		"webp-exif-6":      extendedWebP(losslessWebP(4, 2, func(x, y int) (bool, bool) { return x == 0, y == 0 }), tiffWithOrientation(littleEndian, 6), 4, 2),
		"gif-animated":     animatedGIF(t, false),
	}
	if lossy, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp"); err == nil {
		seeds["webp-lossy"] = lossy
	}
	return seeds
}

func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeFuzzSeeds {
		t.Skip("run with -args -write-fuzz-seeds to regenerate the corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range fuzzSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecode: any input either decodes to an image consistent with its Info
// or fails with an *Error; never a panic, never an I/O-looking error.
func FuzzDecode(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		f.Add(data)
	}
	lim := Limits{MaxPixels: 4_000_000, MaxFrames: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip()
		}
		img, info, err := Decode(bytes.NewReader(data), lim)
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			if img != nil {
				t.Fatal("image returned with an error")
			}
			return
		}
		if img.Bounds() != image.Rect(0, 0, info.Width, info.Height) {
			t.Fatalf("bounds %v, info %+v", img.Bounds(), info)
		}
		if int64(info.Width)*int64(info.Height) > lim.MaxPixels {
			t.Fatalf("accepted %dx%d over the cap", info.Width, info.Height)
		}
		if info.Orientation < 1 || info.Orientation > 8 || info.Frames < 1 || info.Frames > lim.MaxFrames {
			t.Fatalf("info out of range: %+v", info)
		}
		w, h := Fit(info.Width, info.Height, 32, 32)
		if out := Resize(img, w, h); out.Bounds() != image.Rect(0, 0, w, h) {
			t.Fatalf("resized to %v, want %dx%d", out.Bounds(), w, h)
		}
	})
}

// FuzzOrientation: the metadata walkers never panic and stay in range.
func FuzzOrientation(f *testing.F) {
	f.Add(tiffWithOrientation(littleEndian, 6))
	f.Add(tiffWithOrientation(bigEndian, 8))
	f.Add(withAPP1([]byte{0xff, 0xd8, 0xff, 0xd9}, exifAPP1(tiffWithOrientation(bigEndian, 5))))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, o := range map[string]int{
			"tiff": tiffOrientation(data),
			"jpeg": jpegOrientation(bytes.NewReader(data)),
			"png":  pngOrientation(bytes.NewReader(data)),
			"webp": webpMeta(bytes.NewReader(data)).orientation,
		} {
			if o < 1 || o > 8 {
				t.Fatalf("%s orientation %d", name, o)
			}
		}
	})
}

// FuzzICC: profile parsing never panics, and whatever parses converts a
// pixel without panicking either.
func FuzzICC(f *testing.F) {
	f.Add(iccFor(displayP3))
	f.Add(iccFor(proPhoto)[:4096])
	f.Add(buildICC("GRAY", map[string][]byte{"kTRC": curvGammaTag(1.8)}))
	f.Add(buildICC("RGB ", map[string][]byte{"rTRC": paraTag(4, 2.2, 1, 0, 0.5, 0.1, 0, 0)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		p, ok := parseICC(data)
		if !ok {
			return
		}
		img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
		copy(img.Pix, []byte{0, 128, 255, 255, 7, 8, 9, 10})
		p.toSRGB(img)
		g := image.NewGray16(image.Rect(0, 0, 2, 1))
		p.toSRGB(g)
	})
}
