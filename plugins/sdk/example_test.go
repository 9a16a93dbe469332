package sdk_test

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// sepia is a complete plugin. Its main would be: func main() { sdk.Serve(sepia{}) }
type sepia struct{}

var sepiaInfo = sdk.Info{
	Name:    "sepia",
	Version: "1.0.0",
	Operations: []sdk.Operation{{
		Name: "sepia",
		Doc:  "Tone the image sepia.",
		Params: []sdk.Param{{Name: "amount", Type: sdk.TypeFloat, Default: 1.0,
			Min: sdk.Bound(0), Max: sdk.Bound(1), Doc: "0 keeps the colours, 1 is full sepia."}},
	}},
}

func (sepia) Describe(context.Context) (sdk.Info, error) { return sepiaInfo, nil }

func (sepia) Validate(_ context.Context, op string, p sdk.Params) error {
	return sdk.CheckParams(sepiaInfo, op, p)
}

func (sepia) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	// Over gRPC the SDK has already done this; in process it is needed.
	p, err := sdk.ResolveParams(sepiaInfo, req.Operation, req.Params)
	if err != nil {
		return nil, err
	}
	amount := p.Float("amount")
	in := req.Image
	out := image.NewNRGBA(image.Rectangle{Max: in.Rect.Size()})
	for y := 0; y < out.Rect.Dy(); y++ {
		if y%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for x := 0; x < out.Rect.Dx(); x++ {
			c := in.NRGBAAt(in.Rect.Min.X+x, in.Rect.Min.Y+y)
			r, g, b := float64(c.R), float64(c.G), float64(c.B)
			mix := func(orig, toned float64) uint8 { return uint8(min(255, orig+(toned-orig)*amount)) }
			out.SetNRGBA(x, y, color.NRGBA{
				R: mix(r, 0.393*r+0.769*g+0.189*b),
				G: mix(g, 0.349*r+0.686*g+0.168*b),
				B: mix(b, 0.272*r+0.534*g+0.131*b),
				A: c.A,
			})
		}
	}
	return out, nil
}

func Example() {
	ctx := context.Background()
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.SetNRGBA(0, 0, color.NRGBA{R: 100, G: 100, B: 100, A: 255})

	// What the host does with a recipe step before running it.
	fmt.Println(sdk.CheckParams(sepiaInfo, "sepia", sdk.Params{"amount": 2}))

	out, err := sepia{}.Transform(ctx, sdk.Request{Operation: "sepia", Image: img})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.NRGBAAt(0, 0))
	// Output:
	// invalid parameters for "sepia": amount must be at most 1, got 2
	// {135 120 93 255}
}
