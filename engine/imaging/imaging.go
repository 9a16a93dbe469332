// Package imaging decodes untrusted images, applies EXIF orientation and
// ICC colour profiles, resizes and re-encodes them.
//
// Every input is treated as hostile: the format is sniffed from magic bytes,
// dimensions are read with DecodeConfig and checked against Limits before any
// pixel memory is allocated, GIF frames are counted without decompressing
// them, and decoder panics are turned into Corrupt errors.
package imaging

import (
	"image"
	"image/draw"
	"runtime"
	"sync"
	"sync/atomic"
)

// Format names used throughout the package.
const (
	JPEG = "jpeg"
	PNG  = "png"
	GIF  = "gif"
	WebP = "webp"
	AVIF = "avif" // output only
)

// Defaults applied to zero-valued Limits fields.
const (
	DefaultMaxPixels int64 = 50_000_000
	DefaultMaxFrames       = 1000
	// DefaultMaxAnimationPixels bounds frames × screen pixels of an
	// animation decoded whole: as many pixels as one still at the cap.
	DefaultMaxAnimationPixels = DefaultMaxPixels
)

// Limits bounds what Probe and Decode accept. Zero fields take the defaults.
type Limits struct {
	MaxPixels int64 // width*height as stored in the header
	MaxFrames int   // GIF frames; only the first is decoded unless asked
	// MaxAnimationPixels bounds frames × width × height when every frame
	// of an animation is decoded (AllFrames).
	MaxAnimationPixels int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	if l.MaxAnimationPixels <= 0 {
		l.MaxAnimationPixels = DefaultMaxAnimationPixels
	}
	return l
}

// Info describes an image as it will be displayed.
type Info struct {
	Format        string // JPEG, PNG, GIF or WebP
	Width, Height int    // after EXIF orientation (swapped for 5..8)
	Orientation   int    // EXIF orientation 1..8; 1 when absent
	Frames        int    // GIF frame count; 1 for other formats
}

// ContentType returns the MIME type for a format name, or
// "application/octet-stream" for an unknown one.
func ContentType(format string) string {
	switch format {
	case JPEG:
		return "image/jpeg"
	case PNG:
		return "image/png"
	case GIF:
		return "image/gif"
	case WebP:
		return "image/webp"
	case AVIF:
		return "image/avif"
	}
	return "application/octet-stream"
}

// Ext returns the usual file extension (without the dot) for a format name,
// or "" for an unknown one.
func Ext(format string) string {
	switch format {
	case JPEG:
		return "jpg"
	case PNG, GIF, WebP, AVIF:
		return format
	}
	return ""
}

// ToNRGBA returns img as 8-bit non-premultiplied RGBA with its origin at
// (0, 0), the layout plugins exchange. It avoids the slow generic path of
// image/draw where it can: opaque RGBA and YCbCr images have the same bytes
// in both layouts.
func ToNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	switch src := img.(type) {
	case *image.NRGBA:
		if b.Min == (image.Point{}) {
			return src
		}
	case *image.RGBA:
		if b.Min == (image.Point{}) && src.Opaque() {
			return &image.NRGBA{Pix: src.Pix, Stride: src.Stride, Rect: src.Rect}
		}
	case *image.Gray16, *image.RGBA64, *image.NRGBA64:
		return deepToNRGBA(img)
	}
	dst := image.NewNRGBA(image.Rectangle{Max: b.Size()})
	ToNRGBAInto(dst, img)
	return dst
}

// ToNRGBAInto converts img as ToNRGBA does, into dst, which must have img's
// size and its origin at (0, 0): for callers that choose where the pixels
// live (memory that plugin processes can map).
func ToNRGBAInto(dst *image.NRGBA, img image.Image) {
	b := img.Bounds()
	switch img.(type) {
	case *image.YCbCr, *image.Gray:
		// Always opaque: convert through RGBA, which has a fast path and
		// the same bytes, in bands across the CPUs (a 12 MP photo takes
		// tens of milliseconds).
		drawInBands(&image.RGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}, img, b.Min)
		return
	case *image.Gray16, *image.RGBA64, *image.NRGBA64:
		img, b = deepToNRGBA(img), image.Rectangle{Max: b.Size()}
	}
	if src, ok := img.(*image.RGBA); ok && src.Opaque() {
		for y := 0; y < b.Dy(); y++ {
			copy(dst.Pix[y*dst.Stride:][:4*b.Dx()], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*b.Dx()])
		}
		return
	}
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
}

// drawInBands draws src (from sp) over all of dst, in bands of rows on up
// to GOMAXPROCS goroutines.
func drawInBands(dst *image.RGBA, src image.Image, sp image.Point) {
	const rows = 128
	h := dst.Rect.Dy()
	workers := min(runtime.GOMAXPROCS(0), (h+rows-1)/rows)
	if workers <= 1 {
		draw.Draw(dst, dst.Rect, src, sp, draw.Src)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				y0 := int(next.Add(rows)) - rows
				if y0 >= h {
					return
				}
				r := image.Rect(dst.Rect.Min.X, dst.Rect.Min.Y+y0, dst.Rect.Max.X, dst.Rect.Min.Y+min(y0+rows, h))
				draw.Draw(dst, r, src, sp.Add(r.Min.Sub(dst.Rect.Min)), draw.Src)
			}
		}()
	}
	wg.Wait()
}

// deepToNRGBA converts a 16-bit image to 8 bits, rounding to the nearest
// value (image/draw truncates, which darkens by half a step on average).
func deepToNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	src := image.NewNRGBA64(image.Rectangle{Max: b.Size()})
	draw.Draw(src, src.Rect, img, b.Min, draw.Src)
	dst := image.NewNRGBA(src.Rect)
	for i, j := 0, 0; i < len(src.Pix); i, j = i+2, j+1 {
		dst.Pix[j] = uint8((uint32(src.Pix[i])<<8 | uint32(src.Pix[i+1]) + 128) / 257)
	}
	return dst
}
