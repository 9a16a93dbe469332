package imaging

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"strings"
)

// Metadata walking is best effort: anything malformed means "no orientation"
// (1) and "no profile", never an error, because the pixels may still be
// perfectly decodable.
const (
	maxMetaSegments = 1024     // JPEG segments / PNG or RIFF chunks looked at before giving up
	maxExifBytes    = 64 << 10 // an APP1 segment cannot be larger; eXIf is read up to this
	maxICCBytes     = 4 << 20  // a larger profile is ignored
	tagOrientation  = 0x0112
)

// meta is what the walkers find before (or, for WebP, around) the pixels.
type meta struct {
	orientation int    // 1..8
	icc         []byte // the embedded ICC profile, nil when absent or malformed
	notices     Notices
	// JPEG only: Adobe APP14 present, and the component count of the frame.
	adobe      bool
	components int
}

func noMeta() meta { return meta{orientation: 1} }

// jpegOrientation returns the EXIF orientation of a JPEG (see jpegMeta).
func jpegOrientation(r io.Reader) int { return jpegMeta(r).orientation }

// pngOrientation returns the EXIF orientation of a PNG (see pngMeta).
func pngOrientation(r io.Reader) int { return pngMeta(r).orientation }

// jpegMeta walks the JPEG marker segments up to the first SOS: the
// orientation from the first APP1 "Exif\0\0" segment, the ICC profile from
// the APP2 "ICC_PROFILE\0" chunks (reassembled by sequence number), the
// Adobe APP14 marker and the frame's component count.
func jpegMeta(r io.Reader) (m meta) {
	m = noMeta()
	br := bufio.NewReaderSize(r, 4096)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi != [2]byte{0xff, 0xd8} {
		return m
	}
	var icc iccChunks
	exifSeen := false
	defer func() { m.icc = icc.assemble() }()
	for range maxMetaSegments {
		if b, err := br.ReadByte(); err != nil || b != 0xff {
			return m
		}
		marker := byte(0xff)
		for marker == 0xff { // fill bytes
			var err error
			if marker, err = br.ReadByte(); err != nil {
				return m
			}
		}
		switch {
		case marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7):
			continue // markers without a length
		case marker == 0xd9 || marker == 0xda: // EOI, SOS: no metadata beyond here
			return m
		}
		var lb [2]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return m
		}
		n := int(binary.BigEndian.Uint16(lb[:])) - 2
		if n < 0 {
			return m
		}
		wanted := (marker == 0xe1 && n >= 6 && !exifSeen) || // EXIF
			(marker == 0xe2 && n >= 14) || // ICC
			(marker == 0xee && n >= 5) || // Adobe
			(marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc && n >= 6) // SOFn
		if !wanted {
			if _, err := br.Discard(n); err != nil {
				return m
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(br, seg); err != nil {
			return m
		}
		switch {
		case marker == 0xe1:
			if string(seg[:6]) == "Exif\x00\x00" {
				m.orientation, m.notices = tiffFields(seg[6:])
				exifSeen = true
			}
		case marker == 0xe2:
			if string(seg[:12]) == "ICC_PROFILE\x00" {
				icc.add(int(seg[12]), int(seg[13]), seg[14:])
			}
		case marker == 0xee:
			m.adobe = m.adobe || string(seg[:5]) == "Adobe"
		default:
			m.components = int(seg[5])
		}
	}
	return m
}

// iccChunks collects the APP2 pieces of a profile. A profile whose pieces
// disagree on the count, repeat or miss one is dropped.
type iccChunks struct {
	total  int
	parts  map[int][]byte
	size   int
	broken bool
}

func (c *iccChunks) add(seq, total int, data []byte) {
	if c.broken {
		return
	}
	if c.parts == nil {
		c.parts, c.total = map[int][]byte{}, total
	}
	_, dup := c.parts[seq]
	c.size += len(data)
	if total != c.total || seq < 1 || seq > total || dup || c.size > maxICCBytes {
		c.broken = true
		return
	}
	c.parts[seq] = data
}

func (c *iccChunks) assemble() []byte {
	if c.broken || c.parts == nil || len(c.parts) != c.total {
		return nil
	}
	out := make([]byte, 0, c.size)
	for i := 1; i <= c.total; i++ {
		out = append(out, c.parts[i]...)
	}
	return out
}

