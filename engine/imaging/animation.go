package imaging

import (
	"image"
	"image/gif"
	"io"

	"golang.org/x/image/draw"
)

// decodeAnimation decodes every frame of a GIF and composites each on the
// logical screen the way viewers do: frames are drawn over what is there,
// then disposed of as their disposal method says before the next one.
func decodeAnimation(src *source, info Info, lim Limits) (*Decoded, error) {
	if n := int64(info.Frames) * int64(info.Width) * int64(info.Height); n > lim.MaxAnimationPixels {
		return nil, errorf(TooLarge, nil, "%d frames of %dx%d = %.1f MP exceed the %.1f MP animation limit",
			info.Frames, info.Width, info.Height, float64(n)/1e6, float64(lim.MaxAnimationPixels)/1e6)
	}
	t, err := src.rewind()
	if err != nil {
		return nil, err
	}
	g, err := guard(GIF, "decode", func() (*gif.GIF, error) { return gif.DecodeAll(t) })
	if err != nil {
		return nil, classify(t, GIF, "decode", err)
	}
	screen := image.Rect(0, 0, info.Width, info.Height)
	canvas := image.NewNRGBA(screen)
	var saved *image.NRGBA // canvas before a DisposalPrevious frame
	d := &Decoded{Info: info, LoopCount: g.LoopCount}
	for i, fr := range g.Image {
		disposal := byte(gif.DisposalNone)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		delay := 0
		if i < len(g.Delay) {
			delay = g.Delay[i]
		}
		area := fr.Bounds().Intersect(screen)
		if disposal == gif.DisposalPrevious {
			saved = cloneNRGBA(canvas)
		}
		draw.Draw(canvas, area, fr, area.Min, draw.Over)
		d.Frames = append(d.Frames, Frame{Image: cloneNRGBA(canvas), Delay: delay, Disposal: disposal})
		switch disposal {
		case gif.DisposalBackground:
			draw.Draw(canvas, area, image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			copy(canvas.Pix, saved.Pix)
		}
	}
	d.Info.Frames = len(d.Frames)
	d.Image = d.Frames[0].Image
	return d, nil
}

func cloneNRGBA(m *image.NRGBA) *image.NRGBA {
	c := image.NewNRGBA(m.Rect)
	copy(c.Pix, m.Pix)
	return c
}

// EncodeAnimation writes frames as an animated GIF. Every frame is a full
// picture of the screen (as in Decoded.Frames, after whatever steps ran on
// each); they must all have the size of the first. Each keeps its delay. A
// frame keeps its source disposal method when the next frame is opaque
// (then every method shows the same thing); otherwise it is disposed to the
// background, so that transparent pixels of the next frame show through to
// the page as they did in the source, not to the frame before.
func EncodeAnimation(w io.Writer, frames []Frame, loopCount int) error {
	if len(frames) == 0 {
		return errorf(Unsupported, nil, "animation has no frames")
	}
	size := frames[0].Image.Bounds().Size()
	g := &gif.GIF{LoopCount: loopCount, Config: image.Config{Width: size.X, Height: size.Y}}
	for i, fr := range frames {
		if fr.Image.Bounds().Size() != size {
			return errorf(Unsupported, nil, "frame %d is %v, not %v like the first", i, fr.Image.Bounds().Size(), size)
		}
		disposal := fr.Disposal
		if i+1 < len(frames) && !frames[i+1].Image.Opaque() {
			disposal = gif.DisposalBackground
		}
		p := quantize(fr.Image, 256)
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, fr.Delay)
		g.Disposal = append(g.Disposal, disposal)
	}
	return gif.EncodeAll(w, g)
}
