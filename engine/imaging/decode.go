package imaging

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/seed62486500/resizer/engine/internal/jpegdec"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// AnimationPolicy says what Decode does with an animated GIF.
type AnimationPolicy int

const (
	// FirstFrame (the default) decodes only the first frame.
	FirstFrame AnimationPolicy = iota
	// AllFrames decodes every frame into Decoded.Frames, under
	// Limits.MaxAnimationPixels.
	AllFrames
)

// DecodeOptions configure DecodeWith. The zero value converts colours to
// sRGB and decodes the first frame, under the default Limits.
type DecodeOptions struct {
	Limits    Limits
	Color     ColorPolicy
	Animation AnimationPolicy
}

// Decoded is an image ready for the pipeline: upright, at origin (0,0).
type Decoded struct {
	Image image.Image // the still image, or the first frame
	Info  Info
	// ICC is the profile the pixels are in when they are not sRGB: a
	// profile that was not converted (KeepProfile, or one this package
	// cannot convert). Encoders should embed it. Nil for sRGB.
	ICC []byte
	// Converted is true when the pixels were converted from an embedded
	// profile to sRGB.
	Converted bool
	// Frames holds every frame of an animated GIF decoded with AllFrames,
	// each composited on the full logical screen as a viewer shows it
	// (disposal applied). Nil otherwise. Frames[0].Image is Image.
	Frames    []Frame
	LoopCount int // as in gif.GIF: 0 loops forever, -1 plays once
	// Notices are the source's EXIF artist and copyright, for outputs
	// that keep them (EncodeOptions.Notices).
	Notices Notices
}

// Frame is one frame of an animation, as displayed.
type Frame struct {
	Image    *image.NRGBA
	Delay    int  // in 1/100 s, as GIF stores it
	Disposal byte // the source's disposal method (gif.DisposalNone, ...)
}

// Decode probes r (see Probe), refuses it if it breaks lim, then decodes the
// pixels with the default DecodeOptions: see DecodeWith.
func Decode(r io.ReadSeeker, lim Limits) (image.Image, Info, error) {
	d, err := DecodeWith(r, DecodeOptions{Limits: lim})
	if err != nil {
		return nil, Info{}, err
	}
	return d.Image, d.Info, nil
}

// DecodeWith probes r (see Probe), refuses it if it breaks the limits, then
// decodes the pixels: the first frame for GIF (composited onto a transparent
// canvas of the logical screen size when the frame is smaller), or every
// frame with AllFrames. The EXIF orientation is applied, so the result is
// upright, and its bounds start at (0,0). An embedded ICC profile is handled
// as opts.Color says. CMYK and YCCK JPEGs come out as RGB.
//
// The concrete type is whatever the decoder produced (*image.YCbCr for most
// JPEGs, *image.NRGBA for PNG with alpha, *image.Gray16 for 16-bit gray
// PNG, ...) when nothing needed changing, *image.NRGBA after a colour
// conversion, and *image.RGBA or *image.NRGBA after a rotation.
func DecodeWith(r io.ReadSeeker, opts DecodeOptions) (*Decoded, error) {
	lim := opts.Limits.withDefaults()
	src, err := newSource(r)
	if err != nil {
		return nil, err
	}
	info, md, err := probeMeta(src, lim)
	if err != nil {
		return nil, err
	}
	if info.Format == GIF && opts.Animation == AllFrames && info.Frames > 1 {
		return decodeAnimation(src, info, lim)
	}
	t, err := src.rewind()
	if err != nil {
		return nil, err
	}
	var in io.Reader = t
	if info.Format == JPEG && md.components == 4 && !md.adobe {
		in = withAdobeMarker(t)
	}
	img, err := guard(info.Format, "decode", func() (image.Image, error) { return decodePixels(info.Format, in) })
	if err != nil {
		return nil, classify(t, info.Format, "decode", err)
	}
	if info.Format == JPEG && md.components == 4 && !md.adobe {
		uninvert(img)
	}

	storedW, storedH := info.Width, info.Height
	if info.Orientation >= 5 {
		storedW, storedH = storedH, storedW
	}
	if info.Format == GIF {
		img = onScreen(img, storedW, storedH)
	} else if b := img.Bounds(); b.Dx() != storedW || b.Dy() != storedH {
		return nil, errorf(Corrupt, nil, "%s decoded to %dx%d but its header says %dx%d",
			info.Format, b.Dx(), b.Dy(), storedW, storedH)
	}
	d := &Decoded{Info: info, Notices: md.notices}
	img = atOrigin(img)
	if _, isCMYK := img.(*image.CMYK); isCMYK {
		// A CMYK profile is a lookup table this package does not apply and
		// cannot embed in an RGB output: convert naively and drop it.
		img = ToNRGBA(img)
	} else if md.icc != nil {
		img, d.ICC, d.Converted = applyProfile(img, md.icc, opts.Color)
	}
	d.Image = orient(img, info.Orientation)
	return d, nil
}

