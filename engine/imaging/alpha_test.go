package imaging

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/seed62486500/resizer/plugins/resize"
	"github.com/seed62486500/resizer/plugins/sdk"
)

// whiteDisc is a white disc with an anti-aliased edge on transparent black,
// the worst case for fringes: every transparent pixel stores black.
func whiteDisc(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	c := float64(size) / 2
	for y := range size {
		for x := range size {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c)
			a := min(max(c*0.8-d+0.5, 0), 1) // one-pixel ramp
			if a > 0 {
				img.SetNRGBA(x, y, color.NRGBA{255, 255, 255, uint8(math.Round(a * 255))})
			}
		}
	}
	return img
}

// Through the built-in resize plugin (what the pipeline runs), every pixel
// that is at all visible stays white: the scaler works on premultiplied
// colour, so transparent black contributes nothing.
func TestAlphaEdgeHasNoFringeThroughResize(t *testing.T) {
	src := whiteDisc(301)
	for _, kernel := range []string{resize.KernelCatmullRom, resize.KernelBilinear, resize.KernelApproxBilinear} {
		for _, width := range []int{97, 150, 40} {
			req := sdk.Request{Operation: "resize", Image: src, Params: sdk.Params{"width": width, "kernel": kernel}}
			out, err := resize.Transformer{}.Transform(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			darkest, visible := 255, 0
			for i := 0; i < len(out.Pix); i += 4 {
				if out.Pix[i+3] < 8 {
					continue // colour under alpha 8/255 cannot be seen
				}
				visible++
				darkest = min(darkest, int(out.Pix[i]), int(out.Pix[i+1]), int(out.Pix[i+2]))
			}
			t.Logf("%s to %d px: darkest visible pixel %d of %d", kernel, width, darkest, visible)
			if darkest < 245 {
				t.Errorf("%s to %d px: a visible edge pixel is %d, not white: dark fringe", kernel, width, darkest)
			}
		}
	}
}

// Rotation keeps non-premultiplied colour exact under low alpha.
func TestOrientKeepsColourUnderAlpha(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for i := range src.Pix {
		src.Pix[i] = []uint8{200, 100, 50, 3}[i%4]
	}
	data := withPNGChunk(encodePNG(t, src), "eXIf", tiffWithOrientation(littleEndian, 6))
	img, _, err := Decode(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ToNRGBA(img).NRGBAAt(0, 0); got != (color.NRGBA{200, 100, 50, 3}) {
		t.Errorf("rotated pixel = %v, want {200 100 50 3}", got)
	}
}

func TestEncodeJPEGFlattensOnBackground(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 32, 16))
	for y := range 16 {
		for x := range 32 {
			switch {
			case x < 16:
				src.SetNRGBA(x, y, color.NRGBA{}) // fully transparent
			default:
				src.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 128}) // half white
			}
		}
	}
	for _, tt := range []struct {
		name        string
		bg          color.Color
		clear, half color.RGBA
	}{
		{"default white", nil, white, white},
		{"red", color.NRGBA{255, 0, 0, 255}, red, color.RGBA{255, 128, 128, 255}},
		{"black", color.Black, color.RGBA{0, 0, 0, 255}, color.RGBA{128, 128, 128, 255}},
		{"translucent background taken as opaque", color.NRGBA{0, 0, 255, 10}, blue, color.RGBA{128, 128, 255, 255}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeWith(&buf, src, JPEG, EncodeOptions{Quality: 95, Background: tt.bg}); err != nil {
				t.Fatal(err)
			}
			img, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := img.At(4, 8); !nearRGBA(got, tt.clear, 6) {
				t.Errorf("transparent side = %v, want %v", got, tt.clear)
			}
			if got := img.At(28, 8); !nearRGBA(got, tt.half, 6) {
				t.Errorf("half-transparent side = %v, want %v", got, tt.half)
			}
		})
	}
}
