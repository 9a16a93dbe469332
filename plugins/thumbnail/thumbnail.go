// Package thumbnail cover-crops an image to an exact box.
//
// The crop keeps the box's aspect ratio and is placed by a Gravity: the
// centre, one of the eight compass points, a focal point, or "smart", which
// picks the most detailed region of the image. The cropped region is then
// resampled to exactly Width×Height with golang.org/x/image/draw.
//
// A thumbnail box is exact, so a source smaller than the box is upscaled to
// fill it; a larger source is only ever reduced.
//
// The algorithm works on 8-bit non-premultiplied *image.NRGBA values and
// knows nothing of the plugin protocol; New (plugin.go) wraps it as an
// sdk.Transformer, the "thumbnail" operation, which the resizer binary
// serves out of process.
package thumbnail

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"golang.org/x/image/draw"

	"github.com/seed62486500/resizer/plugins/internal/resample"
)

// Gravity says which part of the source the crop keeps.
type Gravity string

// The gravities. Compass points hug the corresponding edge or corner.
const (
	Center    Gravity = "center"
	North     Gravity = "north"
	South     Gravity = "south"
	East      Gravity = "east"
	West      Gravity = "west"
	NorthEast Gravity = "northeast"
	NorthWest Gravity = "northwest"
	SouthEast Gravity = "southeast"
	SouthWest Gravity = "southwest"
	// Focal centres the crop on (FocalX, FocalY), moved as little as needed
	// to stay inside the image.
	Focal Gravity = "focal"
	// Smart centres the crop on the most detailed region (see smart.go).
	Smart Gravity = "smart"
)

// Gravities lists every accepted gravity, for parameter descriptions.
var Gravities = []Gravity{Center, North, South, East, West, NorthEast, NorthWest, SouthEast, SouthWest, Focal, Smart}

// MaxSide bounds Width and Height so a bad parameter cannot allocate
// gigabytes.
const MaxSide = 1 << 14

// sharpenBelow is the scale factor under which Sharpen takes effect:
// reductions milder than 2× keep enough detail on their own.
const sharpenBelow = 0.5

// ErrInvalidOptions is wrapped by every error Validate returns.
var ErrInvalidOptions = errors.New("thumbnail: invalid options")

// Options describe one thumbnail.
type Options struct {
	Width, Height int
	// Gravity defaults to Center when empty.
	Gravity Gravity
	// FocalX and FocalY locate the focal point as fractions (0..1) of the
	// source width and height; used only by Focal.
	FocalX, FocalY float64
	// Sharpen applies a light unsharp mask when the image was reduced by
	// more than 2× (scale factor below 0.5); otherwise it has no effect.
	Sharpen bool
	// Kernel resamples the crop; nil means draw.CatmullRom.
	Kernel draw.Interpolator
}

// Validate reports whether o describes a thumbnail that can be made.
func (o Options) Validate() error {
	if o.Width <= 0 || o.Height <= 0 || o.Width > MaxSide || o.Height > MaxSide {
		return fmt.Errorf("%w: size %dx%d outside 1..%d", ErrInvalidOptions, o.Width, o.Height, MaxSide)
	}
	if !knownGravity(o.Gravity) {
		return fmt.Errorf("%w: unknown gravity %q", ErrInvalidOptions, o.Gravity)
	}
	if o.Gravity == Focal {
		if !unit(o.FocalX) || !unit(o.FocalY) {
			return fmt.Errorf("%w: focal point (%v, %v) outside 0..1", ErrInvalidOptions, o.FocalX, o.FocalY)
		}
	}
	return nil
}

func knownGravity(g Gravity) bool {
	if g == "" {
		return true
	}
	for _, k := range Gravities {
		if g == k {
			return true
		}
	}
	return false
}

func unit(v float64) bool { return v >= 0 && v <= 1 } // false for NaN too

// Thumbnail returns src cover-cropped (see CropRect) and resampled to
// exactly o.Width×o.Height. The box is exact, so a crop smaller than the box
// is upscaled; otherwise it is only reduced. src is not modified. ctx is
// checked between stages; a cancelled ctx returns ctx.Err().
func Thumbnail(ctx context.Context, src *image.NRGBA, o Options) (*image.NRGBA, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if src == nil || src.Bounds().Empty() {
		return nil, fmt.Errorf("%w: empty source image", ErrInvalidOptions)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sr, err := cropRect(ctx, src, o)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Resample into premultiplied RGBA: filtering premultiplied values keeps
	// the colour of transparent pixels from bleeding into their neighbours.
	kernel := o.Kernel
	if kernel == nil {
		kernel = draw.CatmullRom
	}
	out := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
	if err := resample.ScaleInto(ctx, out, src, sr, resample.Options{Kernel: kernel}); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	scale := math.Min(float64(o.Width)/float64(sr.Dx()), float64(o.Height)/float64(sr.Dy()))
	if o.Sharpen && scale < sharpenBelow {
		sharpen(out)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return resample.Unpremultiply(out, 0), nil
}
