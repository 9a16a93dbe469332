package samples

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"math/rand/v2"
)

// Inputs that a careless or hostile uploader sends: the daemon must refuse
// each clearly or process it correctly, and stay up.

// Random returns n bytes of noise.
func Random(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// Truncate returns the first half of b.
func Truncate(b []byte) []byte { return b[:len(b)/2] }

// PNGHeader returns a PNG signature and IHDR declaring w×h 8-bit RGBA, and
// nothing else: a header that promises what the body does not hold.
func PNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	writeChunk(&b, "IHDR", ihdr(w, h, 8, 6))
	return b.Bytes()
}

// PNGBomb returns a small PNG declaring w×h RGBA whose compressed image data
// inflates far beyond its size (rows of zeros), cut off after rows rows.
func PNGBomb(w, h uint32, rows int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	writeChunk(&b, "IHDR", ihdr(w, h, 8, 6))
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+4*int(w)) // filter byte + pixels, all zero
	for range rows {
		zw.Write(row)
	}
	zw.Close()
	writeChunk(&b, "IDAT", z.Bytes())
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func ihdr(w, h uint32, depth, colorType byte) []byte {
	d := make([]byte, 13)
	binary.BigEndian.PutUint32(d[0:], w)
	binary.BigEndian.PutUint32(d[4:], h)
	d[8], d[9] = depth, colorType
	return d
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// JPEGHeader returns a baseline JPEG whose frame header declares w×h,
// followed by a scan header and a few bytes of data: far too little for the
// pixels it promises.
func JPEGHeader(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8} // SOI
	// DQT: one table of ones, so DecodeConfig reaches the frame header.
	dqt := []byte{0xFF, 0xDB, 0x00, 0x43, 0x00}
	for range 64 {
		dqt = append(dqt, 1)
	}
	b = append(b, dqt...)
	sof := []byte{0xFF, 0xC0, 0x00, 0x11, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0}
	b = append(b, sof...)
	sos := []byte{0xFF, 0xDA, 0x00, 0x0C, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}
	b = append(b, sos...)
	b = append(b, make([]byte, 64)...)
	return append(b, 0xFF, 0xD9) // EOI
}

// AnimatedGIF returns a GIF of frames frames of w×h, each a different
// palette colour.
func AnimatedGIF(frames, w, h int) []byte {
	anim := &gif.GIF{}
	for i := range frames {
		img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		idx := uint8(i % len(palette.Plan9))
		for p := range img.Pix {
			img.Pix[p] = idx
		}
		anim.Image = append(anim.Image, img)
		anim.Delay = append(anim.Delay, 5)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, anim); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// PNG16 returns a 16-bit RGBA PNG: a smooth photo-like gradient.
func PNG16(w, h int) []byte {
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA64(x, y, color.NRGBA64{
				R: uint16(65535 * x / max(w-1, 1)), G: uint16(65535 * y / max(h-1, 1)), B: 30000, A: 65535,
			})
		}
	}
	return encodePNG(img)
}

// GrayPNG returns an 8-bit grayscale PNG of the photo pattern.
func GrayPNG(w, h int, seed uint64) []byte {
	src := Photo(w, h, seed)
	img := image.NewGray(src.Rect)
	for y := range h {
		for x := range w {
			img.Set(x, y, src.At(x, y))
		}
	}
	return encodePNG(img)
}

// PalettedPNG returns a paletted PNG whose palette has a fully transparent
// entry used around a coloured disc.
func PalettedPNG(w, h int) []byte {
	pal := color.Palette{color.NRGBA{}, color.NRGBA{200, 30, 30, 255}, color.NRGBA{30, 30, 200, 128}}
	img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for y := range h {
		for x := range w {
			dx, dy := x-w/2, y-h/2
			switch r := dx*dx + dy*dy; {
			case r < (w*w)/16:
				img.SetColorIndex(x, y, 1)
			case r < (w*w)/8:
				img.SetColorIndex(x, y, 2)
			}
		}
	}
	return encodePNG(img)
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}
