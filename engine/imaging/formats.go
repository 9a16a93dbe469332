package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"io"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/webp"
)

// CanEncode reports whether Encode can write format: JPEG, PNG and GIF
// always; WebP and AVIF through WebAssembly builds of libwebp and of
// libavif with libaom, which need no cgo. A recipe asking for anything else
// should be refused when it is checked.
//
// AVIF is slow: about 2 s for a 1600×1200 output on one core, plus about
// 3 s once per process to compile the encoder; WebP takes 0.25 s.
func CanEncode(format string) bool {
	switch format {
	case JPEG, PNG, GIF, WebP, AVIF:
		return true
	}
	return false
}

// avifSpeed is libaom's speed (0 slowest .. 10 fastest). At 1600×1200,
// speed 10 took 2.1 s and speed 8 3.6 s for the same size and 0.1 dB.
const avifSpeed = 10

// encodeAVIF writes AVIF. The library writes no ICC profile, so pixels in
// another profile are converted to sRGB first; a profile that cannot be
// converted is an error rather than wrong colours.
func encodeAVIF(w io.Writer, img image.Image, quality int, icc []byte) error {
	if icc != nil {
		var still []byte
		img, still, _ = applyProfile(img, icc, ConvertToSRGB)
		if still != nil {
			return errorf(Unsupported, nil, "avif output cannot carry the source's ICC profile, and it is not one that converts to sRGB")
		}
	}
	var buf bytes.Buffer
	opts := avif.Options{Quality: quality, QualityAlpha: quality, Speed: avifSpeed, ChromaSubsampling: image.YCbCrSubsampleRatio420}
	if err := avif.Encode(&buf, tightNRGBA(img), opts); err != nil {
		return errorf(Unsupported, err, "avif encoder")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// webpMethod is libwebp's speed/size trade-off (0 fastest .. 6 smallest).
// On a 1600×1200 photo-like image at quality 82, method 1 took 0.24 s and
// method 4 (libwebp's default) 1.0 s; method 4 gave 0.5 dB more PSNR for 8%
// more bytes. Under WebAssembly the default costs too much for what it buys.
const webpMethod = 1

// encodeWebP writes lossy WebP (with alpha where the image has any). A
// profile is added as an ICCP chunk, which needs the extended (VP8X) layout.
func encodeWebP(w io.Writer, img image.Image, quality int, icc, exif []byte) error {
	var buf bytes.Buffer
	if err := webp.Encode(&buf, tightNRGBA(img), webp.Options{Quality: quality, Method: webpMethod}); err != nil {
		return errorf(Unsupported, err, "webp encoder")
	}
	out := buf.Bytes()
	if icc != nil || exif != nil {
		b := img.Bounds()
		out = webpWithChunks(out, icc, exif, b.Dx(), b.Dy())
	}
	_, err := w.Write(out)
	return err
}

// webpWithChunks adds an ICCP chunk (before the image data) and an EXIF
// chunk (after it) to a WebP file, either one may be nil, turning a simple
// file (one VP8 or VP8L chunk) into an extended one with a VP8X header
// first. A file in a layout it does not expect is returned unchanged.
func webpWithChunks(file, icc, exif []byte, w, h int) []byte {
	if len(file) < 20 || string(file[:4]) != "RIFF" || string(file[8:12]) != "WEBP" {
		return file
	}
	chunk := func(typ string, data []byte) []byte {
		c := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	body := file[12:]
	var vp8x []byte
	switch string(body[:4]) {
	case "VP8X":
		if len(body) < 18 {
			return file
		}
		vp8x = append([]byte(nil), body[8:18]...)
		body = body[18:]
	case "VP8 ", "VP8L":
		vp8x = make([]byte, 10)
		put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
		put24(vp8x[4:], w-1)
		put24(vp8x[7:], h-1)
		if string(body[:4]) == "VP8L" && len(body) >= 13 && body[12]&0x10 != 0 {
			vp8x[0] |= 0x10 // the lossless bitstream says it uses alpha
		}
	default:
		return file
	}
	out := []byte("RIFF\x00\x00\x00\x00WEBP")
	if icc != nil {
		vp8x[0] |= 0x20 // ICC profile
	}
	if exif != nil {
		vp8x[0] |= 0x08 // EXIF metadata
	}
	out = append(out, chunk("VP8X", vp8x)...)
	if icc != nil {
		out = append(out, chunk("ICCP", icc)...)
	}
	out = append(out, body...)
	if exif != nil {
		out = append(out, chunk("EXIF", exif)...)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// tightNRGBA is ToNRGBA with rows packed end to end, the layout both
// WebAssembly encoders copy in without looking at the stride.
func tightNRGBA(img image.Image) *image.NRGBA {
	n := ToNRGBA(img)
	w, h := n.Rect.Dx(), n.Rect.Dy()
	if n.Stride == 4*w && len(n.Pix) == 4*w*h {
		return n
	}
	t := image.NewNRGBA(image.Rectangle{Max: n.Rect.Size()})
	for y := range h {
		copy(t.Pix[y*t.Stride:][:4*w], n.Pix[y*n.Stride:])
	}
	return t
}
