package thumbnail

import (
	"context"
	"errors"
	"image"
	"testing"

	"golang.org/x/image/draw"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	box := func(name string, extra sdk.Params) sdktest.Case {
		p := sdk.Params{"width": 32, "height": 32}
		for k, v := range extra {
			p[k] = v
		}
		return sdktest.Case{Name: name, Operation: "thumbnail", Params: p, WantSize: image.Pt(32, 32)}
	}
	cases := []sdktest.Case{box("defaults", nil)}
	for _, g := range Gravities {
		cases = append(cases, box("gravity-"+string(g), sdk.Params{"gravity": string(g)}))
	}
	cases = append(cases,
		box("focal-corner", sdk.Params{"gravity": "focal", "focal_x": 0, "focal_y": 1}),
		box("no-sharpen", sdk.Params{"sharpen": false}),
		box("nearest", sdk.Params{"kernel": "nearest"}),
		box("approx-bilinear", sdk.Params{"kernel": "approx-bilinear"}),
		box("bilinear", sdk.Params{"kernel": "bilinear"}),
		sdktest.Case{Name: "wide", Operation: "thumbnail", Params: sdk.Params{"width": 60, "height": 10, "gravity": "smart"},
			WantSize: image.Pt(60, 10)},
		sdktest.Case{Name: "upscale", Operation: "thumbnail", Params: sdk.Params{"width": 200, "height": 100},
			WantSize: image.Pt(200, 100)},
		sdktest.Case{Name: "large-reduction-smart", Operation: "thumbnail", Params: sdk.Params{"width": 40, "height": 30, "gravity": "smart"},
			Input: sdktest.Gradient(1200, 900), WantSize: image.Pt(40, 30)},
	)
	sdktest.Run(t, func() sdk.Transformer { return New() }, cases...)
}

// TestPluginMatchesThumbnail checks that each parameter reaches the
// algorithm: the plugin's output is Thumbnail's for the same options.
func TestPluginMatchesThumbnail(t *testing.T) {
	src := sdktest.Gradient(600, 400)
	tests := []struct {
		name   string
		params sdk.Params
		want   Options
	}{
		{"defaults", sdk.Params{"width": 50, "height": 50},
			Options{Width: 50, Height: 50, Gravity: Center, Sharpen: true, Kernel: draw.CatmullRom}},
		{"west", sdk.Params{"width": 50, "height": 50, "gravity": "west"},
			Options{Width: 50, Height: 50, Gravity: West, Sharpen: true, Kernel: draw.CatmullRom}},
		{"southeast", sdk.Params{"width": 80, "height": 20, "gravity": "southeast", "sharpen": false},
			Options{Width: 80, Height: 20, Gravity: SouthEast, Kernel: draw.CatmullRom}},
		{"focal", sdk.Params{"width": 40, "height": 40, "gravity": "focal", "focal_x": 0.1, "focal_y": 0.25},
			Options{Width: 40, Height: 40, Gravity: Focal, FocalX: 0.1, FocalY: 0.25, Sharpen: true, Kernel: draw.CatmullRom}},
		{"smart nearest", sdk.Params{"width": 30, "height": 60, "gravity": "smart", "kernel": "nearest"},
			Options{Width: 30, Height: 60, Gravity: Smart, Sharpen: true, Kernel: draw.NearestNeighbor}},
		{"bilinear", sdk.Params{"width": 30, "height": 60, "kernel": "bilinear"},
			Options{Width: 30, Height: 60, Gravity: Center, Sharpen: true, Kernel: draw.BiLinear}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Transform(t.Context(), sdk.Request{Operation: "thumbnail", Params: tt.params, Image: src})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Thumbnail(t.Context(), src, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sdktest.Diff(want, got); diff != "" {
				t.Errorf("plugin output differs from Thumbnail(%+v): %s", tt.want, diff)
			}
		})
	}
}

func TestPluginSubImage(t *testing.T) {
	sub := sdktest.Gradient(100, 100).SubImage(image.Rect(20, 30, 80, 70)).(*image.NRGBA)
	out, err := New().Transform(t.Context(), sdk.Request{Operation: "thumbnail", Image: sub,
		Params: sdk.Params{"width": 60, "height": 40, "kernel": "nearest", "sharpen": false}})
	if err != nil {
		t.Fatal(err)
	}
	// Same size, nearest neighbour: the sub-image itself.
	if got, want := out.NRGBAAt(0, 0), sub.NRGBAAt(20, 30); got != want {
		t.Errorf("corner %v, want %v", got, want)
	}
}

func TestPluginRefuses(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	img := sdktest.Gradient(16, 16)
	tests := []struct {
		name   string
		ctx    context.Context
		params sdk.Params
		img    *image.NRGBA
		want   error
		field  string
	}{
		{"no size", t.Context(), sdk.Params{"gravity": "north"}, img, sdk.ErrInvalidParams, "height"},
		{"unknown gravity", t.Context(), sdk.Params{"width": 8, "height": 8, "gravity": "middle"}, img, sdk.ErrInvalidParams, "gravity"},
		{"too wide", t.Context(), sdk.Params{"width": MaxSide + 1, "height": 8}, img, sdk.ErrInvalidParams, "width"},
		{"focal outside", t.Context(), sdk.Params{"width": 8, "height": 8, "gravity": "focal", "focal_x": 1.5}, img, sdk.ErrInvalidParams, "focal_x"},
		{"empty image", t.Context(), sdk.Params{"width": 8, "height": 8}, image.NewNRGBA(image.Rect(0, 0, 0, 5)), sdk.ErrUnsupportedInput, ""},
		{"no image", t.Context(), sdk.Params{"width": 8, "height": 8}, nil, sdk.ErrUnsupportedInput, ""},
		{"cancelled", cancelled, sdk.Params{"width": 8, "height": 8, "gravity": "smart"}, img, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().Transform(tt.ctx, sdk.Request{Operation: "thumbnail", Params: tt.params, Image: tt.img})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Transform = %v, want %v", err, tt.want)
			}
			if tt.field == "" {
				return
			}
			var pe *sdk.ParamsError
			if !errors.As(err, &pe) || len(pe.Fields) == 0 || pe.Fields[0].Field != tt.field {
				t.Errorf("Transform = %v, want a *sdk.ParamsError about %s", err, tt.field)
			}
		})
	}
}
