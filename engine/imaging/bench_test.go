package imaging

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"sync"
	"testing"
)

// A 4000×3000 photo-like image, built once: gradients, noise and edges.
var bench12MP = sync.OnceValues(func() (photo []byte, err error) {
	var buf bytes.Buffer
	err = Encode(&buf, photoLike(4000, 3000), JPEG, 85)
	return buf.Bytes(), err
})

func benchJPEG(b *testing.B) []byte {
	data, err := bench12MP()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkDecodeJPEG12MP(b *testing.B) {
	data := benchJPEG(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(bytes.NewReader(data), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResizeCatmullRom12MPto1600(b *testing.B) {
	src, info, err := Decode(bytes.NewReader(benchJPEG(b)), Limits{}) // *image.YCbCr 4:2:0, as from a camera
	if err != nil {
		b.Fatal(err)
	}
	w, h := Fit(info.Width, info.Height, 1600, 1600)
	b.ReportAllocs()
	for b.Loop() {
		Resize(src, w, h)
	}
}

func BenchmarkEncodeWebP12MP(b *testing.B) {
	src := ToNRGBA(photoLike(4000, 3000))
	for b.Loop() {
		if err := Encode(io.Discard, src, WebP, 82); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvertDisplayP3ToSRGB12MP(b *testing.B) {
	src := ToNRGBA(photoLike(4000, 3000))
	p, ok := parseICC(iccFor(displayP3))
	if !ok {
		b.Fatal("profile not parsed")
	}
	for b.Loop() {
		p.toSRGB(src)
	}
}

func BenchmarkToNRGBAFromJPEG12MP(b *testing.B) {
	src, _, err := Decode(bytes.NewReader(benchJPEG(b)), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ToNRGBA(src)
	}
}

func BenchmarkEncodeJPEG(b *testing.B) {
	for _, size := range []image.Point{{1600, 1200}, {800, 600}, {200, 200}} {
		src := ToNRGBA(photoLike(size.X, size.Y))
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			for b.Loop() {
				if err := Encode(io.Discard, src, JPEG, 82); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
