// Package resize is resizer's built-in resize step, an sdk.Transformer on
// golang.org/x/image/draw. The daemon runs it in process; its tests run it
// over gRPC through the SDK's conformance suite, exactly like a third
// party's plugin.
package resize

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"

	"golang.org/x/image/draw"

	"github.com/seed62486500/resizer/plugins/internal/resample"
	"github.com/seed62486500/resizer/plugins/sdk"
)

// Version is the plugin's version.
const Version = "1.1.0"

// Fit modes.
const (
	FitInside = "inside" // scale to fit within the box, keep aspect ratio
	FitCover  = "cover"  // scale to cover the box, crop the overflow (centred)
	FitExact  = "exact"  // stretch to the box
	FitPad    = "pad"    // fit inside, then pad to the box with background
)

// Kernels, from fastest to sharpest.
const (
	KernelNearest        = "nearest"
	KernelApproxBilinear = "approx-bilinear"
	KernelBilinear       = "bilinear"
	KernelCatmullRom     = "catmull-rom"
	KernelLanczos3       = "lanczos3"
)

// MaxSide bounds width and height.
const MaxSide = 1 << 15

var info = sdk.Info{
	Name:    "resize",
	Version: Version,
	Operations: []sdk.Operation{{
		Name: "resize",
		Doc:  "Scale to a width and/or height; never enlarges unless upscale is set.",
		Params: []sdk.Param{
			{Name: "width", Type: sdk.TypeInt, Min: sdk.Bound(1), Max: sdk.Bound(MaxSide),
				Doc: "Target width in pixels; omit to follow the height and the aspect ratio."},
			{Name: "height", Type: sdk.TypeInt, Min: sdk.Bound(1), Max: sdk.Bound(MaxSide),
				Doc: "Target height in pixels; omit to follow the width and the aspect ratio."},
			{Name: "fit", Type: sdk.TypeEnum, Default: FitInside, Enum: []string{FitInside, FitCover, FitExact, FitPad},
				Doc: "How the image meets a width x height box: inside, cover (centred crop), exact (stretch) or pad."},
			{Name: "upscale", Type: sdk.TypeBool, Default: false,
				Doc: "Allow the output to be larger than the input."},
			{Name: "kernel", Type: sdk.TypeEnum, Default: KernelCatmullRom,
				Enum: []string{KernelNearest, KernelApproxBilinear, KernelBilinear, KernelCatmullRom, KernelLanczos3},
				Doc:  "Resampling kernel, from fastest to sharpest; reductions of 5x or more start with a box average and end with lanczos3 (bilinear stays bilinear)."},
			{Name: "background", Type: sdk.TypeColor, Default: color.NRGBA{},
				Doc: "Colour of the padding in pad mode; transparent by default."},
		},
	}},
}

// Transformer is the resize plugin.
type Transformer struct{}

var _ sdk.Transformer = Transformer{}

// Describe returns the plugin's declaration.
func (Transformer) Describe(context.Context) (sdk.Info, error) { return info, nil }

// Validate checks the declared parameters and that at least one of width
// and height is given.
func (Transformer) Validate(_ context.Context, op string, p sdk.Params) error {
	if err := sdk.CheckParams(info, op, p); err != nil {
		return err
	}
	if !p.Has("width") && !p.Has("height") {
		return &sdk.ParamsError{Operation: op, Fields: []sdk.FieldError{{Field: "width", Message: "or height is required"}}}
	}
	return nil
}

// Transform resizes req.Image. ctx is looked at between bands of output
// rows: a cancelled resize returns within a band's time, and nothing of it
// reads req.Image after Transform returns.
func (t Transformer) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	p, err := sdk.ResolveParams(info, req.Operation, req.Params)
	if err != nil {
		return nil, err
	}
	if err := t.Validate(ctx, req.Operation, p); err != nil {
		return nil, err
	}
	if req.Image == nil || req.Image.Rect.Empty() {
		return nil, fmt.Errorf("%w: empty image", sdk.ErrUnsupportedInput)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := plan(req.Image.Rect.Size(), p.Int("width"), p.Int("height"), p.String("fit"), p.Bool("upscale"))
	src := req.Image
	sr := g.crop.Add(src.Rect.Min)
	scaled, err := scale(ctx, kernel(p.String("kernel")), src, sr, g.scaled)
	if err != nil {
		return nil, err
	}
	if g.canvas == g.scaled && g.offset == (image.Point{}) {
		return scaled, nil
	}
	out := image.NewNRGBA(image.Rectangle{Max: g.canvas})
	draw.Draw(out, out.Rect, image.NewUniform(p.Color("background")), image.Point{}, draw.Src)
	draw.Draw(out, image.Rectangle{Min: g.offset, Max: g.offset.Add(g.scaled)}, scaled, image.Point{}, draw.Over)
	return out, nil
}

