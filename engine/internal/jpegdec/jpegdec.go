// Package jpegdec decodes the common kind of JPEG (baseline or extended
// sequential, Huffman-coded, 8-bit samples, grey or YCbCr) in two stages
// that run at once: entropy decoding, which is sequential by nature, on the
// calling goroutine, and dequantised blocks to pixels (the inverse DCT) on
// others, a row of MCUs at a time. image/jpeg does both on one goroutine,
// so a 12-megapixel photo keeps one CPU busy for about 200 ms while the
// others wait.
//
// Anything else (progressive or lossless coding, arithmetic coding, 12-bit
// samples, CMYK or RGB, sampling other than 4:4:4, 4:2:2, 4:2:0 and 4:4:0)
// returns ErrUnsupported, and so does a file that image/jpeg would reject
// or treat differently (missing EOI, a bad restart marker, entropy data cut
// short): the caller then decodes with image/jpeg, which gives its own
// result or error. A decode that succeeds gives the same picture as
// image/jpeg's, within one level per sample (the inverse DCTs round
// differently).
package jpegdec

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
)

// ErrUnsupported says the data is not a JPEG this package decodes; another
// decoder should try it.
var ErrUnsupported = errors.New("jpegdec: not a JPEG this decoder handles")

// maxPixels bounds what Decode allocates; callers check their own, lower
// limits from the header first.
const maxPixels = 1 << 28

// Decode decodes data into an *image.Gray or an *image.YCbCr, using up to
// workers goroutines (0: GOMAXPROCS). Every error wraps ErrUnsupported.
func Decode(data []byte, workers int) (img image.Image, err error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	defer func() {
		// A malformed file must never take the process down: treat a
		// slip in the entropy stage as data this decoder does not handle.
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%w: %v", ErrUnsupported, p)
		}
	}()
	d := &decoder{data: data}
	if err := d.readHeaders(); err != nil {
		return nil, unsupported(err)
	}
	img, err = d.decodeScan(workers)
	if err != nil {
		return nil, unsupported(err)
	}
	if err := d.readTrailer(); err != nil {
		return nil, unsupported(err)
	}
	return img, nil
}

func unsupported(err error) error {
	if errors.Is(err, ErrUnsupported) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnsupported, err)
}

// Markers (ITU T.81, table B.1).
const (
	markSOF0 = 0xc0 // baseline
	markSOF1 = 0xc1 // extended sequential, Huffman
	markDHT  = 0xc4
	markDAC  = 0xcc
	markRST0 = 0xd0
	markSOI  = 0xd8
	markEOI  = 0xd9
	markSOS  = 0xda
	markDQT  = 0xdb
	markDNL  = 0xdc
	markDRI  = 0xdd
	markAPP0 = 0xe0
	markAPPE = 0xee
)

type component struct {
	id     uint8
	h, v   int   // sampling factors
	tq     uint8 // quantisation table
	td, ta uint8 // DC and AC Huffman tables of the scan
	pred   int32 // DC predictor
	// Where the component's blocks go: its plane and the plane's stride.
	plane  []uint8
	stride int
}

type decoder struct {
	data []byte
	pos  int

	width, height int
	comps         []component
	quant         [4]*[64]int32 // zigzag order
	dc, ac        [4]*huffman
	restart       int // MCUs per restart interval; 0: none
	jfif          bool
	adobe         bool
	adobeXform    uint8
	sawFrame      bool

	bits bitReader
}

// segment returns the payload of the marker segment at d.pos (after the
// marker) and moves past it.
func (d *decoder) segment() ([]byte, error) {
	if d.pos+2 > len(d.data) {
		return nil, errors.New("segment length cut short")
	}
	n := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	if n < 2 || d.pos+n > len(d.data) {
		return nil, errors.New("bad segment length")
	}
	p := d.data[d.pos+2 : d.pos+n]
	d.pos += n
	return p, nil
}

