package thumbnail

import (
	"image"
	"image/color"
	"testing"
)

// texturedPatch draws a 1-pixel checkerboard inside patch over a background
// with a gentle horizontal gradient (low energy everywhere, but not zero).
func texturedPatch(w, h int, patch image.Rectangle) *image.NRGBA {
	return newImage(w, h, func(x, y int) color.NRGBA {
		if (image.Point{x, y}).In(patch) {
			if (x+y)%2 == 0 {
				return color.NRGBA{20, 20, 20, 255}
			}
			return color.NRGBA{235, 235, 235, 255}
		}
		v := uint8(100 + 40*x/w)
		return color.NRGBA{v, v, v + 10, 255}
	})
}

func TestSmartCropFindsTexture(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		patch image.Rectangle
		box   image.Point
	}{
		{"landscape/top-left", 600, 300, image.Rect(10, 10, 90, 90), image.Pt(100, 100)},
		{"landscape/bottom-right", 600, 300, image.Rect(500, 200, 590, 290), image.Pt(100, 100)},
		{"landscape/right edge, tall box", 600, 300, image.Rect(540, 120, 600, 180), image.Pt(50, 100)},
		{"portrait/top-right", 300, 600, image.Rect(210, 10, 290, 90), image.Pt(100, 100)},
		{"portrait/bottom-left", 300, 600, image.Rect(5, 520, 85, 595), image.Pt(100, 100)},
		{"portrait/wide box", 300, 600, image.Rect(100, 400, 200, 460), image.Pt(200, 100)},
		// Cells of 6×6 pixels: the checkerboard averages to flat grey per
		// cell and must still be found through the in-cell variance.
		{"large landscape/bottom-left", 1500, 900, image.Rect(20, 780, 140, 880), image.Pt(100, 100)},
		{"large portrait/top-right", 900, 1500, image.Rect(770, 30, 880, 150), image.Pt(100, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := texturedPatch(tt.w, tt.h, tt.patch)
			o := Options{Width: tt.box.X, Height: tt.box.Y, Gravity: Smart}
			if centre := CropRect(src, Options{Width: tt.box.X, Height: tt.box.Y}); tt.patch.In(centre) {
				t.Fatalf("bad case: the centre crop %v already holds the patch", centre)
			}
			r := CropRect(src, o)
			cw, ch := cropSize(tt.w, tt.h, tt.box.X, tt.box.Y)
			if r.Dx() != cw || r.Dy() != ch {
				t.Fatalf("crop %v is not %dx%d", r, cw, ch)
			}
			if !tt.patch.In(r) {
				t.Errorf("crop %v does not contain the textured patch %v", r, tt.patch)
			}
		})
	}
}

func TestSmartCropIgnoresTransparentNoise(t *testing.T) {
	// Fully transparent pixels hiding a loud pattern must count as flat; the
	// only visible detail is a small patch at the bottom.
	patch := image.Rect(20, 340, 80, 390)
	src := newImage(100, 400, func(x, y int) color.NRGBA {
		if (image.Point{x, y}).In(patch) && (x+y)%2 == 0 {
			return color.NRGBA{255, 255, 255, 255}
		}
		if (image.Point{x, y}).In(patch) {
			return color.NRGBA{0, 0, 0, 255}
		}
		if y < 200 && (x/2+y/2)%2 == 0 {
			return color.NRGBA{255, 0, 255, 0}
		}
		return color.NRGBA{0, 0, 0, 0}
	})
	r := CropRect(src, Options{Width: 100, Height: 100, Gravity: Smart})
	if !patch.In(r) {
		t.Errorf("crop %v does not contain the visible patch %v", r, patch)
	}
}
