package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"math"
	"slices"
	"testing"
)

var transparentPal = color.Palette{color.RGBA{}, color.RGBA{0, 0, 255, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{255, 255, 255, 255}}

// animatedGIF is a 40×20 animation of four frames, each a 10×10 square, with
// every disposal method. When opaque, the first frame fills the screen with
// black.
func animatedGIF(t testing.TB, opaque bool) []byte {
	t.Helper()
	pal := append(color.Palette{}, transparentPal...)
	if opaque {
		pal[0] = color.RGBA{0, 0, 0, 255}
	}
	square := func(r image.Rectangle, idx uint8) *image.Paletted {
		p := image.NewPaletted(r, pal)
		for i := range p.Pix {
			p.Pix[i] = idx
		}
		return p
	}
	f0 := image.NewPaletted(image.Rect(0, 0, 40, 20), pal)
	for y := range 10 {
		for x := range 10 {
			f0.SetColorIndex(x, y, 1) // blue in A
		}
	}
	g := &gif.GIF{
		Image: []*image.Paletted{
			f0,
			square(image.Rect(10, 0, 20, 10), 2), // red in B
			square(image.Rect(20, 0, 30, 10), 3), // green in C
			square(image.Rect(30, 10, 40, 20), 4),
		},
		Delay:     []int{10, 20, 30, 40},
		Disposal:  []byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalPrevious, gif.DisposalNone},
		LoopCount: 3,
		Config:    image.Config{Width: 40, Height: 20, ColorModel: pal},
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// What each frame shows, by hand from the disposal rules: at the centres of
// A (0..10, 0..10), B (10..20), C (20..30) in the top row, D (30..40, 10..20)
// and an area no frame touches.
func expectedFrames(bg color.RGBA) [][5]color.RGBA {
	b, r, g, w := color.RGBA{0, 0, 255, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{255, 255, 255, 255}
	return [][5]color.RGBA{
		{b, bg, bg, bg, bg},
		{b, r, bg, bg, bg},
		// B was disposed to the background, which viewers take as
		// transparent whatever the background colour index says.
		{b, {}, g, bg, bg},
		{b, {}, bg, w, bg}, // C was disposed to what was before it
	}
}

var probes = []image.Point{{5, 5}, {15, 5}, {25, 5}, {35, 15}, {35, 5}}

func checkFrames(t *testing.T, frames []Frame, want [][5]color.RGBA, scale float64, tol int) {
	t.Helper()
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d", len(frames), len(want))
	}
	for i, fr := range frames {
		for j, p := range probes {
			x, y := int(float64(p.X)*scale), int(float64(p.Y)*scale)
			if got := fr.Image.At(x, y); !nearRGBA(got, want[i][j], tol) {
				t.Errorf("frame %d at (%d,%d) = %v, want %v", i, x, y, got, want[i][j])
			}
		}
	}
}

func psnr(a, b image.Image) float64 {
	var se float64
	bounds := a.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			ca := color.RGBAModel.Convert(a.At(x, y)).(color.RGBA)
			cb := color.RGBAModel.Convert(b.At(x, y)).(color.RGBA)
			for _, d := range []float64{float64(ca.R) - float64(cb.R), float64(ca.G) - float64(cb.G), float64(ca.B) - float64(cb.B), float64(ca.A) - float64(cb.A)} {
				se += d * d
			}
		}
	}
	mse := se / float64(4*bounds.Dx()*bounds.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func TestAnimatedGIFInAndOut(t *testing.T) {
	for _, tt := range []struct {
		name         string
		opaque       bool
		wantDisposal []byte
	}{
		// Transparent frames: each output frame is the whole picture, so a
		// frame followed by a transparent one is cleared before it.
		{"transparent", false, []byte{gif.DisposalBackground, gif.DisposalBackground, gif.DisposalBackground, gif.DisposalNone}},
		// The first two pictures are opaque, so the first frame keeps its
		// method (any shows the same); the hole frame 1 leaves behind makes
		// the next ones transparent.
		{"opaque start", true, []byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalBackground, gif.DisposalNone}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bg := color.RGBA{}
			if tt.opaque {
				bg = color.RGBA{0, 0, 0, 255}
			}
			src := animatedGIF(t, tt.opaque)

			first, err := DecodeWith(bytes.NewReader(src), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if first.Frames != nil || first.Info.Frames != 4 {
				t.Errorf("default decode: %d frames decoded, info says %d; want the first only, info 4", len(first.Frames), first.Info.Frames)
			}

			d, err := DecodeWith(bytes.NewReader(src), DecodeOptions{Animation: AllFrames})
			if err != nil {
				t.Fatal(err)
			}
			checkFrames(t, d.Frames, expectedFrames(bg), 1, 0)
			if d.LoopCount != 3 {
				t.Errorf("loop count %d, want 3", d.LoopCount)
			}

			// Every frame resized to half, as the pipeline does per frame.
			var resized []Frame
			for _, fr := range d.Frames {
				resized = append(resized, Frame{Image: ToNRGBA(Resize(fr.Image, 20, 10)), Delay: fr.Delay, Disposal: fr.Disposal})
			}
			var buf bytes.Buffer
			if err := EncodeAnimation(&buf, resized, d.LoopCount); err != nil {
				t.Fatal(err)
			}
			g, err := gif.DecodeAll(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.Delay, []int{10, 20, 30, 40}) || g.LoopCount != 3 {
				t.Errorf("delays %v, loop %d; want [10 20 30 40], 3", g.Delay, g.LoopCount)
			}
			if !slices.Equal(g.Disposal, tt.wantDisposal) {
				t.Errorf("disposal %v, want %v", g.Disposal, tt.wantDisposal)
			}
			back, err := DecodeWith(bytes.NewReader(buf.Bytes()), DecodeOptions{Animation: AllFrames})
			if err != nil {
				t.Fatal(err)
			}
			if back.Info.Width != 20 || back.Info.Height != 10 {
				t.Fatalf("output is %dx%d, want 20x10", back.Info.Width, back.Info.Height)
			}
			checkFrames(t, back.Frames, expectedFrames(bg), 0.5, 0)
			worst := math.Inf(1)
			for i := range resized {
				worst = min(worst, psnr(resized[i].Image, back.Frames[i].Image))
			}
			t.Logf("%s: worst frame PSNR output vs resized source %.1f dB", tt.name, worst)
			if worst < 30 {
				t.Errorf("worst frame PSNR %.1f dB, want at least 30", worst)
			}
		})
	}
}

func TestAnimationPixelCap(t *testing.T) {
	src := animatedGIF(t, false) // 4 frames of 40×20 = 3200 pixels
	for _, tt := range []struct {
		cap     int64
		wantErr bool
	}{{3200, false}, {3199, true}} {
		_, err := DecodeWith(bytes.NewReader(src), DecodeOptions{Animation: AllFrames, Limits: Limits{MaxAnimationPixels: tt.cap}})
		if tt.wantErr {
			if kindOf(t, err) != TooLarge {
				t.Errorf("cap %d: err %v, want TooLarge", tt.cap, err)
			}
		} else if err != nil {
			t.Errorf("cap %d: %v", tt.cap, err)
		}
		// The first frame alone is not an animation: no cap applies.
		if _, err := DecodeWith(bytes.NewReader(src), DecodeOptions{Limits: Limits{MaxAnimationPixels: tt.cap}}); err != nil {
			t.Errorf("first frame under cap %d: %v", tt.cap, err)
		}
	}
}