// marker reads the next marker, skipping fill bytes (0xff runs).
func (d *decoder) marker() (byte, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != 0xff {
		return 0, errors.New("marker expected")
	}
	for d.pos < len(d.data) && d.data[d.pos] == 0xff {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return 0, errors.New("cut short at a marker")
	}
	m := d.data[d.pos]
	d.pos++
	return m, nil
}

// readHeaders reads from SOI to the first SOS, leaving d.pos at the start
// of the entropy-coded data.
func (d *decoder) readHeaders() error {
	if len(d.data) < 2 || d.data[0] != 0xff || d.data[1] != markSOI {
		return errors.New("no SOI")
	}
	d.pos = 2
	for {
		m, err := d.marker()
		if err != nil {
			return err
		}
		switch {
		case m == markDAC:
			return fmt.Errorf("%w: arithmetic coding", ErrUnsupported)
		case m >= 0xc2 && m <= 0xcf && m != markDHT:
			// Progressive, lossless, hierarchical or arithmetic frames.
			return fmt.Errorf("%w: SOF%d", ErrUnsupported, m-0xc0)
		case m == markSOI || m == markEOI || m >= markRST0 && m < markSOI || m == markDNL:
			return fmt.Errorf("unexpected marker %#x before the scan", m)
		}
		// Every other marker here starts a segment.
		p, err := d.segment()
		if err != nil {
			return err
		}
		switch m {
		case markSOF0, markSOF1:
			if d.sawFrame {
				return errors.New("second frame header")
			}
			err = d.frame(p)
		case markDHT:
			err = d.huffmanTables(p)
		case markDQT:
			err = d.quantTables(p)
		case markDRI:
			if len(p) != 2 {
				return errors.New("bad DRI")
			}
			d.restart = int(p[0])<<8 | int(p[1])
		case markSOS:
			if !d.sawFrame {
				return errors.New("SOS before the frame header")
			}
			return d.scanHeader(p)
		case markAPP0:
			d.jfif = d.jfif || len(p) >= 5 && string(p[:5]) == "JFIF\x00"
		case markAPPE:
			if len(p) >= 12 && string(p[:5]) == "Adobe" {
				d.adobe, d.adobeXform = true, p[11]
			}
		}
		// APPn, COM and the rest carry nothing the pixels need.
		if err != nil {
			return err
		}
	}
}

func (d *decoder) frame(p []byte) error {
	if len(p) < 6 {
		return errors.New("short SOF")
	}
	if p[0] != 8 {
		return fmt.Errorf("%w: %d-bit samples", ErrUnsupported, p[0])
	}
	d.height = int(p[1])<<8 | int(p[2])
	d.width = int(p[3])<<8 | int(p[4])
	n := int(p[5])
	if d.width == 0 || d.height == 0 {
		return fmt.Errorf("%w: height defined by DNL, or empty", ErrUnsupported)
	}
	if d.width*d.height > maxPixels {
		return fmt.Errorf("%w: %d×%d", ErrUnsupported, d.width, d.height)
	}
	if n != 1 && n != 3 {
		return fmt.Errorf("%w: %d components", ErrUnsupported, n)
	}
	if len(p) != 6+3*n {
		return errors.New("bad SOF length")
	}
	d.comps = make([]component, n)
	for i := range d.comps {
		c := p[6+3*i:]
		d.comps[i] = component{id: c[0], h: int(c[1] >> 4), v: int(c[1] & 15), tq: c[2]}
		if d.comps[i].tq > 3 {
			return errors.New("bad quantisation table selector")
		}
	}
	if n == 3 {
		y, cb, cr := d.comps[0], d.comps[1], d.comps[2]
		if cb.h != 1 || cb.v != 1 || cr.h != 1 || cr.v != 1 || y.h < 1 || y.h > 2 || y.v < 1 || y.v > 2 {
			return fmt.Errorf("%w: sampling %dx%d, %dx%d, %dx%d", ErrUnsupported, y.h, y.v, cb.h, cb.v, cr.h, cr.v)
		}
	} else {
		// A lone component's scan is not interleaved: one block per MCU,
		// whatever its sampling factors say.
		d.comps[0].h, d.comps[0].v = 1, 1
	}
	d.sawFrame = true
	return nil
}

