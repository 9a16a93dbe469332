package resample

import (
	"context"
	"image"
	"sync"
	"testing"

	"golang.org/x/image/draw"
)

// photo12MP is a 4000×3000 photo-like source, built once.
var photo12MP = sync.OnceValue(func() *image.NRGBA { return photoLike(4000, 3000, 12) })

// defaultRecipeResizes are the resamplings of the default recipe on a
// 4000×3000 source: large and medium fit inside 1600 and 800, and the
// square thumbnail's centre crop to 200×200.
var defaultRecipeResizes = []struct {
	name string
	sr   image.Rectangle
	size image.Point
}{
	{"large", image.Rect(0, 0, 4000, 3000), image.Pt(1600, 1200)},
	{"medium", image.Rect(0, 0, 4000, 3000), image.Pt(800, 600)},
	{"thumb", image.Rect(500, 0, 3500, 3000), image.Pt(200, 200)},
}

// BenchmarkResizeStage compares the resize stage of the default recipe,
// all three outputs, done as before (one x/image/draw CatmullRom call per
// output on the NRGBA source, one goroutine) and by Scale. The fast run
// also reports its PSNR gain over plain against a Lanczos-3 reference
// (psnr_gain_db, the worst of the three outputs).
func BenchmarkResizeStage(b *testing.B) {
	src := photo12MP()
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			for _, r := range defaultRecipeResizes {
				dst := image.NewRGBA(image.Rectangle{Max: r.size})
				draw.CatmullRom.Scale(dst, dst.Rect, src, r.sr, draw.Src, nil)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			for _, r := range defaultRecipeResizes {
				if _, err := Scale(b.Context(), src, r.sr, r.size, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		worst := 1e9
		for _, r := range defaultRecipeResizes {
			crop := src.SubImage(r.sr).(*image.NRGBA)
			ref := lanczos(crop, r.size)
			plain := image.NewRGBA(image.Rectangle{Max: r.size})
			draw.CatmullRom.Scale(plain, plain.Rect, src, r.sr, draw.Src, nil)
			fast, _ := Scale(context.Background(), src, r.sr, r.size, Options{})
			worst = min(worst, psnr(fast, ref)-psnr(plain, ref))
		}
		b.ReportMetric(worst, "psnr_gain_db")
	})
}

// BenchmarkKernels12MPto1600 times each kernel on the large output of the
// default recipe, as one plain x/image/draw call and through Scale.
func BenchmarkKernels12MPto1600(b *testing.B) {
	src := photo12MP()
	r := defaultRecipeResizes[0]
	for _, k := range []struct {
		name   string
		interp draw.Interpolator
	}{
		{"nearest", draw.NearestNeighbor},
		{"approx-bilinear", draw.ApproxBiLinear},
		{"bilinear", draw.BiLinear},
		{"catmull-rom", draw.CatmullRom},
		{"lanczos3", Lanczos3},
	} {
		b.Run(k.name+"/plain", func(b *testing.B) {
			for b.Loop() {
				dst := image.NewRGBA(image.Rectangle{Max: r.size})
				k.interp.Scale(dst, dst.Rect, src, r.sr, draw.Src, nil)
			}
		})
		b.Run(k.name+"/fast", func(b *testing.B) {
			for b.Loop() {
				if _, err := Scale(b.Context(), src, r.sr, r.size, Options{Kernel: k.interp}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
