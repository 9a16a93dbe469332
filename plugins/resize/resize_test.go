package resize

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	sdktest.Run(t, func() sdk.Transformer { return Transformer{} },
		sdktest.Case{Name: "inside", Operation: "resize", Params: sdk.Params{"width": 32, "height": 32}, WantSize: image.Pt(32, 24)},
		sdktest.Case{Name: "cover", Operation: "resize", Params: sdk.Params{"width": 20, "height": 20, "fit": "cover"}, WantSize: image.Pt(20, 20)},
		sdktest.Case{Name: "exact", Operation: "resize", Params: sdk.Params{"width": 10, "height": 40, "fit": "exact"}, WantSize: image.Pt(10, 40)},
		sdktest.Case{Name: "pad", Operation: "resize", Params: sdk.Params{"width": 40, "height": 40, "fit": "pad", "background": "#ffffff"}, WantSize: image.Pt(40, 40)},
		sdktest.Case{Name: "upscale-nearest", Operation: "resize", Params: sdk.Params{"width": 128, "upscale": true, "kernel": "nearest"}, WantSize: image.Pt(128, 96)},
		sdktest.Case{Name: "approx-bilinear", Operation: "resize", Params: sdk.Params{"height": 30, "kernel": "approx-bilinear"}, WantSize: image.Pt(40, 30)},
		sdktest.Case{Name: "bilinear", Operation: "resize", Params: sdk.Params{"height": 30, "kernel": "bilinear"}, WantSize: image.Pt(40, 30)},
	)
}

func TestPlan(t *testing.T) {
	src := image.Pt(4000, 3000)
	tests := []struct {
		name    string
		src     image.Point
		w, h    int
		fit     string
		upscale bool
		want    geometry
	}{
		{"width only", src, 1600, 0, FitInside, false,
			geometry{crop: image.Rect(0, 0, 4000, 3000), scaled: image.Pt(1600, 1200), canvas: image.Pt(1600, 1200)}},
		{"height only", src, 0, 300, FitCover, false,
			geometry{crop: image.Rect(0, 0, 4000, 3000), scaled: image.Pt(400, 300), canvas: image.Pt(400, 300)}},
		{"inside box", src, 1600, 1600, FitInside, false,
			geometry{crop: image.Rect(0, 0, 4000, 3000), scaled: image.Pt(1600, 1200), canvas: image.Pt(1600, 1200)}},
		{"inside never enlarges", image.Pt(400, 300), 1600, 1600, FitInside, false,
			geometry{crop: image.Rect(0, 0, 400, 300), scaled: image.Pt(400, 300), canvas: image.Pt(400, 300)}},
		{"inside upscale", image.Pt(400, 300), 1600, 1600, FitInside, true,
			geometry{crop: image.Rect(0, 0, 400, 300), scaled: image.Pt(1600, 1200), canvas: image.Pt(1600, 1200)}},
		{"cover square crops the sides", src, 200, 200, FitCover, false,
			geometry{crop: image.Rect(500, 0, 3500, 3000), scaled: image.Pt(200, 200), canvas: image.Pt(200, 200)}},
		{"cover portrait box", src, 300, 600, FitCover, false,
			geometry{crop: image.Rect(1250, 0, 2750, 3000), scaled: image.Pt(300, 600), canvas: image.Pt(300, 600)}},
		// Without upscale the box is cropped to the image, not enlarged.
		{"cover box larger than source", image.Pt(400, 300), 600, 600, FitCover, false,
			geometry{crop: image.Rect(0, 0, 400, 300), scaled: image.Pt(400, 300), canvas: image.Pt(400, 300)}},
		{"cover box taller than source", image.Pt(400, 300), 200, 600, FitCover, false,
			geometry{crop: image.Rect(100, 0, 300, 300), scaled: image.Pt(200, 300), canvas: image.Pt(200, 300)}},
		{"exact stretches", src, 100, 100, FitExact, false,
			geometry{crop: image.Rect(0, 0, 4000, 3000), scaled: image.Pt(100, 100), canvas: image.Pt(100, 100)}},
		{"exact shrinks the box to the source", image.Pt(400, 300), 800, 200, FitExact, false,
			geometry{crop: image.Rect(0, 0, 400, 300), scaled: image.Pt(400, 100), canvas: image.Pt(400, 100)}},
		{"pad centres", src, 1600, 1600, FitPad, false,
			geometry{crop: image.Rect(0, 0, 4000, 3000), scaled: image.Pt(1600, 1200), canvas: image.Pt(1600, 1600), offset: image.Pt(0, 200)}},
		{"pad small source keeps size", image.Pt(100, 50), 200, 200, FitPad, false,
			geometry{crop: image.Rect(0, 0, 100, 50), scaled: image.Pt(100, 50), canvas: image.Pt(200, 200), offset: image.Pt(50, 75)}},
		{"tiny result is at least one pixel", image.Pt(10000, 10), 100, 0, FitInside, false,
			geometry{crop: image.Rect(0, 0, 10000, 10), scaled: image.Pt(100, 1), canvas: image.Pt(100, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plan(tt.src, tt.w, tt.h, tt.fit, tt.upscale); got != tt.want {
				t.Errorf("plan(%v, %d, %d, %s, %v) = %+v, want %+v", tt.src, tt.w, tt.h, tt.fit, tt.upscale, got, tt.want)
			}
		})
	}
}

func TestTransformPixels(t *testing.T) {
	ctx := context.Background()
	// A red image padded into a white square: red in the middle, white
	// bars above and below.
	red := image.NewNRGBA(image.Rect(0, 0, 40, 20))
	for i := 0; i < len(red.Pix); i += 4 {
		copy(red.Pix[i:], []byte{255, 0, 0, 255})
	}
	out, err := Transformer{}.Transform(ctx, sdk.Request{Operation: "resize", Image: red,
		Params: sdk.Params{"width": 20, "height": 20, "fit": "pad", "background": "white"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.NRGBAAt(10, 10); got != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("centre = %v, want red", got)
	}
	if got := out.NRGBAAt(10, 1); got != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("top bar = %v, want white", got)
	}
	// A sub-image input is read from its own origin.
	sub := sdktest.Gradient(64, 48).SubImage(image.Rect(10, 10, 42, 34)).(*image.NRGBA)
	out, err = Transformer{}.Transform(ctx, sdk.Request{Operation: "resize", Image: sub, Params: sdk.Params{"width": 32}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.NRGBAAt(0, 0), sub.NRGBAAt(10, 10); got != want {
		t.Errorf("same-size resize of a sub-image: corner %v, want %v", got, want)
	}
}

func TestValidate(t *testing.T) {
	err := Transformer{}.Validate(context.Background(), "resize", sdk.Params{"fit": "cover"})
	var pe *sdk.ParamsError
	if !errors.As(err, &pe) || !errors.Is(err, sdk.ErrInvalidParams) {
		t.Fatalf("no width or height: %v, want a *sdk.ParamsError", err)
	}
}
