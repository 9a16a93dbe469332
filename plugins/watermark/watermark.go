// Package watermark composites a mark — an overlay image, a line of text, or
// both — onto an image.
//
// The mark is built once per call: the overlay scaled to Scale × the output
// width, and the text rendered with the bundled Go Regular font at a line
// height of TextSize × the output width. With both, the text sits centred
// below the overlay, a quarter of a line apart, and the two are placed,
// tiled and faded as one mark. A mark larger than the image is shrunk to
// fit.
//
// The algorithm works on 8-bit non-premultiplied *image.NRGBA values and
// knows nothing of the plugin protocol; New (plugin.go) wraps it as an
// sdk.Transformer, the "watermark" operation, which the resizer binary
// serves out of process.
package watermark

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// Position anchors the mark in one cell of a three-by-three grid.
type Position string

// The positions.
const (
	TopLeft     Position = "top-left"
	Top         Position = "top"
	TopRight    Position = "top-right"
	Left        Position = "left"
	Center      Position = "center"
	Right       Position = "right"
	BottomLeft  Position = "bottom-left"
	Bottom      Position = "bottom"
	BottomRight Position = "bottom-right"
)

// Positions lists every accepted position, for parameter descriptions.
var Positions = []Position{TopLeft, Top, TopRight, Left, Center, Right, BottomLeft, Bottom, BottomRight}

// Defaults used when a field is left at its zero value. Opacity has no
// zero-value default, because 0 is a meaningful opacity: see DefaultOptions.
const (
	DefaultOpacity  = 0.5
	DefaultScale    = 0.2
	DefaultTextSize = 0.04
)

// ErrInvalidOptions is wrapped by every error Validate returns.
var ErrInvalidOptions = errors.New("watermark: invalid options")

// Options describe one watermark.
type Options struct {
	// Overlay is an image with alpha, such as a decoded PNG. Optional if
	// Text is set.
	Overlay *image.NRGBA
	// Text is one or more lines ("\n") rendered with Go Regular. Optional
	// if Overlay is set.
	Text string
	// TextColor defaults to opaque white when left as the zero value.
	TextColor color.NRGBA
	// TextSize is the text's line height as a fraction of the output width;
	// 0 means DefaultTextSize.
	TextSize float64
	// Position defaults to BottomRight.
	Position Position
	// OffsetX and OffsetY move the mark away from the edge it is anchored to
	// (right for the right column, up for the bottom row, and so on). They
	// are ignored on an axis where the position is centred. With Tile they
	// shift the whole grid of marks the same way.
	OffsetX, OffsetY int
	// Tile repeats the mark across the whole image in a grid, one mark at
	// the anchored position and the others spaced half a mark apart.
	Tile bool
	// Opacity scales the mark's alpha, from 0 (invisible) to 1. It is used
	// as given, so 0 leaves the image unchanged: start from DefaultOptions
	// to get DefaultOpacity.
	Opacity float64
	// Scale is the overlay's width as a fraction of the output width; 0
	// means DefaultScale.
	Scale float64
	// MinWidth and MinHeight: an image narrower or shorter than these is
	// returned unchanged (as a copy).
	MinWidth, MinHeight int
}

// DefaultOptions returns Options with every default filled in, Opacity
// included; set Overlay and/or Text on the result.
func DefaultOptions() Options {
	return Options{
		TextColor: white,
		TextSize:  DefaultTextSize,
		Position:  BottomRight,
		Opacity:   DefaultOpacity,
		Scale:     DefaultScale,
	}
}

// withDefaults fills zero values that have no meaning of their own.
func (o Options) withDefaults() Options {
	if o.TextColor == (color.NRGBA{}) {
		o.TextColor = white
	}
	if o.TextSize == 0 {
		o.TextSize = DefaultTextSize
	}
	if o.Position == "" {
		o.Position = BottomRight
	}
	if o.Scale == 0 {
		o.Scale = DefaultScale
	}
	return o
}

// Validate reports whether o describes a watermark that can be applied.
func (o Options) Validate() error {
	if o.Overlay == nil && o.Text == "" {
		return fmt.Errorf("%w: neither an overlay nor text", ErrInvalidOptions)
	}
	if o.Overlay != nil && o.Overlay.Bounds().Empty() {
		return fmt.Errorf("%w: empty overlay image", ErrInvalidOptions)
	}
	if !inRange(o.Opacity, 0, 1) {
		return fmt.Errorf("%w: opacity %v outside 0..1", ErrInvalidOptions, o.Opacity)
	}
	if !inRange(o.Scale, 0, 1) {
		return fmt.Errorf("%w: scale %v outside 0..1", ErrInvalidOptions, o.Scale)
	}
	if !inRange(o.TextSize, 0, 1) {
		return fmt.Errorf("%w: text size %v outside 0..1", ErrInvalidOptions, o.TextSize)
	}
	if o.Position != "" {
		if _, _, ok := anchor(o.Position); !ok {
			return fmt.Errorf("%w: unknown position %q", ErrInvalidOptions, o.Position)
		}
	}
	if o.MinWidth < 0 || o.MinHeight < 0 {
		return fmt.Errorf("%w: negative minimum size %dx%d", ErrInvalidOptions, o.MinWidth, o.MinHeight)
	}
	return nil
}

func inRange(v, lo, hi float64) bool { return v >= lo && v <= hi } // false for NaN

// Apply returns a copy of dst with the watermark composited onto it; dst is
// not modified. When dst is smaller than MinWidth×MinHeight, or Opacity is 0,
// the copy is returned unmarked. ctx is checked between stages and while
// tiling; a cancelled ctx returns ctx.Err().
func Apply(ctx context.Context, dst *image.NRGBA, o Options) (*image.NRGBA, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if dst == nil {
		return nil, fmt.Errorf("%w: nil destination image", ErrInvalidOptions)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	out := clone(dst)
	b := out.Bounds()
	if b.Dx() < o.MinWidth || b.Dy() < o.MinHeight || o.Opacity == 0 || b.Empty() {
		return out, nil
	}

	mark, err := buildMark(o, b.Dx(), b.Dy())
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	alpha := uint32(math.Round(o.Opacity * 0xff))
	for _, at := range placements(o, b, mark.Bounds().Size()) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		over(out, at, mark, alpha)
	}
	return out, nil
}

func clone(m *image.NRGBA) *image.NRGBA {
	c := image.NewNRGBA(m.Bounds())
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		copy(c.Pix[c.PixOffset(c.Rect.Min.X, y):][:4*m.Rect.Dx()], m.Pix[m.PixOffset(m.Rect.Min.X, y):])
	}
	return c
}
