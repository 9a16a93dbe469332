package imaging

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
)

func TestFit(t *testing.T) {
	tests := []struct {
		srcW, srcH, w, h int
		wantW, wantH     int
	}{
		{4000, 3000, 1600, 1600, 1600, 1200},
		{3000, 4000, 1600, 1600, 1200, 1600},
		{4000, 3000, 1600, 0, 1600, 1200},
		{4000, 3000, 0, 600, 800, 600},
		{4000, 3000, 0, 0, 4000, 3000},
		{4000, 3000, -5, -5, 4000, 3000},
		{800, 600, 1600, 1600, 800, 600}, // never upscale
		{800, 600, 1600, 0, 800, 600},
		{800, 600, 800, 600, 800, 600},
		{800, 600, 400, 1000, 400, 300}, // width binds
		{800, 600, 1000, 300, 400, 300}, // height binds
		{1000, 10, 100, 100, 100, 1},    // rounds 1.0
		{10000, 1, 100, 0, 100, 1},      // 0.01 rounds to 0: at least 1
		{1, 10000, 0, 100, 1, 100},
		{333, 333, 100, 100, 100, 100},
		{1001, 1000, 100, 100, 100, 100}, // 99.9 rounds to 100, still inside
		{1000, 1001, 100, 100, 100, 100},
		{3, 2, 2, 2, 2, 1},     // 1.33 rounds down
		{0, 100, 10, 10, 1, 1}, // degenerate source
		{60000, 1, 1, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d in %dx%d", tt.srcW, tt.srcH, tt.w, tt.h), func(t *testing.T) {
			gw, gh := Fit(tt.srcW, tt.srcH, tt.w, tt.h)
			if gw != tt.wantW || gh != tt.wantH {
				t.Errorf("Fit = %dx%d, want %dx%d", gw, gh, tt.wantW, tt.wantH)
			}
			if (tt.w > 0 && gw > max(tt.w, 1)) || (tt.h > 0 && gh > max(tt.h, 1)) {
				t.Errorf("Fit = %dx%d does not fit %dx%d", gw, gh, tt.w, tt.h)
			}
		})
	}
}

// gradientAt is the analytic picture both the source and the expectation use:
// red rises left to right, green top to bottom.
func gradientAt(x, y, w, h float64) (r, g float64) {
	return 255 * x / (w - 1), 255 * y / (h - 1)
}

func TestResizeGradientStaysAnalytic(t *testing.T) {
	const sw, sh, dw, dh = 400, 300, 120, 90
	sources := map[string]image.Image{}
	rgba := image.NewRGBA(image.Rect(0, 0, sw, sh))
	nrgba := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	ycc := image.NewYCbCr(image.Rect(0, 0, sw, sh), image.YCbCrSubsampleRatio444)
	for y := range sh {
		for x := range sw {
			r, g := gradientAt(float64(x), float64(y), sw, sh)
			c := color.RGBA{uint8(math.Round(r)), uint8(math.Round(g)), 64, 255}
			rgba.SetRGBA(x, y, c)
			nrgba.Set(x, y, c)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = yy, cb, cr
		}
	}
	sources["rgba"], sources["nrgba"], sources["ycbcr444"] = rgba, nrgba, ycc
	sources["offset subimage"] = rgba.SubImage(image.Rect(0, 0, sw, sh)) // same pixels, exercising bounds handling

	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			out := Resize(src, dw, dh).(*image.RGBA)
			tol := 2.0
			if name == "ycbcr444" {
				tol = 4 // YCbCr round trip costs a few levels
			}
			worst := 0.0
			// Skip a two-pixel border, where the kernel is cut off.
			for y := 2; y < dh-2; y++ {
				for x := 2; x < dw-2; x++ {
					sx := (float64(x)+0.5)*sw/dw - 0.5
					sy := (float64(y)+0.5)*sh/dh - 0.5
					wr, wg := gradientAt(sx, sy, sw, sh)
					c := out.RGBAAt(x, y)
					worst = max(worst, math.Abs(float64(c.R)-wr), math.Abs(float64(c.G)-wg))
				}
			}
			if worst > tol {
				t.Errorf("worst deviation from the analytic gradient = %.2f levels, want <= %.0f", worst, tol)
			}
		})
	}
}

func TestResizeSolidStaysSolid(t *testing.T) {
	tests := []struct {
		name string
		c    color.NRGBA
	}{
		{"opaque", color.NRGBA{123, 45, 67, 255}},
		{"half transparent", color.NRGBA{200, 100, 50, 128}},
		{"white", color.NRGBA{255, 255, 255, 255}},
		{"black", color.NRGBA{0, 0, 0, 255}},
	}
	for _, tt := range tests {
		for _, size := range []image.Point{{37, 23}, {100, 75}, {250, 190}} { // down, same, up
			t.Run(fmt.Sprintf("%s/%v", tt.name, size), func(t *testing.T) {
				src := image.NewNRGBA(image.Rect(0, 0, 100, 75))
				for i := 0; i < len(src.Pix); i += 4 {
					copy(src.Pix[i:], []uint8{tt.c.R, tt.c.G, tt.c.B, tt.c.A})
				}
				out := Resize(src, size.X, size.Y)
				for y := range size.Y {
					for x := range size.X {
						got := color.NRGBAModel.Convert(out.At(x, y)).(color.NRGBA)
						if !near(got.R, tt.c.R, 2) || !near(got.G, tt.c.G, 2) || !near(got.B, tt.c.B, 2) || !near(got.A, tt.c.A, 1) {
							t.Fatalf("(%d,%d) = %v, want %v", x, y, got, tt.c)
						}
					}
				}
			})
		}
	}
}

// A half-transparent red square on a transparent (black) background: pixels
// straddling the edge are partly transparent and must stay red once
// un-premultiplied. Filtering straight (non-premultiplied) values would mix in
// the background's black and darken them.
func TestResizeAlphaEdgeHasNoDarkFringe(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 16; y < 48; y++ {
		for x := 16; x < 48; x++ {
			src.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 128})
		}
	}
	for _, size := range []int{21, 29, 50, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			out := Resize(src, size, size)
			partial := 0
			for y := range size {
				for x := range size {
					c := color.NRGBAModel.Convert(out.At(x, y)).(color.NRGBA)
					if c.A > 160 { // Catmull-Rom rings by about 10% at a step; more would be a bug
						t.Fatalf("(%d,%d) alpha %d overshoots", x, y, c.A)
					}
					if c.A < 8 { // too little alpha for 8-bit colour to mean anything
						continue
					}
					if c.A < 120 {
						partial++
					}
					if c.R < 245 || c.G > 10 || c.B > 10 {
						t.Fatalf("(%d,%d) = %v: colour of a translucent pixel is not red", x, y, c)
					}
				}
			}
			if partial == 0 {
				t.Fatal("no partially transparent edge pixels: the test checks nothing")
			}
		})
	}
}
