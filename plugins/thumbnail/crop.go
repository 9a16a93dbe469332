package thumbnail

import (
	"context"
	"image"
	"math"
)

// CropRect returns the source rectangle that Thumbnail resamples: the
// largest rectangle with the box's aspect ratio, placed by o.Gravity, in
// src's coordinates. Out-of-range focal points are clamped here (Thumbnail
// rejects them through Validate). It returns the empty rectangle when src or
// the box is empty.
func CropRect(src *image.NRGBA, o Options) image.Rectangle {
	r, _ := cropRect(context.Background(), src, o)
	return r
}

func cropRect(ctx context.Context, src *image.NRGBA, o Options) (image.Rectangle, error) {
	if src == nil || src.Bounds().Empty() || o.Width <= 0 || o.Height <= 0 {
		return image.Rectangle{}, nil
	}
	b := src.Bounds()
	cw, ch := cropSize(b.Dx(), b.Dy(), o.Width, o.Height)
	spareX, spareY := b.Dx()-cw, b.Dy()-ch

	var x, y int
	switch o.Gravity {
	case Focal:
		x = centreOn(clamp01(o.FocalX)*float64(b.Dx()), cw, spareX)
		y = centreOn(clamp01(o.FocalY)*float64(b.Dy()), ch, spareY)
	case Smart:
		cx, cy, err := detailCentre(ctx, src, cw, ch)
		if err != nil {
			return image.Rectangle{}, err
		}
		x = centreOn(cx, cw, spareX)
		y = centreOn(cy, ch, spareY)
	default:
		ax, ay := compassAnchor(o.Gravity)
		x, y = ax*spareX/2, ay*spareY/2
	}
	return image.Rect(x, y, x+cw, y+ch).Add(b.Min), nil
}

// cropSize is the largest w×h inside srcW×srcH whose aspect ratio is
// boxW:boxH, rounded to whole pixels and never empty.
func cropSize(srcW, srcH, boxW, boxH int) (w, h int) {
	// Compare srcW/srcH with boxW/boxH without dividing.
	if int64(srcW)*int64(boxH) > int64(srcH)*int64(boxW) {
		h = srcH
		w = int(math.Round(float64(srcH) * float64(boxW) / float64(boxH)))
	} else {
		w = srcW
		h = int(math.Round(float64(srcW) * float64(boxH) / float64(boxW)))
	}
	return max(1, min(w, srcW)), max(1, min(h, srcH))
}

// compassAnchor places a compass gravity on each axis: 0 hugs the left or
// top edge, 1 centres, 2 hugs the right or bottom edge. Multiplied by half
// the spare length it gives the crop's offset. Center and anything unknown
// centre on both axes.
func compassAnchor(g Gravity) (ax, ay int) {
	switch g {
	case North:
		return 1, 0
	case South:
		return 1, 2
	case East:
		return 2, 1
	case West:
		return 0, 1
	case NorthEast:
		return 2, 0
	case NorthWest:
		return 0, 0
	case SouthEast:
		return 2, 2
	case SouthWest:
		return 0, 2
	}
	return 1, 1
}

// centreOn returns the offset that centres a span of length n on c, moved
// as little as needed to stay within 0..spare.
func centreOn(c float64, n, spare int) int {
	off := int(math.Round(c - float64(n)/2))
	return max(0, min(off, spare))
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0.5
	}
	return math.Max(0, math.Min(1, v))
}
