package imaging

// Generators for every image the tests use. Nothing is read from disk except
// the fuzz seeds and one documented WebP sample in testdata/.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
)

var (
	red    = color.RGBA{255, 0, 0, 255}
	green  = color.RGBA{0, 255, 0, 255}
	blue   = color.RGBA{0, 0, 255, 255}
	white  = color.RGBA{255, 255, 255, 255}
	yellow = color.RGBA{255, 255, 0, 255}
)

// quadrants returns a w×h image with solid red, green, blue and white
// quadrants (top-left, top-right, bottom-left, bottom-right).
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = white
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// noisy returns a w×h opaque image of random pixels: incompressible, so a
// truncation always lands in pixel data.
func noisy(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.UintN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// photoLike returns an opaque image with smooth gradients, noise and hard
// edges, roughly the statistics a resizer sees from cameras.
func photoLike(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			r := 255 * x / w
			g := 255 * y / h
			b := 128
			if (x/(w/8)+y/(h/6))%2 == 0 { // checker of large blocks: edges
				b = 40
			}
			n := int(rng.IntN(25)) - 12
			i := img.PixOffset(x, y)
			img.Pix[i+0] = clamp8(r + n)
			img.Pix[i+1] = clamp8(g + n)
			img.Pix[i+2] = clamp8(b + n)
			img.Pix[i+3] = 255
		}
	}
	return img
}

func clamp8(v int) uint8 { return uint8(min(max(v, 0), 255)) }

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multiFrameGIF returns a GIF with n 1×1 frames.
func multiFrameGIF(t testing.TB, n int) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White}
	g := &gif.GIF{}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, 1, 1), pal)
		f.Pix[0] = uint8(i % 2)
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 1)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffWithOrientation builds a TIFF structure whose IFD0 holds a dummy tag,
// the orientation tag and another dummy tag, in the given byte order.
func tiffWithOrientation(bo byteOrder, orientation uint16) []byte {
	var b []byte
	if bo.String() == binary.LittleEndian.String() {
		b = append(b, "II*\x00"...)
	} else {
		b = append(b, "MM\x00*"...)
	}
	b = bo.AppendUint32(b, 8) // IFD0 right after the header
	b = bo.AppendUint16(b, 3)
	entry := func(tag, typ uint16, count uint32, value uint16) {
		b = bo.AppendUint16(b, tag)
		b = bo.AppendUint16(b, typ)
		b = bo.AppendUint32(b, count)
		b = bo.AppendUint16(b, value)
		b = append(b, 0, 0)
	}
	entry(0x010f, 2, 2, 'A') // Make = "A\0", fits in the value field
	entry(tagOrientation, 3, 1, orientation)
	entry(0x0131, 2, 2, 'B')     // Software
	return bo.AppendUint32(b, 0) // no next IFD
}

// withAPP1 inserts an APP1 segment with payload right after the SOI marker.
func withAPP1(jpg, payload []byte) []byte {
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func exifAPP1(tiff []byte) []byte { return append([]byte("Exif\x00\x00"), tiff...) }

func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// withPNGChunk inserts a chunk right after IHDR (8-byte signature + 25-byte IHDR).
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	out := append([]byte{}, p[:33]...)
	out = append(out, pngChunk(typ, data)...)
	return append(out, p[33:]...)
}

func ihdr(w, h uint32, depth, colorType, interlace byte) []byte {
	d := binary.BigEndian.AppendUint32(nil, w)
	d = binary.BigEndian.AppendUint32(d, h)
	return append(d, depth, colorType, 0, 0, interlace)
}

// pngHeaderOnly is a PNG signature and an IHDR chunk with a valid CRC.
func pngHeaderOnly(w, h uint32) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr(w, h, 8, 6, 0))...)
}

// jpegHeaderOnly is SOI, a JFIF APP0 and a baseline SOF0 for a w×h YCbCr image.
func jpegHeaderOnly(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16}
	b = append(b, "JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"...)
	b = append(b, 0xff, 0xc0, 0, 17, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	return append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
}

// gifHeaderOnly is a GIF signature and logical screen descriptor.
func gifHeaderOnly(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0)
}

// webpVP8XHeaderOnly is a RIFF/WEBP container with only a VP8X chunk.
func webpVP8XHeaderOnly(w, h uint32) []byte {
	c := []byte("VP8X")
	c = binary.LittleEndian.AppendUint32(c, 10)
	c = append(c, 0, 0, 0, 0)
	c = append(c, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	c = append(c, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return riff(c)
}

func riff(chunks []byte) []byte {
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(chunks)))
	b = append(b, "WEBP"...)
	return append(b, chunks...)
}

