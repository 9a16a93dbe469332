package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"io"

	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/recipe"
)

// EncodeOptions is everything a recipe output says about how its pixels
// become bytes: the format and quality, what transparency is flattened onto,
// and what of the source's metadata is carried over.
type EncodeOptions struct {
	Format      string // jpeg, png, gif, webp or avif: never "source"
	Quality     int    // 1..100 for jpeg, webp and avif; 0 otherwise
	Progressive bool   // refused by the recipe check while no encoder writes it
	// KeepCopyright carries the source's EXIF Copyright and Artist
	// (Notices) into the output.
	KeepCopyright bool
	Notices       imaging.Notices
	// ICC is the profile the pixels are in, embedded in the output; nil for
	// sRGB, or when the recipe strips it.
	ICC []byte
	// Background is what JPEG outputs flatten transparency onto; nil is
	// white.
	Background color.Color
}

// encodeOptions are the options of output o for a source decoded as
// sourceFormat, before the profile and background are known.
func encodeOptions(o recipe.Output, sourceFormat string) EncodeOptions {
	format := o.TargetFormat(sourceFormat)
	return EncodeOptions{
		Format:        format,
		Quality:       o.QualityFor(format),
		Progressive:   o.Progressive,
		KeepCopyright: o.Metadata.KeepCopyright,
	}
}

func (p *Pipeline) encodeOutput(w io.Writer, img image.Image, opts EncodeOptions) error {
	eo := imaging.EncodeOptions{Quality: opts.Quality, ICC: opts.ICC, Background: opts.Background}
	if opts.KeepCopyright {
		eo.Notices = opts.Notices
	}
	return imaging.EncodeWith(w, img, opts.Format, eo)
}

// contentHash is the {hash} of a key template.
func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
