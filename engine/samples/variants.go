package samples

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math/bits"
)

// InterlacedPNG returns an Adam7-interlaced 8-bit RGB PNG of a w×h
// photo-like image. image/png reads interlaced files but cannot write them,
// so the passes are laid out here.
func InterlacedPNG(w, h int, seed uint64) []byte {
	img := Photo(w, h, seed)
	passes := [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	var raw []byte
	for _, p := range passes {
		x0, y0, dx, dy := p[0], p[1], p[2], p[3]
		if x0 >= w || y0 >= h {
			continue // an empty pass has no rows at all
		}
		for y := y0; y < h; y += dy {
			raw = append(raw, 0) // filter type: none
			for x := x0; x < w; x += dx {
				c := img.RGBAAt(x, y)
				raw = append(raw, c.R, c.G, c.B)
			}
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	hdr := ihdr(uint32(w), uint32(h), 8, 2)
	hdr[12] = 1 // interlace method: Adam7
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	writeChunk(&b, "IHDR", hdr)
	writeChunk(&b, "IDAT", z.Bytes())
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

// CMYKJPEG returns a 16×16 baseline four-component Adobe JPEG (APP14
// transform 0: plain CMYK, stored inverted as Adobe applications write it)
// whose every 8×8 block is flat with the given DC level per channel. Go's
// encoder cannot write CMYK, so the file is assembled marker by marker: all
// quantisation steps are one and the Huffman tables code only what the scan
// needs.
func CMYKJPEG(c, m, y, k uint8) []byte {
	var b []byte
	b = append(b, 0xff, 0xd8)
	b = append(b, 0xff, 0xee, 0, 14) // APP14 "Adobe", version 100, transform 0
	b = append(b, "Adobe\x00\x64\x00\x00\x00\x00\x00"...)
	b = append(b, 0xff, 0xdb, 0, 67, 0x00) // DQT table 0: every step 1
	b = append(b, bytes.Repeat([]byte{1}, 64)...)
	b = append(b, 0xff, 0xc0, 0, 20, 8, 0, 16, 0, 16, 4) // SOF0 16×16, 4 components
	for id := byte(1); id <= 4; id++ {
		b = append(b, id, 0x11, 0)
	}
	// DC table 0: categories 0 to 11, each a four-bit code equal to the
	// category; AC table 0: only end-of-block, one-bit code 0.
	b = append(b, 0xff, 0xc4, 0, 31, 0x00, 0, 0, 0, 12)
	b = append(b, make([]byte, 12)...)
	for cat := byte(0); cat <= 11; cat++ {
		b = append(b, cat)
	}
	b = append(b, 0xff, 0xc4, 0, 20, 0x10, 1)
	b = append(b, make([]byte, 15)...)
	b = append(b, 0x00)
	b = append(b, 0xff, 0xda, 0, 14, 4)
	for id := byte(1); id <= 4; id++ {
		b = append(b, id, 0x00)
	}
	b = append(b, 0, 63, 0)

	// Adobe CMYK is stored inverted: a sample of 255 means no ink. The DC
	// coefficient of a flat block is 8·(sample − 128).
	var bw bitStream
	levels := [4]uint8{255 - c, 255 - m, 255 - y, 255 - k}
	var pred [4]int
	for range 4 { // four blocks per component in a 16×16 non-subsampled frame
		for ci, lv := range levels {
			dc := 8 * (int(lv) - 128)
			diff := dc - pred[ci]
			pred[ci] = dc
			cat := bits.Len(uint(abs(diff)))
			bw.put(uint32(cat), 4)
			if cat > 0 {
				bw.put(dcBits(diff, cat), uint(cat))
			}
			bw.put(0, 1) // end of block
		}
	}
	b = append(b, bw.stuffed()...)
	return append(b, 0xff, 0xd9)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// dcBits is the JPEG magnitude encoding of v in n bits: v itself when
// positive, v−1 in n bits (the one's complement) when negative.
func dcBits(v, n int) uint32 {
	if v < 0 {
		v += (1 << n) - 1
	}
	return uint32(v)
}

// bitStream writes JPEG's most-significant-bit-first entropy-coded data.
type bitStream struct {
	out  []byte
	acc  uint32
	bits uint
}

func (s *bitStream) put(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		s.acc = s.acc<<1 | (v>>uint(i))&1
		s.bits++
		if s.bits == 8 {
			s.out = append(s.out, byte(s.acc))
			s.acc, s.bits = 0, 0
		}
	}
}

// stuffed pads the last byte with ones and inserts a zero after every 0xff,
// as the format requires.
func (s *bitStream) stuffed() []byte {
	for s.bits != 0 {
		s.put(1, 1)
	}
	var out []byte
	for _, c := range s.out {
		out = append(out, c)
		if c == 0xff {
			out = append(out, 0)
		}
	}
	return out
}

// JPEGWithOrientation returns a w×h photo-like JPEG (as stored) carrying
// an EXIF APP1 segment whose IFD0 holds the given orientation tag (1 to 8).
// A viewer that honours the tag shows it h×w for orientations 5 to 8.
func JPEGWithOrientation(w, h int, seed uint64, orientation uint16) []byte {
	jpg := JPEG(w, h, seed, 85)
	var tiff []byte
	tiff = append(tiff, "MM\x00*"...)
	tiff = binary.BigEndian.AppendUint32(tiff, 8)
	tiff = binary.BigEndian.AppendUint16(tiff, 1) // one entry
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112)
	tiff = binary.BigEndian.AppendUint16(tiff, 3) // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, orientation)
	tiff = append(tiff, 0, 0)
	tiff = binary.BigEndian.AppendUint32(tiff, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}
