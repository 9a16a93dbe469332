package imaging

import (
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Decode probes r (see Probe), refuses it if it breaks lim, then decodes the
// pixels: the first frame for GIF, composited onto a transparent canvas of
// the logical screen size when the frame is smaller. The EXIF orientation is
// applied, so the result is upright, and its bounds start at (0,0).
//
// The concrete type is whatever the decoder produced (*image.YCbCr for most
// JPEGs, *image.NRGBA for PNG with alpha, ...) when no rotation was needed,
// and *image.RGBA when one was.
func Decode(r io.ReadSeeker, lim Limits) (image.Image, Info, error) {
	src, err := newSource(r)
	if err != nil {
		return nil, Info{}, err
	}
	info, err := probe(src, lim.withDefaults())
	if err != nil {
		return nil, Info{}, err
	}
	t, err := src.rewind()
	if err != nil {
		return nil, Info{}, err
	}
	img, err := guard(info.Format, "decode", func() (image.Image, error) { return decodePixels(info.Format, t) })
	if err != nil {
		return nil, Info{}, classify(t, info.Format, "decode", err)
	}

	storedW, storedH := info.Width, info.Height
	if info.Orientation >= 5 {
		storedW, storedH = storedH, storedW
	}
	if info.Format == GIF {
		img = onScreen(img, storedW, storedH)
	} else if b := img.Bounds(); b.Dx() != storedW || b.Dy() != storedH {
		return nil, Info{}, errorf(Corrupt, nil, "%s decoded to %dx%d but its header says %dx%d",
			info.Format, b.Dx(), b.Dy(), storedW, storedH)
	}
	return orient(atOrigin(img), info.Orientation), info, nil
}

func decodePixels(format string, r io.Reader) (image.Image, error) {
	switch format {
	case JPEG:
		return jpeg.Decode(r)
	case PNG:
		return png.Decode(r)
	case GIF:
		return gif.Decode(r) // first frame only
	case WebP:
		return webp.Decode(r)
	}
	return nil, errorf(Unsupported, nil, "no decoder for %q", format)
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