func (d *decoder) quantTables(p []byte) error {
	for len(p) > 0 {
		pq, tq := p[0]>>4, p[0]&15
		if tq > 3 || pq > 1 {
			return errors.New("bad DQT")
		}
		size := 64 * (1 + int(pq))
		if len(p) < 1+size {
			return errors.New("short DQT")
		}
		q := new([64]int32)
		for i := range q {
			if pq == 0 {
				q[i] = int32(p[1+i])
			} else {
				q[i] = int32(p[1+2*i])<<8 | int32(p[2+2*i])
			}
		}
		d.quant[tq] = q
		p = p[1+size:]
	}
	return nil
}

func (d *decoder) huffmanTables(p []byte) error {
	for len(p) > 0 {
		if len(p) < 17 {
			return errors.New("short DHT")
		}
		tc, th := p[0]>>4, p[0]&15
		if tc > 1 || th > 3 {
			return errors.New("bad DHT")
		}
		var counts [16]int
		total := 0
		for i := range counts {
			counts[i] = int(p[1+i])
			total += counts[i]
		}
		if total == 0 || total > 256 || len(p) < 17+total {
			return errors.New("bad DHT counts")
		}
		h, err := newHuffman(counts, p[17:17+total])
		if err != nil {
			return err
		}
		if tc == 0 {
			d.dc[th] = h
		} else {
			d.ac[th] = h
		}
		p = p[17+total:]
	}
	return nil
}

func (d *decoder) scanHeader(p []byte) error {
	if len(p) < 1 || len(p) != 4+2*int(p[0]) {
		return errors.New("bad SOS length")
	}
	// image/jpeg's rule for RGB-coded files, once every segment before the
	// scan is known: no JFIF and either an Adobe transform of 0 or
	// components named R, G, B.
	if c := d.comps; len(c) == 3 && !d.jfif && (d.adobe && d.adobeXform == 0 || c[0].id == 'R' && c[1].id == 'G' && c[2].id == 'B') {
		return fmt.Errorf("%w: RGB", ErrUnsupported)
	}
	if int(p[0]) != len(d.comps) {
		return fmt.Errorf("%w: a scan of %d of %d components", ErrUnsupported, p[0], len(d.comps))
	}
	for i := range d.comps {
		id, tables := p[1+2*i], p[2+2*i]
		c := &d.comps[i]
		if id != c.id {
			return fmt.Errorf("%w: scan components in another order", ErrUnsupported)
		}
		c.td, c.ta = tables>>4, tables&15
		if c.td > 3 || c.ta > 3 || d.dc[c.td] == nil || d.ac[c.ta] == nil || d.quant[c.tq] == nil {
			return errors.New("scan names a missing table")
		}
	}
	ss, se, ahal := p[1+2*len(d.comps)], p[2+2*len(d.comps)], p[3+2*len(d.comps)]
	if ss != 0 || se != 63 || ahal != 0 {
		return fmt.Errorf("%w: spectral selection", ErrUnsupported)
	}
	return nil
}

// readTrailer checks that the scan is followed by EOI, with nothing but
// segments image/jpeg would also skip between them.
func (d *decoder) readTrailer() error {
	for {
		m, err := d.marker()
		if err != nil {
			return err
		}
		switch {
		case m == markEOI:
			return nil
		case m == markSOS || m >= 0xc0 && m <= 0xcf || m == markDNL || m >= markRST0 && m <= markSOI:
			return fmt.Errorf("%w: marker %#x after the scan", ErrUnsupported, m)
		default:
			if _, err := d.segment(); err != nil {
				return err
			}
		}
	}
}