// pngMeta looks for eXIf and iCCP chunks before the first IDAT.
func pngMeta(r io.Reader) meta {
	m := noMeta()
	br := bufio.NewReaderSize(r, 4096)
	if _, err := br.Discard(8); err != nil { // signature
		return m
	}
	for range maxMetaSegments {
		var hdr [8]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return m
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		switch typ := string(hdr[4:]); typ {
		case "IDAT", "IEND":
			return m
		case "eXIf", "iCCP":
			limit := int64(maxExifBytes)
			if typ == "iCCP" {
				limit = maxICCBytes
			}
			if n > limit {
				break
			}
			data := make([]byte, n)
			if _, err := io.ReadFull(br, data); err != nil {
				return m
			}
			if typ == "eXIf" {
				m.orientation, m.notices = exifFields(data)
			} else {
				m.icc = inflateICCP(data)
			}
			n = 0 // consumed; only the CRC is left
		}
		if _, err := io.CopyN(io.Discard, br, n+4); err != nil { // data + CRC
			return m
		}
	}
	return m
}

// exifFields reads a raw EXIF block: TIFF, or TIFF behind the JPEG
// "Exif\0\0" prefix that some writers keep where the spec says raw TIFF.
func exifFields(data []byte) (int, Notices) {
	if len(data) >= 6 && string(data[:6]) == "Exif\x00\x00" {
		data = data[6:]
	}
	return tiffFields(data)
}

// inflateICCP decodes an iCCP chunk: a profile name, a NUL, the compression
// method (0, zlib) and the compressed profile.
func inflateICCP(data []byte) []byte {
	i := bytes.IndexByte(data, 0)
	if i < 1 || i > 79 || i+2 > len(data) || data[i+1] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(data[i+2:]))
	if err != nil {
		return nil
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxICCBytes+1))
	if err != nil || len(out) > maxICCBytes {
		return nil
	}
	return out
}

// webpMeta walks the RIFF chunks of an extended (VP8X) WebP for its ICCP and
// EXIF chunks. EXIF comes after the image data, so the walk skips over it.
func webpMeta(r io.Reader) meta {
	m := noMeta()
	br := bufio.NewReaderSize(r, 4096)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WEBP" {
		return m
	}
	for range maxMetaSegments {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return m
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		padded := n + n&1
		switch typ := string(ch[:4]); typ {
		case "ICCP", "EXIF":
			limit := int64(maxICCBytes)
			if typ == "EXIF" {
				limit = maxExifBytes
			}
			if n > limit {
				break
			}
			data := make([]byte, n)
			if _, err := io.ReadFull(br, data); err != nil {
				return m
			}
			if typ == "ICCP" {
				m.icc = data
			} else {
				m.orientation, m.notices = exifFields(data)
			}
			padded -= n
		}
		if _, err := io.CopyN(io.Discard, br, padded); err != nil {
			return m
		}
	}
	return m
}

// Notices are the rights notices of an image's EXIF IFD0, which a recipe
// can carry into its outputs (metadata copyright: keep).
type Notices struct {
	Artist    string // tag 0x013B
	Copyright string // tag 0x8298
}

// IsZero reports whether there is no notice at all.
func (n Notices) IsZero() bool { return n == Notices{} }

const (
	tagArtist       = 0x013b
	tagCopyright    = 0x8298
	maxNoticeBytes  = 1024 // a longer notice is dropped
	tiffTypeASCII   = 2
	tiffTypeShort   = 3
	tiffTypeLong    = 4
	tiffEntryLength = 12
)

// tiffOrientation reads the orientation of a TIFF structure: see tiffFields.
func tiffOrientation(b []byte) int {
	o, _ := tiffFields(b)
	return o
}

