package imaging

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
)

// DefaultQuality is the JPEG, WebP and AVIF quality used when given 0.
const DefaultQuality = 85

// EncodeOptions configure EncodeWith. The zero value is JPEG/WebP quality
// DefaultQuality, no profile (sRGB), flattening on white.
type EncodeOptions struct {
	Quality int // JPEG, WebP and AVIF, 1..100; 0 means DefaultQuality
	// ICC is embedded in the output (JPEG APP2, PNG iCCP, WebP ICCP) when
	// set: the profile the pixels are in (Decoded.ICC). GIF and AVIF have
	// no place for it: their pixels are converted to sRGB first where the
	// profile allows (AVIF fails where it does not).
	ICC []byte
	// Background is what transparency is flattened onto for formats that
	// have none (JPEG). Nil means opaque white.
	Background color.Color
	// Notices, when not zero, are written as EXIF artist and copyright
	// (JPEG APP1, PNG eXIf, WebP EXIF); GIF and AVIF outputs go without.
	Notices Notices
}

// Encode writes img in format with quality: see EncodeWith.
func Encode(w io.Writer, img image.Image, format string, quality int) error {
	return EncodeWith(w, img, format, EncodeOptions{Quality: quality})
}

// EncodeWith writes img in format: JPEG, PNG, GIF, WebP or AVIF (see
// CanEncode).
//
// JPEG: anything with transparency is flattened onto opts.Background
// first. JPEG and PNG: opaque images whose pixels are all gray are written
// as gray. GIF: an *image.Paletted is
// written as is; anything else is quantised to a median-cut palette of the
// image's own colours with Floyd-Steinberg dithering, pixels under 50% alpha
// becoming the transparent index. WebP and AVIF: lossy at opts.Quality,
// with alpha.
// EXIF is written only for opts.Notices, never an orientation: pixels are
// upright already. Errors from w are returned as is.
func EncodeWith(w io.Writer, img image.Image, format string, opts EncodeOptions) error {
	quality := opts.Quality
	if quality == 0 {
		quality = DefaultQuality
	}
	if (format == JPEG || format == WebP || format == AVIF) && (quality < 1 || quality > 100) {
		return fmt.Errorf("imaging: %s quality %d outside 1..100", format, quality)
	}
	switch format {
	case JPEG:
		bg := opts.Background
		if bg == nil {
			bg = color.White
		}
		img = rgbaView(grayIfGray(flatten(img, bg)))
		icc, exif := profileFor(img, opts.ICC), exifWithNotices(opts.Notices)
		if icc == nil && exif == nil {
			return jpeg.Encode(w, img, &jpeg.Options{Quality: quality})
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
			return err
		}
		_, err := w.Write(jpegWithEXIF(jpegWithICC(buf.Bytes(), icc), exif))
		return err
	case PNG:
		img = grayIfGray(img)
		icc, exif := profileFor(img, opts.ICC), exifWithNotices(opts.Notices)
		if icc == nil && exif == nil {
			return png.Encode(w, img)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return err
		}
		_, err := w.Write(pngWithChunk(pngWithICC(buf.Bytes(), icc), "eXIf", exif))
		return err
	case GIF:
		if opts.ICC != nil {
			img, _ = ToSRGB(img, opts.ICC) // GIF has no place for a profile
		}
		p, ok := img.(*image.Paletted)
		if !ok || len(p.Palette) == 0 || len(p.Palette) > 256 {
			p = quantize(img, 256)
		}
		return gif.Encode(w, p, &gif.Options{NumColors: len(p.Palette)})
	case WebP:
		return encodeWebP(w, img, quality, profileFor(ToNRGBA(img), opts.ICC), exifWithNotices(opts.Notices))
	case AVIF:
		return encodeAVIF(w, img, quality, opts.ICC)
	}
	return errorf(Unsupported, nil, "cannot encode unknown format %q", format)
}

// flatten composites img over an opaque bg unless it is already opaque.
func flatten(img image.Image, bg color.Color) image.Image {
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK:
		return img
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	c := color.NRGBA64Model.Convert(bg).(color.NRGBA64)
	solid := color.RGBA64{c.R, c.G, c.B, 0xffff} // a background is opaque: its colour counts, not its alpha
	bounds := img.Bounds()
	dst := image.NewRGBA(bounds)
	draw.Draw(dst, bounds, image.NewUniform(solid), image.Point{}, draw.Src)
	draw.Draw(dst, bounds, img, bounds.Min, draw.Over)
	return dst
}

