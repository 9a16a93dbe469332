package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"image"
	"io"

	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/recipe"
)

// EncodeOptions is everything a recipe output says about how its pixels
// become bytes: the format and quality, and what of the source's metadata
// to carry over (the recipe's metadata policy). Stripping is the default,
// and the only behaviour while the imaging package reads no EXIF or ICC
// data to carry; KeepCopyright and KeepICC are passed through to it.
type EncodeOptions struct {
	Format      string // jpeg, png, gif or webp: never "source"
	Quality     int    // 1..100 for jpeg and webp; 0 otherwise
	Progressive bool   // refused by the recipe check while no encoder writes it
	// KeepCopyright carries the source's EXIF Copyright and Artist.
	KeepCopyright bool
	// KeepICC embeds the source's ICC profile when its colours were not
	// converted to sRGB.
	KeepICC bool
}

// encodeOptions are the options of output o for a source decoded as
// sourceFormat.
func encodeOptions(o recipe.Output, sourceFormat string) EncodeOptions {
	format := o.TargetFormat(sourceFormat)
	return EncodeOptions{
		Format:        format,
		Quality:       o.QualityFor(format),
		Progressive:   o.Progressive,
		KeepCopyright: o.Metadata.KeepCopyright,
		KeepICC:       o.Metadata.KeepICC,
	}
}

func encodeOutput(w io.Writer, img image.Image, opts EncodeOptions) error {
	return imaging.Encode(w, img, opts.Format, opts.Quality)
}

// contentHash is the {hash} of a key template.
func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