// tiffFields reads the orientation (tag 0x0112; 1 when absent or invalid)
// and the artist and copyright notices from IFD0 of a TIFF structure. Only
// IFD0 is visited and no offset is followed except the one to IFD0 and
// those of notice strings, so cyclic or out-of-range offsets cannot loop or
// overrun: every read is bounds-checked.
func tiffFields(b []byte) (orientation int, n Notices) {
	orientation = 1
	if len(b) < 8 {
		return orientation, n
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return orientation, n
	}
	off := uint64(bo.Uint32(b[4:8]))
	if off < 8 || off+2 > uint64(len(b)) {
		return orientation, n
	}
	count := uint64(bo.Uint16(b[off:]))
	for i := range count {
		e := off + 2 + tiffEntryLength*i
		if e+tiffEntryLength > uint64(len(b)) {
			return orientation, n
		}
		entry := b[e : e+tiffEntryLength]
		switch bo.Uint16(entry) {
		case tagOrientation:
			orientation = tiffOrientationValue(bo, entry)
		case tagArtist:
			n.Artist = tiffASCII(bo, b, entry)
		case tagCopyright:
			n.Copyright = tiffASCII(bo, b, entry)
		}
	}
	return orientation, n
}

// tiffOrientationValue reads an orientation entry: 1 unless it holds one
// value from 1 to 8.
func tiffOrientationValue(bo binary.ByteOrder, entry []byte) int {
	var v uint32
	switch bo.Uint16(entry[2:]) {
	case tiffTypeShort: // the type the spec prescribes
		v = uint32(bo.Uint16(entry[8:]))
	case tiffTypeLong: // written by a few tools
		v = bo.Uint32(entry[8:])
	default:
		return 1
	}
	if bo.Uint32(entry[4:]) == 0 || v < 1 || v > 8 {
		return 1
	}
	return int(v)
}

// tiffASCII reads an ASCII entry's text, up to its first NUL and without
// surrounding spaces; "" when it is not ASCII-typed, too long or out of
// bounds. Copyright may hold two NUL-separated notices (photographer and
// editor): they are joined with "; ".
func tiffASCII(bo binary.ByteOrder, b, entry []byte) string {
	if bo.Uint16(entry[2:]) != tiffTypeASCII {
		return ""
	}
	count := uint64(bo.Uint32(entry[4:]))
	if count == 0 || count > maxNoticeBytes {
		return ""
	}
	var raw []byte
	if count <= 4 {
		raw = entry[8 : 8+count]
	} else {
		at := uint64(bo.Uint32(entry[8:]))
		if at+count > uint64(len(b)) {
			return ""
		}
		raw = b[at : at+count]
	}
	var parts []string
	for _, p := range bytes.Split(raw, []byte{0}) {
		if t := strings.TrimSpace(strings.ToValidUTF8(string(p), "")); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "; ")
}

// exifWithNotices returns a little-endian TIFF structure whose IFD0 holds
// the notices and nothing else (no orientation: outputs are upright), or
// nil when there are none. It is the payload of a JPEG APP1 "Exif" segment
// (after that prefix), a PNG eXIf chunk and a WebP EXIF chunk.
func exifWithNotices(n Notices) []byte {
	type field struct {
		tag  uint16
		text string
	}
	var fields []field // in ascending tag order, as TIFF wants
	for _, f := range []field{{tagArtist, n.Artist}, {tagCopyright, n.Copyright}} {
		if f.text != "" && len(f.text) < maxNoticeBytes {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	le := binary.LittleEndian
	out := []byte("II*\x00")
	out = le.AppendUint32(out, 8) // IFD0 right after the header
	out = le.AppendUint16(out, uint16(len(fields)))
	data := uint32(8 + 2 + tiffEntryLength*len(fields) + 4) // strings follow the IFD
	var strs []byte
	for _, f := range fields {
		value := append([]byte(f.text), 0)
		out = le.AppendUint16(out, f.tag)
		out = le.AppendUint16(out, tiffTypeASCII)
		out = le.AppendUint32(out, uint32(len(value)))
		if len(value) <= 4 {
			var inline [4]byte
			copy(inline[:], value)
			out = append(out, inline[:]...)
			continue
		}
		out = le.AppendUint32(out, data+uint32(len(strs)))
		strs = append(strs, value...)
		if len(strs)%2 == 1 {
			strs = append(strs, 0) // values start on a word boundary
		}
	}
	out = le.AppendUint32(out, 0) // no next IFD
	return append(out, strs...)
}