// interlacedPNG hand-builds an Adam7-interlaced 8-bit RGB PNG of img (image/png
// can read but not write interlaced files).
func interlacedPNG(t testing.TB, img *image.RGBA) []byte {
	t.Helper()
	w, h := img.Rect.Dx(), img.Rect.Dy()
	passes := [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	var raw []byte
	for _, p := range passes {
		x0, y0, dx, dy := p[0], p[1], p[2], p[3]
		if x0 >= w || y0 >= h {
			continue // empty pass: no rows at all
		}
		for y := y0; y < h; y += dy {
			raw = append(raw, 0) // filter: none
			for x := x0; x < w; x += dx {
				c := img.RGBAAt(x, y)
				raw = append(raw, c.R, c.G, c.B)
			}
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr(uint32(w), uint32(h), 8, 2, 1))...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// cmykJPEG hand-builds a baseline 8×8 four-component Adobe JPEG in which every
// block is flat (DC difference 0, immediate end-of-block), so the whole scan
// is one byte: each Huffman table has a single one-bit code.
func cmykJPEG() []byte {
	b := []byte{0xff, 0xd8}
	b = append(b, 0xff, 0xee, 0, 14) // APP14 Adobe, transform 0 = CMYK
	b = append(b, "Adobe\x00\x64\x00\x00\x00\x00\x00"...)
	b = append(b, 0xff, 0xdb, 0, 67, 0x00) // DQT: table 0, all ones
	b = append(b, bytes.Repeat([]byte{1}, 64)...)
	b = append(b, 0xff, 0xc0, 0, 20, 8, 0, 8, 0, 8, 4) // SOF0 8×8, 4 components
	for id := byte(1); id <= 4; id++ {
		b = append(b, id, 0x11, 0)
	}
	for _, class := range []byte{0x00, 0x10} { // DC table 0, AC table 0
		b = append(b, 0xff, 0xc4, 0, 20, class, 1)
		b = append(b, make([]byte, 15)...)
		b = append(b, 0x00) // DC: category 0; AC: EOB
	}
	b = append(b, 0xff, 0xda, 0, 14, 4)
	for id := byte(1); id <= 4; id++ {
		b = append(b, id, 0x00)
	}
	b = append(b, 0, 63, 0)
	b = append(b, 0x00) // 4 blocks × (DC "0" + EOB "0")
	return append(b, 0xff, 0xd9)
}

// bitWriter writes VP8L's least-significant-bit-first bit stream.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

func (w *bitWriter) write(v uint64, bits uint) {
	w.acc |= v << w.n
	w.n += bits
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.n > 0 {
		return append(w.buf, byte(w.acc))
	}
	return w.buf
}

// losslessWebP hand-builds a VP8L (lossless WebP) file of a w×h image whose
// pixels are (R, 0x80, B, 0xff) with R and B each 0 or 255, chosen by on.
// It uses no transforms, no colour cache and "simple" prefix codes: green,
// alpha and distance have one symbol (zero bits per pixel), red and blue two
// (one bit each), so every pixel costs exactly two bits.
func losslessWebP(w, h int, on func(x, y int) (r, b bool)) []byte {
	var bw bitWriter
	bw.write(0x2f, 8)
	bw.write(uint64(w-1), 14)
	bw.write(uint64(h-1), 14)
	bw.write(0, 1) // alpha hint
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	oneSymbol := func(sym uint64) {
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // 8-bit symbol
		bw.write(sym, 8)
	}
	twoSymbols := func(a, b uint64) {
		bw.write(1, 1)
		bw.write(1, 1) // two symbols: a gets code 0, b code 1
		bw.write(1, 1)
		bw.write(a, 8)
		bw.write(b, 8)
	}
	oneSymbol(0x80)     // green
	twoSymbols(0, 0xff) // red
	twoSymbols(0, 0xff) // blue
	oneSymbol(0xff)     // alpha
	oneSymbol(0)        // distance
	bit := func(v bool) uint64 {
		if v {
			return 1
		}
		return 0
	}
	for y := range h {
		for x := range w {
			r, b := on(x, y)
			bw.write(bit(r), 1)
			bw.write(bit(b), 1)
		}
	}
	data := bw.bytes()
	c := []byte("VP8L")
	c = binary.LittleEndian.AppendUint32(c, uint32(len(data)))
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return riff(c)
}

func near(a, b uint8, tol int) bool {
	d := int(a) - int(b)
	return d >= -tol && d <= tol
}

func nearRGBA(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, a := c.RGBA()
	return near(uint8(r>>8), want.R, tol) && near(uint8(g>>8), want.G, tol) &&
		near(uint8(b>>8), want.B, tol) && near(uint8(a>>8), want.A, tol)
}

var (
	bigEndian    byteOrder = binary.BigEndian
	littleEndian byteOrder = binary.LittleEndian
)