// applyProfile converts img from the profile to sRGB where it can and the
// policy asks, and says which profile (if any) the result is still in.
func applyProfile(img image.Image, icc []byte, policy ColorPolicy) (image.Image, []byte, bool) {
	p, ok := parseICC(icc)
	if ok && p.isSRGB() {
		return img, nil, false
	}
	if !ok {
		if len(icc) >= 20 && (string(icc[16:20]) == "RGB " || string(icc[16:20]) == "GRAY") {
			return img, icc, false // an RGB or gray profile we cannot convert: keep it
		}
		return img, nil, false
	}
	if policy == KeepProfile {
		return img, icc, false
	}
	out, ok := p.toSRGB(img)
	if !ok {
		return img, nil, false // a gray profile on colour pixels: meaningless
	}
	return out, nil, true
}

func decodePixels(format string, r io.Reader) (image.Image, error) {
	switch format {
	case JPEG:
		// The common kind of JPEG decodes on two goroutines at once;
		// image/jpeg takes every other kind, and gives the errors.
		var buf bytes.Buffer
		if t, ok := r.(*ioTracker); ok && t.size > 0 {
			buf.Grow(int(t.size) + bytes.MinRead) // read it in one allocation
		}
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, err
		}
		data := buf.Bytes()
		if img, err := jpegdec.Decode(data, 0); err == nil {
			return img, nil
		}
		return jpeg.Decode(bytes.NewReader(data))
	case PNG:
		return png.Decode(r)
	case GIF:
		return gif.Decode(r) // first frame only
	case WebP:
		img, err := webp.Decode(r)
		if err != nil {
			return nil, err
		}
		return vp8ToNRGBA(img), nil
	}
	return nil, errorf(Unsupported, nil, "no decoder for %q", format)
}

// withAdobeMarker puts an Adobe APP14 segment (transform 0: CMYK) right
// after the SOI of a 4-component JPEG that has none, so that image/jpeg,
// which refuses such files, decodes it. Without the marker the samples are
// plain ink amounts; with it, image/jpeg takes them as Adobe's inverted
// ones, which uninvert undoes.
func withAdobeMarker(r io.Reader) io.Reader {
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil {
		return bytes.NewReader(soi[:0])
	}
	seg := []byte{0xff, 0xd8, 0xff, 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0}
	return io.MultiReader(bytes.NewReader(seg), r)
}

func uninvert(img image.Image) {
	if c, ok := img.(*image.CMYK); ok {
		for i := range c.Pix {
			c.Pix[i] = 255 - c.Pix[i]
		}
	}
}

// onScreen places a GIF frame on its w×h logical screen. A frame that already
// covers the screen is returned as is (keeping its palette).
func onScreen(frame image.Image, w, h int) image.Image {
	screen := image.Rect(0, 0, w, h)
	if frame.Bounds() == screen {
		return frame
	}
	canvas := image.NewNRGBA(screen) // transparent, as browsers start
	draw.Draw(canvas, frame.Bounds().Intersect(screen), frame, frame.Bounds().Intersect(screen).Min, draw.Src)
	return canvas
}

// atOrigin returns img with bounds starting at (0,0), copying only if needed.
func atOrigin(img image.Image) image.Image {
	b := img.Bounds()
	if b.Min == (image.Point{}) {
		return img
	}
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return dst
}
