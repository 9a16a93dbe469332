package thumbnail

import (
	"image"
	"image/color"
	"testing"
)

// newImage returns a w×h image coloured by f.
func newImage(w, h int, f func(x, y int) color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, f(x, y))
		}
	}
	return m
}

func flat(c color.NRGBA) func(x, y int) color.NRGBA {
	return func(int, int) color.NRGBA { return c }
}

var grey = color.NRGBA{128, 128, 128, 255}

func TestCropRect(t *testing.T) {
	landscape := newImage(400, 200, flat(grey))
	portrait := newImage(200, 400, flat(grey))
	square := newImage(300, 300, flat(grey))
	odd := newImage(333, 100, flat(grey))
	offset := newImage(500, 300, flat(grey)).SubImage(image.Rect(50, 50, 450, 250)).(*image.NRGBA)

	sq := func(g Gravity) Options { return Options{Width: 100, Height: 100, Gravity: g} }
	focal := func(x, y float64) Options {
		return Options{Width: 100, Height: 100, Gravity: Focal, FocalX: x, FocalY: y}
	}
	tests := []struct {
		name string
		src  *image.NRGBA
		o    Options
		want image.Rectangle
	}{
		{"landscape/center", landscape, sq(Center), image.Rect(100, 0, 300, 200)},
		{"landscape/default is center", landscape, sq(""), image.Rect(100, 0, 300, 200)},
		{"landscape/north", landscape, sq(North), image.Rect(100, 0, 300, 200)},
		{"landscape/south", landscape, sq(South), image.Rect(100, 0, 300, 200)},
		{"landscape/east", landscape, sq(East), image.Rect(200, 0, 400, 200)},
		{"landscape/west", landscape, sq(West), image.Rect(0, 0, 200, 200)},
		{"landscape/northeast", landscape, sq(NorthEast), image.Rect(200, 0, 400, 200)},
		{"landscape/northwest", landscape, sq(NorthWest), image.Rect(0, 0, 200, 200)},
		{"landscape/southeast", landscape, sq(SouthEast), image.Rect(200, 0, 400, 200)},
		{"landscape/southwest", landscape, sq(SouthWest), image.Rect(0, 0, 200, 200)},

		{"portrait/center", portrait, sq(Center), image.Rect(0, 100, 200, 300)},
		{"portrait/north", portrait, sq(North), image.Rect(0, 0, 200, 200)},
		{"portrait/south", portrait, sq(South), image.Rect(0, 200, 200, 400)},
		{"portrait/east", portrait, sq(East), image.Rect(0, 100, 200, 300)},
		{"portrait/west", portrait, sq(West), image.Rect(0, 100, 200, 300)},
		{"portrait/northeast", portrait, sq(NorthEast), image.Rect(0, 0, 200, 200)},
		{"portrait/northwest", portrait, sq(NorthWest), image.Rect(0, 0, 200, 200)},
		{"portrait/southeast", portrait, sq(SouthEast), image.Rect(0, 200, 200, 400)},
		{"portrait/southwest", portrait, sq(SouthWest), image.Rect(0, 200, 200, 400)},

		{"wide box/north", square, Options{Width: 200, Height: 100, Gravity: North}, image.Rect(0, 0, 300, 150)},
		{"wide box/center", square, Options{Width: 200, Height: 100, Gravity: Center}, image.Rect(0, 75, 300, 225)},
		{"wide box/southwest", square, Options{Width: 200, Height: 100, Gravity: SouthWest}, image.Rect(0, 150, 300, 300)},
		{"tall box/east", square, Options{Width: 100, Height: 200, Gravity: East}, image.Rect(150, 0, 300, 300)},
		{"tall box/northwest", square, Options{Width: 100, Height: 200, Gravity: NorthWest}, image.Rect(0, 0, 150, 300)},
		{"same aspect is the whole image", landscape, Options{Width: 200, Height: 100, Gravity: SouthEast}, image.Rect(0, 0, 400, 200)},
		{"odd spare rounds down", odd, sq(Center), image.Rect(116, 0, 216, 100)},
		{"sub-image keeps its coordinates", offset, sq(East), image.Rect(250, 50, 450, 250)},

		{"focal/centred on the point", landscape, focal(0.6, 0.5), image.Rect(140, 0, 340, 200)},
		{"focal/clamped at the left", landscape, focal(0.1, 0.5), image.Rect(0, 0, 200, 200)},
		{"focal/clamped at the right", landscape, focal(0.9, 0.5), image.Rect(200, 0, 400, 200)},
		{"focal/corner clamps both axes", portrait, focal(1, 1), image.Rect(0, 200, 200, 400)},
		{"focal/portrait", portrait, focal(0, 0.4), image.Rect(0, 60, 200, 260)},
		{"focal/out-of-range values clamp", landscape, focal(1.5, -2), image.Rect(200, 0, 400, 200)},
		{"focal/on a sub-image", offset, focal(0.25, 0.5), image.Rect(50, 50, 250, 250)},

		{"smart/flat image falls back to centre", landscape, sq(Smart), image.Rect(100, 0, 300, 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CropRect(tt.src, tt.o); got != tt.want {
				t.Errorf("CropRect = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCropRectEmpty(t *testing.T) {
	tests := []struct {
		name string
		src  *image.NRGBA
		o    Options
	}{
		{"nil source", nil, Options{Width: 10, Height: 10}},
		{"empty source", image.NewNRGBA(image.Rectangle{}), Options{Width: 10, Height: 10}},
		{"zero box", newImage(10, 10, flat(grey)), Options{Width: 0, Height: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CropRect(tt.src, tt.o); !got.Empty() {
				t.Errorf("CropRect = %v, want empty", got)
			}
		})
	}
}
