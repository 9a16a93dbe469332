package watermark

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// Version is the plugin's version.
const Version = "1.0.0"

// MaxOverlayPixels bounds the decoded overlay (16 MP, 64 MiB as NRGBA). A
// logo is far smaller; anything larger is more likely a mistake or a
// decompression bomb than a watermark.
const MaxOverlayPixels = 16 << 20

// MaxOffset bounds offset_x and offset_y.
const MaxOffset = 1 << 14

func positionNames() []string {
	names := make([]string, len(Positions))
	for i, p := range Positions {
		names[i] = string(p)
	}
	return names
}

// text_size and scale start just above 0 because Options reads 0 as "the
// default", which a recipe author asking for 0 would not expect.
var info = sdk.Info{
	Name:    "watermark",
	Version: Version,
	Operations: []sdk.Operation{{
		Name: "watermark",
		Doc:  "Composite an overlay image and/or a line of text onto the image.",
		Params: []sdk.Param{
			{Name: "image", Type: sdk.TypeString, Asset: true,
				Doc: "PNG overlay, loaded by the daemon: a path relative to the recipes directory, s3://bucket/key, or s3:KEY in the source's bucket; image or text is required."},
			{Name: "text", Type: sdk.TypeString,
				Doc: "Text to draw in Go Regular (\\n separates lines); image or text is required."},
			{Name: "text_color", Type: sdk.TypeColor, Default: white,
				Doc: "Colour of the text."},
			{Name: "text_size", Type: sdk.TypeFloat, Default: DefaultTextSize, Min: sdk.Bound(0.001), Max: sdk.Bound(1),
				Doc: "Line height of the text as a fraction of the output width."},
			{Name: "position", Type: sdk.TypeEnum, Default: string(BottomRight), Enum: positionNames(),
				Doc: "Where the mark sits in a three-by-three grid over the image."},
			{Name: "offset_x", Type: sdk.TypeInt, Default: 0, Min: sdk.Bound(0), Max: sdk.Bound(MaxOffset),
				Doc: "Pixels between the mark and the left or right edge it is anchored to; ignored when centred."},
			{Name: "offset_y", Type: sdk.TypeInt, Default: 0, Min: sdk.Bound(0), Max: sdk.Bound(MaxOffset),
				Doc: "Pixels between the mark and the top or bottom edge it is anchored to; ignored when centred."},
			{Name: "tile", Type: sdk.TypeBool, Default: false,
				Doc: "Repeat the mark across the whole image, half a mark apart."},
			{Name: "opacity", Type: sdk.TypeFloat, Default: DefaultOpacity, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "Opacity of the mark, from 0 (invisible) to 1."},
			{Name: "scale", Type: sdk.TypeFloat, Default: DefaultScale, Min: sdk.Bound(0.001), Max: sdk.Bound(1),
				Doc: "Width of the overlay image as a fraction of the output width."},
			{Name: "min_width", Type: sdk.TypeInt, Default: 0, Min: sdk.Bound(0),
				Doc: "Leave images narrower than this unmarked."},
			{Name: "min_height", Type: sdk.TypeInt, Default: 0, Min: sdk.Bound(0),
				Doc: "Leave images shorter than this unmarked."},
		},
	}},
}

// Plugin is the watermark step as an sdk.Transformer. The resizer binary
// serves it in a plugin process of its own.
type Plugin struct{}

var _ sdk.Transformer = (*Plugin)(nil)

// New returns the watermark plugin.
func New() *Plugin { return &Plugin{} }

// Describe returns the plugin's declaration.
func (*Plugin) Describe(context.Context) (sdk.Info, error) { return info, nil }

// Validate checks p against the declaration and that it asks for an
// overlay image, text or both.
func (*Plugin) Validate(_ context.Context, op string, p sdk.Params) error {
	if err := sdk.CheckParams(info, op, p); err != nil {
		return err
	}
	if p.String("image") == "" && p.String("text") == "" {
		return &sdk.ParamsError{Operation: op, Fields: []sdk.FieldError{{Field: "image", Message: "or text is required"}}}
	}
	return nil
}

// Transform watermarks a copy of req.Image. The overlay comes decoded from
// req.Assets["image"], which the host fills from the image parameter.
func (pl *Plugin) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	p, err := sdk.ResolveParams(info, req.Operation, req.Params)
	if err != nil {
		return nil, err
	}
	if err := pl.Validate(ctx, req.Operation, p); err != nil {
		return nil, err
	}
	if req.Image == nil {
		return nil, fmt.Errorf("%w: no image", sdk.ErrUnsupportedInput)
	}
	o := Options{
		Text:      p.String("text"),
		TextColor: p.Color("text_color"),
		TextSize:  p.Float("text_size"),
		Position:  Position(p.String("position")),
		OffsetX:   p.Int("offset_x"),
		OffsetY:   p.Int("offset_y"),
		Tile:      p.Bool("tile"),
		Opacity:   p.Float("opacity"),
		Scale:     p.Float("scale"),
		MinWidth:  p.Int("min_width"),
		MinHeight: p.Int("min_height"),
	}
	if name := p.String("image"); name != "" {
		data, ok := req.Assets["image"]
		if !ok {
			return nil, fmt.Errorf("%w: parameter image names %q but no asset \"image\" came with the request (the host loads asset parameters)",
				sdk.ErrUnsupportedInput, name)
		}
		if o.Overlay, err = decodeOverlay(data); err != nil {
			return nil, fmt.Errorf("%w: overlay %q: %v", sdk.ErrUnsupportedInput, name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.TextColor.A == 0 {
		// Invisible text; Options would read the zero colour as white.
		o.Text = ""
	}
	if o.Overlay == nil && o.Text == "" {
		return clone(req.Image), nil
	}
	out, err := Apply(ctx, req.Image, o)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, ErrInvalidOptions):
		// Left after the declared checks: text that renders to nothing or
		// to too many pixels.
		return nil, &sdk.ParamsError{Operation: req.Operation, Fields: []sdk.FieldError{{Field: "text", Message: err.Error()}}}
	default:
		return nil, err
	}
}

// decodeOverlay decodes untrusted PNG bytes: the header first, so that an
// oversized image is refused before its pixels are allocated.
func decodeOverlay(data []byte) (*image.NRGBA, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxOverlayPixels {
		return nil, fmt.Errorf("%dx%d pixels is empty or more than %d", cfg.Width, cfg.Height, MaxOverlayPixels)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if n, ok := img.(*image.NRGBA); ok {
		return n, nil
	}
	// Paletted, grey, 16-bit and opaque RGBA PNGs: convert to straight
	// 8-bit alpha, which is what Apply composites.
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Rect, img, b.Min, draw.Src)
	return n, nil
}