// geometry is what plan decides: which part of the source to use, the
// size it is scaled to, and where that lands on an output canvas.
type geometry struct {
	crop   image.Rectangle // in source coordinates relative to its origin
	scaled image.Point     // size of the scaled crop
	canvas image.Point     // output size; equals scaled except in pad mode
	offset image.Point     // where the scaled crop sits on the canvas
}

// plan computes the geometry of a resize of an image of size src to a box
// of w x h (either may be 0: follow the other and the aspect ratio).
func plan(src image.Point, w, h int, fit string, upscale bool) geometry {
	sw, sh := float64(src.X), float64(src.Y)
	full := image.Rectangle{Max: src}
	if w == 0 || h == 0 {
		// One side given: the box is unbounded on the other, and all
		// fit modes mean the same thing.
		s := float64(w) / sw
		if w == 0 {
			s = float64(h) / sh
		}
		if !upscale {
			s = math.Min(s, 1)
		}
		size := scaledSize(src, s, s)
		return geometry{crop: full, scaled: size, canvas: size}
	}
	bw, bh := float64(w), float64(h)
	switch fit {
	case FitCover:
		s := math.Max(bw/sw, bh/sh)
		if !upscale {
			s = math.Min(s, 1)
		}
		// The output is the box, or less where the image (not
		// enlarged) is smaller than the box.
		out := image.Pt(min(w, roundPos(sw*s)), min(h, roundPos(sh*s)))
		cw, ch := math.Min(sw, float64(out.X)/s), math.Min(sh, float64(out.Y)/s)
		x0, y0 := int(math.Round((sw-cw)/2)), int(math.Round((sh-ch)/2))
		crop := image.Rect(x0, y0, x0+roundPos(cw), y0+roundPos(ch)).Intersect(full)
		return geometry{crop: crop, scaled: out, canvas: out}
	case FitExact:
		if !upscale {
			// Keep the box's shape but shrink it until it fits the
			// source on both sides.
			f := math.Min(1, math.Min(sw/bw, sh/bh))
			bw, bh = bw*f, bh*f
		}
		size := image.Pt(roundPos(bw), roundPos(bh))
		return geometry{crop: full, scaled: size, canvas: size}
	case FitPad:
		s := math.Min(bw/sw, bh/sh)
		if !upscale {
			s = math.Min(s, 1)
		}
		size := scaledSize(src, s, s)
		canvas := image.Pt(w, h)
		off := image.Pt((w-size.X)/2, (h-size.Y)/2)
		return geometry{crop: full, scaled: size, canvas: canvas, offset: off}
	default: // FitInside
		s := math.Min(bw/sw, bh/sh)
		if !upscale {
			s = math.Min(s, 1)
		}
		size := scaledSize(src, s, s)
		return geometry{crop: full, scaled: size, canvas: size}
	}
}

func scaledSize(src image.Point, sx, sy float64) image.Point {
	return image.Pt(roundPos(float64(src.X)*sx), roundPos(float64(src.Y)*sy))
}

// roundPos rounds to the nearest integer, and at least 1.
func roundPos(f float64) int { return max(1, int(math.Round(f))) }

func kernel(name string) draw.Interpolator {
	switch name {
	case KernelNearest:
		return draw.NearestNeighbor
	case KernelApproxBilinear:
		return draw.ApproxBiLinear
	case KernelBilinear:
		return draw.BiLinear
	case KernelLanczos3:
		return resample.Lanczos3
	default:
		return draw.CatmullRom
	}
}
