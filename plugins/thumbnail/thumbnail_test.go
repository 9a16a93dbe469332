package thumbnail

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
)

var (
	red  = color.NRGBA{220, 30, 30, 255}
	blue = color.NRGBA{30, 30, 220, 255}
)

func TestThumbnailExactSize(t *testing.T) {
	noisy := func(w, h int) *image.NRGBA {
		rng := rand.New(rand.NewPCG(1, 2))
		return newImage(w, h, func(int, int) color.NRGBA {
			return color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		})
	}
	tests := []struct {
		name string
		w, h int
		o    Options
	}{
		{"large reduction", 1200, 900, Options{Width: 200, Height: 200}},
		{"large reduction, sharpened", 1200, 900, Options{Width: 200, Height: 200, Sharpen: true}},
		{"smart", 900, 1200, Options{Width: 120, Height: 90, Gravity: Smart}},
		{"focal", 640, 480, Options{Width: 64, Height: 48, Gravity: Focal, FocalX: 0.2, FocalY: 0.9}},
		{"upscale a small source", 50, 50, Options{Width: 100, Height: 100}},
		{"upscale with a crop", 40, 10, Options{Width: 30, Height: 30, Gravity: East}},
		{"single pixel", 1, 1, Options{Width: 3, Height: 7}},
		{"one pixel wide box", 300, 200, Options{Width: 1, Height: 150, Gravity: Smart}},
		{"nearest neighbour kernel", 300, 200, Options{Width: 77, Height: 13, Kernel: draw.NearestNeighbor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Thumbnail(context.Background(), noisy(tt.w, tt.h), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if want := image.Rect(0, 0, tt.o.Width, tt.o.Height); out.Bounds() != want {
				t.Errorf("bounds %v, want %v", out.Bounds(), want)
			}
		})
	}
}

func TestThumbnailKeepsTheGravitySide(t *testing.T) {
	// Left half red, right half blue: a square thumbnail of the west side is
	// all red, of the east side all blue.
	src := newImage(400, 200, func(x, _ int) color.NRGBA {
		if x < 200 {
			return red
		}
		return blue
	})
	// The same picture as a sub-image of a larger one with green around
	// it: the green must never show.
	framed := newImage(600, 400, func(x, y int) color.NRGBA {
		switch {
		case x < 100 || x >= 500 || y < 100 || y >= 300:
			return color.NRGBA{0, 200, 0, 255}
		case x < 300:
			return red
		}
		return blue
	}).SubImage(image.Rect(100, 100, 500, 300)).(*image.NRGBA)
	tests := []struct {
		name string
		src  *image.NRGBA
		g    Gravity
		want color.NRGBA
	}{
		{"west", src, West, red},
		{"southwest", src, SouthWest, red},
		{"east", src, East, blue},
		{"northeast", src, NorthEast, blue},
		{"sub-image/west", framed, West, red},
		{"sub-image/southeast", framed, SouthEast, blue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Thumbnail(context.Background(), tt.src, Options{Width: 50, Height: 50, Gravity: tt.g})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []image.Point{{0, 0}, {25, 25}, {49, 49}} {
				if got := out.NRGBAAt(p.X, p.Y); got != tt.want {
					t.Errorf("pixel %v = %v, want %v", p, got, tt.want)
				}
			}
		})
	}
}

