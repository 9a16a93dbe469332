package imaging

import (
	"image"

	"golang.org/x/image/draw"
)

// Fit returns the size of srcW×srcH scaled to fit inside w×h, keeping the
// aspect ratio. A zero (or negative) w or h leaves that side unconstrained.
// It never upscales and never returns less than 1×1.
func Fit(srcW, srcH, w, h int) (int, int) {
	if srcW <= 0 || srcH <= 0 {
		return 1, 1
	}
	sw, sh, tw, th := int64(srcW), int64(srcH), int64(w), int64(h)
	var ow, oh int64
	switch {
	case tw <= 0 && th <= 0, (tw <= 0 || tw >= sw) && (th <= 0 || th >= sh):
		ow, oh = sw, sh // unconstrained or already fits
	case th <= 0 || (tw > 0 && tw*sh <= th*sw): // width is the binding side
		ow, oh = tw, (sh*tw+sw/2)/sw
	default: // height is the binding side
		ow, oh = (sw*th+sh/2)/sh, th
	}
	return int(max(ow, 1)), int(max(oh, 1))
}

// Resize resamples src to exactly w×h (each at least 1) with Catmull-Rom.
//
// The result is a new *image.RGBA, i.e. premultiplied alpha. That is both the
// fast and the correct choice with golang.org/x/image/draw: its kernel scaler
// has specialised loops only for an *image.RGBA destination (from Gray,
// NRGBA, RGBA and 4:4:4/4:2:2/4:2:0/4:4:0 YCbCr sources; everything else goes
// through RGBA64At without per-pixel allocation), and it filters in
// premultiplied space, clamping colour to alpha, so transparent pixels
// (whose stored colour is often black) cannot bleed a dark fringe into
// partially transparent edges. An NRGBA destination would take the generic
// Set path, several times slower for the same result.
func Resize(src image.Image, w, h int) draw.Image {
	w, h = max(w, 1), max(h, 1)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sb := src.Bounds()
	if sb.Dx() == w && sb.Dy() == h {
		draw.Draw(dst, dst.Rect, src, sb.Min, draw.Src)
		return dst
	}
	draw.CatmullRom.Scale(dst, dst.Rect, src, sb, draw.Src, nil)
	return dst
}
