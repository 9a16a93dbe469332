package main

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// info is the plugin's contract. The daemon lints recipes against it and
// generates the step reference from it, and the SDK checks every request
// against it before Transform runs, so Transform can trust its parameters.
var info = sdk.Info{
	Name:    "sepia",
	Version: "1.0.0",
	Operations: []sdk.Operation{{
		Name: "sepia",
		Doc:  "Tone the image in sepia, like an old photograph.",
		Params: []sdk.Param{{
			Name: "amount", Type: sdk.TypeFloat, Default: 1.0, Min: sdk.Bound(0), Max: sdk.Bound(1),
			Doc: "How much of the sepia tone to apply: 0 leaves the colours, 1 is full sepia.",
		}},
	}},
}

// sepiaTone is the classic sepia matrix: each output channel (row) mixes
// the input red, green and blue (columns).
var sepiaTone = [3][3]float64{
	{0.393, 0.769, 0.189},
	{0.349, 0.686, 0.168},
	{0.272, 0.534, 0.131},
}

// Sepia is the plugin. It holds no state, so one value serves concurrent
// calls, as the SDK requires.
type Sepia struct{}

var _ sdk.Transformer = (*Sepia)(nil)

// New returns the plugin.
func New() *Sepia { return &Sepia{} }

// Describe returns the declaration.
func (*Sepia) Describe(context.Context) (sdk.Info, error) { return info, nil }

// Validate checks parameters against the declaration; sepia has no rule
// that spans several parameters to add.
func (*Sepia) Validate(_ context.Context, op string, p sdk.Params) error {
	return sdk.CheckParams(info, op, p)
}

// rowsPerCheck is how many rows Transform tones between looks at ctx:
// often enough to stop within milliseconds, rarely enough to cost nothing.
const rowsPerCheck = 64

// Transform returns a toned copy of req.Image; the input is never modified.
func (*Sepia) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	// Over gRPC the SDK has already resolved the parameters; called in
	// process (as in this plugin's tests) it has not. Resolving twice is
	// harmless.
	p, err := sdk.ResolveParams(info, req.Operation, req.Params)
	if err != nil {
		return nil, err
	}
	in := req.Image
	if in == nil || in.Rect.Empty() {
		return nil, fmt.Errorf("%w: empty image", sdk.ErrUnsupportedInput)
	}
	m := blend(p.Float("amount"))

	// The input's Rect need not start at (0, 0); the output's does.
	w, h := in.Rect.Dx(), in.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		if y%rowsPerCheck == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		src := in.Pix[in.PixOffset(in.Rect.Min.X, in.Rect.Min.Y+y):][:4*w]
		dst := out.Pix[out.PixOffset(0, y):][:4*w]
		for i := 0; i < len(src); i += 4 {
			// NRGBA holds straight (not premultiplied) colour, so the
			// matrix applies to it directly and alpha is kept as it is.
			r, g, b := float64(src[i]), float64(src[i+1]), float64(src[i+2])
			for c := range 3 {
				dst[i+c] = clamp8(m[c][0]*r + m[c][1]*g + m[c][2]*b)
			}
			dst[i+3] = src[i+3]
		}
	}
	return out, nil
}

// blend returns the matrix that moves colours amount of the way from
// themselves to their sepia tone.
func blend(amount float64) [3][3]float64 {
	var m [3][3]float64
	for r := range 3 {
		for c := range 3 {
			m[r][c] = amount * sepiaTone[r][c]
			if r == c {
				m[r][c] += 1 - amount
			}
		}
	}
	return m
}

func clamp8(v float64) uint8 { return uint8(math.Min(255, math.Round(v))) }