// decodeScan decodes the entropy-coded data into pixel planes. The calling
// goroutine decodes MCU rows into a ring of coefficient buffers; workers
// turn each finished row into pixels.
func (d *decoder) decodeScan(workers int) (image.Image, error) {
	hmax, vmax := d.comps[0].h, d.comps[0].v
	mcusX := (d.width + 8*hmax - 1) / (8 * hmax)
	mcusY := (d.height + 8*vmax - 1) / (8 * vmax)
	blocksPerMCU := 0
	for i := range d.comps {
		c := &d.comps[i]
		blocksPerMCU += c.h * c.v
		c.stride = mcusX * c.h * 8
		c.plane = make([]uint8, c.stride*mcusY*c.v*8)
	}
	var img image.Image
	rect := image.Rect(0, 0, d.width, d.height)
	if len(d.comps) == 1 {
		c := d.comps[0]
		img = &image.Gray{Pix: c.plane, Stride: c.stride, Rect: rect}
	} else {
		ratio := map[[2]int]image.YCbCrSubsampleRatio{
			{1, 1}: image.YCbCrSubsampleRatio444, {2, 1}: image.YCbCrSubsampleRatio422,
			{2, 2}: image.YCbCrSubsampleRatio420, {1, 2}: image.YCbCrSubsampleRatio440,
		}[[2]int{hmax, vmax}]
		img = &image.YCbCr{
			Y: d.comps[0].plane, Cb: d.comps[1].plane, Cr: d.comps[2].plane,
			YStride: d.comps[0].stride, CStride: d.comps[1].stride,
			SubsampleRatio: ratio, Rect: rect,
		}
	}

	// The ring: a few MCU rows of coefficients in flight, so the entropy
	// decoder rarely waits for the inverse DCT or the other way round.
	const ring = 4
	bufs := make([]rowBuf, ring)
	free := make(chan int, ring)
	for i := range bufs {
		bufs[i] = rowBuf{coef: make([]int32, mcusX*blocksPerMCU*64), flat: make([]bool, mcusX*blocksPerMCU)}
		free <- i
	}
	type job struct{ my, buf int }
	jobs := make(chan job, ring)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked error
	)
	idctWorkers := max(1, workers-1)
	for range idctWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			current := -1 // the buffer being turned into pixels
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					panicked = fmt.Errorf("inverse DCT: %v", p)
					mu.Unlock()
					// Give every buffer back, so the entropy stage never
					// waits for one.
					free <- current
					for j := range jobs {
						free <- j.buf
					}
				}
			}()
			for j := range jobs {
				current = j.buf
				d.rowToPixels(&bufs[j.buf], j.my, mcusX)
				current = -1
				free <- j.buf
			}
		}()
	}

	err := func() (err error) {
		// The workers must be stopped whatever happens here.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("entropy decoding: %v", p)
			}
		}()
		return d.entropyDecode(mcusX, mcusY, func(my int, fill func(*rowBuf) error) error {
			b := <-free
			if err := fill(&bufs[b]); err != nil {
				free <- b
				return err
			}
			jobs <- job{my, b}
			return nil
		})
	}()
	close(jobs)
	wg.Wait()
	if err == nil {
		err = panicked
	}
	if err != nil {
		return nil, err
	}
	return img, nil
}

