package jpegdec

import "errors"

// bitReader reads entropy-coded bits most significant first, undoing the
// byte stuffing (0xff 0x00 is a data byte 0xff). At a marker or the end of
// the data it supplies zero bytes without moving on, and counts them, so
// that reading ahead is safe and reading into them is detected.
type bitReader struct {
	data   []byte
	pos    int    // next byte to load
	acc    uint64 // bits, left-aligned
	n      uint   // valid bits in acc
	madeUp uint   // of those, the low ones that are invented zeros
}

// fill tops the accumulator up to at least 57 bits.
func (b *bitReader) fill() {
	for b.n <= 56 {
		var c byte
		switch {
		case b.pos >= len(b.data):
			b.madeUp += 8
		case b.data[b.pos] != 0xff:
			c = b.data[b.pos]
			b.pos++
		case b.pos+1 < len(b.data) && b.data[b.pos+1] == 0:
			c = 0xff
			b.pos += 2
		default: // a marker: the segment's data ends here
			b.madeUp += 8
		}
		b.acc |= uint64(c) << (56 - b.n)
		b.n += 8
	}
}

// overrun reports whether bits past the end of the data have been used.
func (b *bitReader) overrun() bool { return b.n < b.madeUp }

// end returns where the data after the segment starts: the marker that
// ended it. Whole bytes left in the accumulator were read ahead and are
// given back.
func (b *bitReader) end() int {
	pos := b.pos
	for real := (b.n - min(b.n, b.madeUp)) / 8; real > 0; real-- {
		pos--
		// A stuffed 0xff was two bytes.
		if pos > 0 && b.data[pos] == 0 && b.data[pos-1] == 0xff {
			pos--
		}
	}
	return pos
}

// extend reads an s-bit magnitude and sign, 0 < s <= 16, from bits already
// in the accumulator (T.81 F.2.2.1).
func (b *bitReader) extend(s uint8) int32 {
	v := int32(b.acc >> (64 - s))
	b.acc <<= s
	b.n -= uint(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

var errBadCode = errors.New("bad Huffman code")

// symbol reads one Huffman-coded symbol from bits already in the
// accumulator (at least 16).
func (b *bitReader) symbol(h *huffman) (uint8, error) {
	if e := h.lut[b.acc>>(64-lutBits)]; e != 0 {
		b.acc <<= e >> 8
		b.n -= uint(e >> 8)
		return uint8(e), nil
	}
	return b.longSymbol(h)
}

// longSymbol reads a symbol whose code is longer than lutBits.
func (b *bitReader) longSymbol(h *huffman) (uint8, error) {
	for l := lutBits + 1; l <= 16; l++ {
		code := int32(b.acc >> (64 - l))
		if code <= h.maxcode[l] {
			b.acc <<= uint(l)
			b.n -= uint(l)
			return h.vals[h.valptr[l]+code-h.mincode[l]], nil
		}
	}
	return 0, errBadCode
}

// lutBits is how many leading bits the lookup tables decode at once;
// longer codes take the canonical search.
const lutBits = 10

// huffman is one table: a lookup for short codes (length<<8 | symbol,
// 0 for none), the same lookup for AC coefficients with their value (see
// acEntry), and the canonical code ranges per length for the rest.
type huffman struct {
	lut     [1 << lutBits]uint16
	ac      [1 << lutBits]acEntry
	mincode [17]int32
	maxcode [17]int32 // -1: no code of this length
	valptr  [17]int32
	vals    []uint8
}

// acEntry decodes an AC coefficient from the next lutBits bits: bits 0-4
// say how many bits it takes, 5-8 the run of zeros and 9-12 the size of the
// value (the symbol's two halves); when bit 13 is set the value's bits
// were among the lutBits too and bits 16-31 hold it, otherwise only the
// code is counted and the value is still to be read. 0: the code is
// longer than lutBits.
type acEntry uint32

const acComplete = 1 << 13

// acEntries fills h.ac from h.lut.
func (h *huffman) acEntries() {
	for p, e := range h.lut {
		if e == 0 {
			continue
		}
		l, sym := uint32(e>>8), uint32(e&0xff)
		r, size := sym>>4, sym&15
		entry := l | r<<5 | size<<9
		if size == 0 || l+size <= lutBits {
			// The value's bits follow the code within p.
			bits := uint32(p) >> (lutBits - l - size) & (1<<size - 1)
			v := int32(bits)
			if size > 0 && v < 1<<(size-1) {
				v += -1<<size + 1
			}
			entry = (l + size) | r<<5 | size<<9 | acComplete | uint32(uint16(int16(v)))<<16
		}
		h.ac[p] = acEntry(entry)
	}
}

// newHuffman builds a table from DHT's counts per code length and symbols.
func newHuffman(counts [16]int, vals []uint8) (*huffman, error) {
	h := &huffman{vals: vals}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		h.maxcode[l] = -1
		if n > 0 {
			h.mincode[l], h.valptr[l] = code, k
			if code+n > 1<<l {
				return nil, errors.New("bad Huffman table: too many codes")
			}
			h.maxcode[l] = code + n - 1
			if l <= lutBits {
				for i := range n {
					first := (code + i) << (lutBits - l)
					for j := range int32(1) << (lutBits - l) {
						h.lut[first+j] = uint16(l)<<8 | uint16(vals[k+i])
					}
				}
			}
		}
		code, k = (code+n)<<1, k+n
	}
	h.acEntries()
	return h, nil
}