// rgbaView returns an opaque *image.NRGBA as an *image.RGBA over the same
// bytes (without alpha the layouts are identical): image/jpeg converts RGBA
// to YCbCr on a fast path and anything else through At, pixel by pixel,
// about twice as slowly.
func rgbaView(img image.Image) image.Image {
	if n, ok := img.(*image.NRGBA); ok && n.Opaque() {
		return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	return img
}

// profileFor returns icc if it fits img: a gray profile for a gray image, an
// RGB one for a colour image. A mismatched profile would be ignored by
// viewers at best, so it is not written.
func profileFor(img image.Image, icc []byte) []byte {
	if len(icc) < 20 {
		return nil
	}
	_, isGray := img.(*image.Gray)
	if space := string(icc[16:20]); (space == "GRAY") != isGray || (space != "GRAY" && space != "RGB ") {
		return nil
	}
	return icc
}

// grayIfGray returns an opaque NRGBA or RGBA image whose pixels are all
// gray as an *image.Gray, so that a gray source comes out as a gray PNG
// (a third of the data, same tonal range) after the pipeline's RGBA steps.
func grayIfGray(img image.Image) image.Image {
	var pix []byte
	var stride int
	switch m := img.(type) {
	case *image.NRGBA:
		pix, stride = m.Pix, m.Stride
	case *image.RGBA:
		pix, stride = m.Pix, m.Stride
	default:
		return img
	}
	b := img.Bounds()
	w := b.Dx()
	for y := range b.Dy() {
		row := pix[y*stride:][:4*w]
		for i := 0; i < len(row); i += 4 {
			if row[i+3] != 0xff || row[i] != row[i+1] || row[i] != row[i+2] {
				return img
			}
		}
	}
	g := image.NewGray(image.Rectangle{Max: b.Size()})
	for y := range b.Dy() {
		row := pix[y*stride:][:4*w]
		out := g.Pix[y*g.Stride:][:w]
		for x := range w {
			out[x] = row[4*x]
		}
	}
	return g
}

// jpegWithICC inserts the profile as APP2 "ICC_PROFILE" segments right after
// the SOI (and the JFIF APP0 that image/jpeg does not write).
func jpegWithICC(jpg, icc []byte) []byte {
	const maxChunk = 65535 - 2 - 14 // segment length field, signature, sequence
	n := (len(icc) + maxChunk - 1) / maxChunk
	if n == 0 || n > 255 || len(jpg) < 2 {
		return jpg // no profile, or one too large to write
	}
	out := make([]byte, 0, len(jpg)+len(icc)+18*n)
	out = append(out, jpg[:2]...)
	for i := range n {
		part := icc[i*maxChunk : min((i+1)*maxChunk, len(icc))]
		out = append(out, 0xff, 0xe2)
		out = binary.BigEndian.AppendUint16(out, uint16(2+14+len(part)))
		out = append(out, "ICC_PROFILE\x00"...)
		out = append(out, byte(i+1), byte(n))
		out = append(out, part...)
	}
	return append(out, jpg[2:]...)
}

// jpegWithEXIF inserts exif (a TIFF structure) as an APP1 "Exif" segment
// right after the SOI, where readers look for it first.
func jpegWithEXIF(jpg, exif []byte) []byte {
	if len(exif) == 0 || len(exif) > 65535-2-6 || len(jpg) < 2 {
		return jpg
	}
	out := make([]byte, 0, len(jpg)+len(exif)+10)
	out = append(out, jpg[:2]...)
	out = append(out, 0xff, 0xe1)
	out = binary.BigEndian.AppendUint16(out, uint16(2+6+len(exif)))
	out = append(out, "Exif\x00\x00"...)
	out = append(out, exif...)
	return append(out, jpg[2:]...)
}

// pngWithICC inserts an iCCP chunk right after IHDR (it must come before
// PLTE and IDAT).
func pngWithICC(p, icc []byte) []byte {
	if icc == nil {
		return p
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(icc)
	zw.Close()
	return pngWithChunk(p, "iCCP", append([]byte("icc\x00\x00"), z.Bytes()...))
}

// pngWithChunk inserts a chunk of type typ right after IHDR; nil data
// inserts nothing.
func pngWithChunk(p []byte, typ string, data []byte) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4
	if len(p) < ihdrEnd || data == nil {
		return p
	}
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, typ...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := make([]byte, 0, len(p)+len(chunk))
	out = append(out, p[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, p[ihdrEnd:]...)
}