// entropyDecode decodes every MCU row, handing each to row with a function
// that decodes it into a buffer.
func (d *decoder) entropyDecode(mcusX, mcusY int, row func(my int, fill func(*rowBuf) error) error) error {
	d.bits = bitReader{data: d.data, pos: d.pos}
	mcu := 0
	for my := 0; my < mcusY; my++ {
		err := row(my, func(buf *rowBuf) error {
			n := 0 // blocks so far
			for mx := 0; mx < mcusX; mx++ {
				if d.restart > 0 && mcu > 0 && mcu%d.restart == 0 {
					if err := d.restartInterval(mcu / d.restart); err != nil {
						return err
					}
				}
				for i := range d.comps {
					c := &d.comps[i]
					for range c.h * c.v {
						flat, err := d.block(c, (*[64]int32)(buf.coef[64*n:64*n+64]))
						if err != nil {
							return err
						}
						buf.flat[n] = flat
						n++
					}
				}
				mcu++
			}
			// Bits read past the end of the data are zeros the reader made
			// up: image/jpeg fails there, so this decoder does too.
			if d.bits.overrun() {
				return errors.New("entropy-coded data cut short")
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	d.pos = d.bits.end()
	return nil
}

// restartInterval expects the RSTn marker that ends interval n-1 and resets
// the predictors.
func (d *decoder) restartInterval(n int) error {
	if d.bits.overrun() {
		return errors.New("entropy-coded data cut short")
	}
	pos := d.bits.end()
	if pos+1 >= len(d.data) || d.data[pos] != 0xff || d.data[pos+1] != markRST0+byte((n-1)%8) {
		return errors.New("bad restart marker")
	}
	d.bits = bitReader{data: d.data, pos: pos + 2}
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	return nil
}

// zigzag maps the order of coefficients in the data to their place in a
// row-major 8×8 block.
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// block decodes one block's coefficients, dequantised, into blk (which is
// zero on entry) in row-major order. flat says that it has no AC
// coefficient: the block is one colour.
func (d *decoder) block(c *component, blk *[64]int32) (flat bool, err error) {
	b := &d.bits
	q := d.quant[c.tq]
	// A coefficient takes at most 16 bits of code and 11 of value.
	if b.n < 27 {
		b.fill()
	}
	s, err := b.symbol(d.dc[c.td])
	if err != nil {
		return false, err
	}
	if s > 11 {
		return false, errors.New("bad DC magnitude")
	}
	if s > 0 {
		c.pred += b.extend(s)
	}
	blk[0] = c.pred * q[0]
	ac := d.ac[c.ta]
	flat = true
	for k := 1; k < 64; {
		if b.n < 27 {
			b.fill()
		}
		var r, s uint32
		var v int32
		if e := ac.ac[b.acc>>(64-lutBits)]; e != 0 {
			n := uint32(e) & 31
			b.acc <<= n
			b.n -= uint(n)
			r, s = uint32(e)>>5&15, uint32(e)>>9&15
			if e&acComplete != 0 {
				v = int32(int16(e >> 16))
			} else if s <= 10 {
				v = b.extend(uint8(s))
			}
		} else {
			rs, err := b.longSymbol(ac)
			if err != nil {
				return false, err
			}
			r, s = uint32(rs>>4), uint32(rs&15)
			if s > 0 && s <= 10 {
				v = b.extend(uint8(s))
			}
		}
		if s == 0 {
			if r != 15 {
				break // end of block
			}
			k += 16
			continue
		}
		k += int(r)
		if k > 63 || s > 10 {
			return false, errors.New("bad AC coefficient")
		}
		blk[zigzag[k]] = v * q[k]
		flat = false
		k++
	}
	return flat, nil
}

// rowBuf is one MCU row of blocks as entropyDecode lays them out: the
// dequantised coefficients, zero but for those the data sets (rowToPixels
// clears them again), and which blocks are flat.
type rowBuf struct {
	coef []int32
	flat []bool
}

// rowToPixels turns MCU row my into pixels and leaves buf's coefficients
// zero for the next row.
func (d *decoder) rowToPixels(buf *rowBuf, my, mcusX int) {
	n := 0
	for mx := 0; mx < mcusX; mx++ {
		for i := range d.comps {
			c := &d.comps[i]
			for by := 0; by < c.v; by++ {
				for bx := 0; bx < c.h; bx++ {
					x, y := (mx*c.h+bx)*8, (my*c.v+by)*8
					blk := (*[64]int32)(buf.coef[64*n : 64*n+64])
					if buf.flat[n] {
						fill8x8(c.plane[y*c.stride+x:], c.stride, flatSample(blk[0]))
						blk[0] = 0
					} else {
						idct(blk, c.plane[y*c.stride+x:], c.stride)
						clear(blk[:])
					}
					n++
				}
			}
		}
	}
}