func TestThumbnailKeepsStraightColourUnderAlpha(t *testing.T) {
	// Half-transparent orange must stay orange, not darken, after the
	// premultiplied round trip.
	want := color.NRGBA{200, 100, 50, 128}
	out, err := Thumbnail(context.Background(), newImage(300, 200, flat(want)), Options{Width: 40, Height: 40, Sharpen: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []image.Point{{0, 0}, {20, 20}, {39, 39}} {
		if got := out.NRGBAAt(p.X, p.Y); !near(got, want, 1) {
			t.Errorf("pixel %v = %v, want %v ±1", p, got, want)
		}
	}
}

func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func abs(v int) int { return max(v, -v) }

func TestThumbnailSharpen(t *testing.T) {
	// A vertical step from dark to light at x = 200 lands at x = 50 of a
	// 100×100 thumbnail (a 4× reduction, so sharpening applies).
	dark, light := color.NRGBA{60, 60, 60, 255}, color.NRGBA{190, 190, 190, 255}
	src := newImage(400, 400, func(x, _ int) color.NRGBA {
		if x < 200 {
			return dark
		}
		return light
	})
	o := Options{Width: 100, Height: 100}
	plain, err := Thumbnail(context.Background(), src, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Sharpen = true
	sharp, err := Thumbnail(context.Background(), src, o)
	if err != nil {
		t.Fatal(err)
	}
	const y = 50
	// Contrast across the edge grows, slightly.
	contrast := func(m *image.NRGBA) int {
		return int(m.NRGBAAt(50, y).R) - int(m.NRGBAAt(49, y).R)
	}
	if cp, cs := contrast(plain), contrast(sharp); cs <= cp || cs > cp+60 {
		t.Errorf("edge contrast %d → %d, want a slight increase", cp, cs)
	}
	// Flat areas away from the edge are untouched.
	for x := 0; x < 100; x++ {
		if x >= 46 && x <= 53 {
			continue
		}
		if p, s := plain.NRGBAAt(x, y), sharp.NRGBAAt(x, y); p != s {
			t.Errorf("flat pixel x=%d changed from %v to %v", x, p, s)
		}
	}

	// A mild reduction (0.75×) is not sharpened.
	mild := Options{Width: 300, Height: 300}
	a, _ := Thumbnail(context.Background(), src, mild)
	mild.Sharpen = true
	b, _ := Thumbnail(context.Background(), src, mild)
	if string(a.Pix) != string(b.Pix) {
		t.Error("Sharpen changed a 0.75× reduction")
	}
}

func TestSharpenMask(t *testing.T) {
	tests := []struct {
		name string
		pix  []uint8 // one row of premultiplied RGBA pixels
		want []uint8
	}{
		{
			name: "flat row unchanged",
			pix:  []uint8{90, 80, 70, 255, 90, 80, 70, 255, 90, 80, 70, 255},
			want: []uint8{90, 80, 70, 255, 90, 80, 70, 255, 90, 80, 70, 255},
		},
		{
			// blur of the middle pixel = (0 + 2×100 + 200)/4 = 100: unchanged;
			// the ends overshoot by half the difference from their blur.
			name: "ramp keeps its middle and steepens its ends",
			pix:  []uint8{0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255},
			want: []uint8{0, 0, 0, 255, 100, 100, 100, 255, 213, 213, 213, 255},
		},
		{
			name: "colour is clamped to alpha, alpha untouched",
			pix:  []uint8{0, 0, 0, 0, 120, 120, 120, 128, 0, 0, 0, 0},
			want: []uint8{0, 0, 0, 0, 128, 128, 128, 128, 0, 0, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &image.RGBA{Pix: append([]uint8(nil), tt.pix...), Stride: len(tt.pix), Rect: image.Rect(0, 0, len(tt.pix)/4, 1)}
			sharpen(m)
			if string(m.Pix) != string(tt.want) {
				t.Errorf("got %v, want %v", m.Pix, tt.want)
			}
		})
	}
}

func TestThumbnailCancelled(t *testing.T) {
	src := texturedPatch(300, 200, image.Rect(0, 0, 50, 50))
	for _, g := range []Gravity{Center, Focal, Smart} {
		t.Run(string(g), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			out, err := Thumbnail(ctx, src, Options{Width: 50, Height: 50, Gravity: g, FocalX: 0.5, FocalY: 0.5})
			if !errors.Is(err, context.Canceled) || out != nil {
				t.Errorf("got (%v, %v), want (nil, context.Canceled)", out, err)
			}
		})
	}
	t.Run("smart measure checks ctx", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := measureDetail(ctx, src); !errors.Is(err, context.Canceled) {
			t.Errorf("measureDetail error %v, want context.Canceled", err)
		}
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"minimal", Options{Width: 1, Height: 1}, true},
		{"every gravity spelled out", Options{Width: 10, Height: 10, Gravity: SouthWest}, true},
		{"focal at a corner", Options{Width: 10, Height: 10, Gravity: Focal, FocalX: 1, FocalY: 0}, true},
		{"focal ignored for other gravities", Options{Width: 10, Height: 10, FocalX: 7}, true},
		{"zero width", Options{Height: 10}, false},
		{"negative height", Options{Width: 10, Height: -1}, false},
		{"too large", Options{Width: MaxSide + 1, Height: 10}, false},
		{"unknown gravity", Options{Width: 10, Height: 10, Gravity: "up"}, false},
		{"focal out of range", Options{Width: 10, Height: 10, Gravity: Focal, FocalX: 1.01}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.ok && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("error %v, want ErrInvalidOptions", err)
			}
		})
	}
	if _, err := Thumbnail(context.Background(), nil, Options{Width: 1, Height: 1}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil source: error %v, want ErrInvalidOptions", err)
	}
}

func BenchmarkThumbnail(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := image.NewNRGBA(image.Rect(0, 0, 4000, 3000))
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			src.Pix[i] = 255
		}
	}
	for _, o := range []Options{
		{Width: 200, Height: 200, Gravity: Center},
		{Width: 200, Height: 200, Gravity: Center, Sharpen: true},
		{Width: 200, Height: 200, Gravity: Smart, Sharpen: true},
	} {
		name := string(o.Gravity)
		if o.Sharpen {
			name += "+sharpen"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Thumbnail(context.Background(), src, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMeasureDetail(b *testing.B) {
	src := texturedPatch(4000, 3000, image.Rect(100, 100, 400, 400))
	for b.Loop() {
		if _, err := measureDetail(context.Background(), src); err != nil {
			b.Fatal(err)
		}
	}
}
