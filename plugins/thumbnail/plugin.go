package thumbnail

import (
	"context"
	"errors"
	"fmt"
	"image"

	"golang.org/x/image/draw"

	"github.com/seed62486500/resizer/plugins/internal/resample"
	"github.com/seed62486500/resizer/plugins/sdk"
)

// Version is the plugin's version.
const Version = "1.1.0"

// Kernel names, from fastest to sharpest; the same spellings as the resize
// step's, so a recipe reads the same in both.
const (
	KernelNearest        = "nearest"
	KernelApproxBilinear = "approx-bilinear"
	KernelBilinear       = "bilinear"
	KernelCatmullRom     = "catmull-rom"
	KernelLanczos3       = "lanczos3"
)

var kernels = map[string]draw.Interpolator{
	KernelNearest:        draw.NearestNeighbor,
	KernelApproxBilinear: draw.ApproxBiLinear,
	KernelBilinear:       draw.BiLinear,
	KernelCatmullRom:     draw.CatmullRom,
	KernelLanczos3:       resample.Lanczos3,
}

func gravityNames() []string {
	names := make([]string, len(Gravities))
	for i, g := range Gravities {
		names[i] = string(g)
	}
	return names
}

// Sharpening defaults to on: thumbnails are nearly always large reductions,
// which soften a photo visibly, and the mask is light and does nothing at
// all for reductions milder than 2× (see sharpenBelow), so the default
// costs nothing where it is not needed.
var info = sdk.Info{
	Name:    "thumbnail",
	Version: Version,
	Operations: []sdk.Operation{{
		Name: "thumbnail",
		Doc:  "Cover-crop to exactly width x height, keeping the part chosen by gravity.",
		Params: []sdk.Param{
			{Name: "width", Type: sdk.TypeInt, Required: true, Min: sdk.Bound(1), Max: sdk.Bound(MaxSide),
				Doc: "Output width in pixels."},
			{Name: "height", Type: sdk.TypeInt, Required: true, Min: sdk.Bound(1), Max: sdk.Bound(MaxSide),
				Doc: "Output height in pixels."},
			{Name: "gravity", Type: sdk.TypeEnum, Default: string(Center), Enum: gravityNames(),
				Doc: "Part of the image the crop keeps: a compass point, focal (focal_x, focal_y) or smart (most detail)."},
			{Name: "focal_x", Type: sdk.TypeFloat, Default: 0.5, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "Focal point across the image, 0 (left) to 1 (right); used with gravity focal."},
			{Name: "focal_y", Type: sdk.TypeFloat, Default: 0.5, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "Focal point down the image, 0 (top) to 1 (bottom); used with gravity focal."},
			{Name: "sharpen", Type: sdk.TypeBool, Default: true,
				Doc: "Lightly sharpen after a reduction of more than 2x; no effect otherwise."},
			{Name: "kernel", Type: sdk.TypeEnum, Default: KernelCatmullRom,
				Enum: []string{KernelNearest, KernelApproxBilinear, KernelBilinear, KernelCatmullRom, KernelLanczos3},
				Doc:  "Resampling kernel, from fastest to sharpest; reductions of 5x or more start with a box average and end with lanczos3 (bilinear stays bilinear)."},
		},
	}},
}

// Plugin is the thumbnail step as an sdk.Transformer. The resizer binary
// serves it in a plugin process of its own.
type Plugin struct{}

var _ sdk.Transformer = (*Plugin)(nil)

// New returns the thumbnail plugin.
func New() *Plugin { return &Plugin{} }

// Describe returns the plugin's declaration.
func (*Plugin) Describe(context.Context) (sdk.Info, error) { return info, nil }

// Validate checks p against the declaration.
func (*Plugin) Validate(_ context.Context, op string, p sdk.Params) error {
	return sdk.CheckParams(info, op, p)
}

// Transform makes the thumbnail of req.Image.
func (*Plugin) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	p, err := sdk.ResolveParams(info, req.Operation, req.Params)
	if err != nil {
		return nil, err
	}
	if req.Image == nil || req.Image.Rect.Empty() {
		return nil, fmt.Errorf("%w: empty image", sdk.ErrUnsupportedInput)
	}
	o := Options{
		Width:   p.Int("width"),
		Height:  p.Int("height"),
		Gravity: Gravity(p.String("gravity")),
		FocalX:  p.Float("focal_x"),
		FocalY:  p.Float("focal_y"),
		Sharpen: p.Bool("sharpen"),
		Kernel:  kernels[p.String("kernel")],
	}
	out, err := Thumbnail(ctx, req.Image, o)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, ErrInvalidOptions):
		// The declaration should have caught it; say so with the
		// algorithm's own words rather than as an internal failure.
		return nil, &sdk.ParamsError{Operation: req.Operation, Fields: []sdk.FieldError{{Message: err.Error()}}}
	default:
		return nil, err // ctx.Err() as it is
	}
}
