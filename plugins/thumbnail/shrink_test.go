package thumbnail

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"
)

func TestPreShrinkFactor(t *testing.T) {
	tests := []struct {
		sw, sh, bw, bh, want int
	}{
		{3000, 3000, 200, 200, 7},
		{400, 400, 100, 100, 2},
		{399, 399, 100, 100, 1},
		{300, 300, 200, 200, 1},
		{50, 50, 100, 100, 1},
		{3000, 100, 300, 100, 1}, // the tighter axis decides
	}
	for _, tt := range tests {
		if got := preShrinkFactor(tt.sw, tt.sh, tt.bw, tt.bh); got != tt.want {
			t.Errorf("preShrinkFactor(%d, %d, %d, %d) = %d, want %d", tt.sw, tt.sh, tt.bw, tt.bh, got, tt.want)
		}
	}
}

func TestBoxShrink(t *testing.T) {
	// 5×3 region, k = 2: one leftover column (dropped on the right: the
	// split gives the left edge 0) and one leftover row (dropped at the
	// bottom), leaving blocks at x 0..3, y 0..1.
	src := newImage(5, 3, func(x, y int) color.NRGBA {
		switch {
		case x < 2:
			// Half opaque white over fully transparent "red": the red must
			// not leak into the average.
			if y == 0 {
				return color.NRGBA{255, 255, 255, 255}
			}
			return color.NRGBA{255, 0, 0, 0}
		case x < 4:
			return color.NRGBA{100, 50, 10, 255}
		}
		return color.NRGBA{0, 255, 0, 255}
	})
	got, err := boxShrink(context.Background(), src, src.Bounds(), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{
		128, 128, 128, 128, // premultiplied white at half alpha
		100, 50, 10, 255,
	}
	if got.Bounds() != image.Rect(0, 0, 2, 1) || string(got.Pix) != string(want) {
		t.Errorf("got %v %v, want %v", got.Bounds(), got.Pix, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := boxShrink(ctx, src, src.Bounds(), 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v, want context.Canceled", err)
	}
}
