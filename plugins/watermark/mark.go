package watermark

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/draw"
)

// buildMark returns the mark for a w×h output, premultiplied: the scaled
// overlay, the rendered text, or the overlay with the text centred below it,
// shrunk to fit w×h if needed.
func buildMark(o Options, w, h int) (*image.RGBA, error) {
	var overlay, text *image.RGBA
	if o.Overlay != nil {
		ob := o.Overlay.Bounds()
		mw := max(1, int(math.Round(o.Scale*float64(w))))
		mh := max(1, int(math.Round(float64(mw)*float64(ob.Dy())/float64(ob.Dx()))))
		overlay = resize(o.Overlay, mw, mh)
	}
	gap := 0
	if o.Text != "" {
		lh, err := fitTextHeight(o.Text, max(1, int(math.Round(o.TextSize*float64(w)))), w, h)
		if err != nil {
			return nil, err
		}
		t, err := RenderText(o.Text, o.TextColor, lh)
		if err != nil {
			return nil, err
		}
		text = premultiply(t)
		gap = lh / 4
	}

	mark := overlay
	switch {
	case text == nil:
	case overlay == nil:
		mark = text
	default:
		ob, tb := overlay.Bounds(), text.Bounds()
		mark = image.NewRGBA(image.Rect(0, 0, max(ob.Dx(), tb.Dx()), ob.Dy()+gap+tb.Dy()))
		draw.Draw(mark, ob.Add(image.Pt((mark.Rect.Dx()-ob.Dx())/2, 0)), overlay, ob.Min, draw.Src)
		draw.Draw(mark, tb.Add(image.Pt((mark.Rect.Dx()-tb.Dx())/2, ob.Dy()+gap)), text, tb.Min, draw.Src)
	}

	// Shrink a mark that would not fit, keeping its aspect ratio.
	if mb := mark.Bounds(); mb.Dx() > w || mb.Dy() > h {
		f := math.Min(float64(w)/float64(mb.Dx()), float64(h)/float64(mb.Dy()))
		fitted := image.NewRGBA(image.Rect(0, 0,
			max(1, min(w, int(float64(mb.Dx())*f))),
			max(1, min(h, int(float64(mb.Dy())*f)))))
		draw.CatmullRom.Scale(fitted, fitted.Bounds(), mark, mb, draw.Src, nil)
		mark = fitted
	}
	return mark, nil
}

// fitTextHeight lowers a line height until the text fits in w×h, so text is
// never rendered larger than the image only to be shrunk again.
func fitTextHeight(text string, lh, w, h int) (int, error) {
	lh = min(lh, MaxTextHeight)
	tw, err := textWidth(text, lh)
	if err != nil {
		return 0, err
	}
	lines := 1
	for _, r := range text {
		if r == '\n' {
			lines++
		}
	}
	f := math.Min(float64(w)/float64(max(1, tw)), float64(h)/float64(lines*lh))
	if f < 1 {
		lh = max(1, int(float64(lh)*f))
	}
	return lh, nil
}

// resize scales src to w×h, premultiplied. An image already at that size is
// converted exactly, without resampling.
func resize(src *image.NRGBA, w, h int) *image.RGBA {
	if src.Bounds().Size() == image.Pt(w, h) {
		return premultiply(src)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// premultiply converts m to premultiplied RGBA with 8-bit rounding, so an
// opaque pixel keeps its exact colour.
func premultiply(m *image.NRGBA) *image.RGBA {
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*b.Dx()]
		d := out.Pix[y*out.Stride:][:4*b.Dx()]
		for i := 0; i < len(s); i += 4 {
			a := uint32(s[i+3])
			d[i+0] = uint8((uint32(s[i+0])*a + 0x7f) / 0xff)
			d[i+1] = uint8((uint32(s[i+1])*a + 0x7f) / 0xff)
			d[i+2] = uint8((uint32(s[i+2])*a + 0x7f) / 0xff)
			d[i+3] = uint8(a)
		}
	}
	return out
}

// white is the default text colour.
var white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
