package imaging

import (
	"bufio"
	"encoding/binary"
	"io"
)

// Metadata walking is best effort: anything malformed means "no orientation"
// (1), never an error, because the pixels may still be perfectly decodable.
const (
	maxMetaSegments = 1024     // JPEG segments / PNG chunks looked at before giving up
	maxExifBytes    = 64 << 10 // an APP1 segment cannot be larger; eXIf is read up to this
	tagOrientation  = 0x0112
)

// jpegOrientation walks the JPEG marker segments up to the first SOS and
// returns the orientation from the first APP1 "Exif\0\0" segment.
func jpegOrientation(r io.Reader) int {
	br := bufio.NewReaderSize(r, 4096)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi != [2]byte{0xff, 0xd8} {
		return 1
	}
	for range maxMetaSegments {
		if b, err := br.ReadByte(); err != nil || b != 0xff {
			return 1
		}
		m := byte(0xff)
		for m == 0xff { // fill bytes
			var err error
			if m, err = br.ReadByte(); err != nil {
				return 1
			}
		}
		switch {
		case m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7):
			continue // markers without a length
		case m == 0xd9 || m == 0xda: // EOI, SOS: no metadata beyond here
			return 1
		}
		var lb [2]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return 1
		}
		n := int(binary.BigEndian.Uint16(lb[:])) - 2
		if n < 0 {
			return 1
		}
		if m == 0xe1 && n >= 6 {
			seg := make([]byte, n)
			if _, err := io.ReadFull(br, seg); err != nil {
				return 1
			}
			if string(seg[:6]) == "Exif\x00\x00" {
				return tiffOrientation(seg[6:])
			}
			continue // XMP or another APP1 user
		}
		if _, err := br.Discard(n); err != nil {
			return 1
		}
	}
	return 1
}

// pngOrientation looks for an eXIf chunk before the first IDAT.
func pngOrientation(r io.Reader) int {
	br := bufio.NewReaderSize(r, 4096)
	if _, err := br.Discard(8); err != nil { // signature
		return 1
	}
	for range maxMetaSegments {
		var hdr [8]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return 1
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		switch string(hdr[4:]) {
		case "IDAT", "IEND":
			return 1
		case "eXIf":
			data := make([]byte, min(n, maxExifBytes))
			if _, err := io.ReadFull(br, data); err != nil {
				return 1
			}
			// The spec says raw TIFF, but some writers keep the JPEG prefix.
			if len(data) >= 6 && string(data[:6]) == "Exif\x00\x00" {
				data = data[6:]
			}
			return tiffOrientation(data)
		}
		if _, err := io.CopyN(io.Discard, br, n+4); err != nil { // data + CRC
			return 1
		}
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure. Only IFD0
// is visited and no offset is followed except the one to IFD0, so cyclic or
// out-of-range offsets cannot loop or overrun: every read is bounds-checked.
func tiffOrientation(b []byte) int {
	if len(b) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := uint64(bo.Uint32(b[4:8]))
	if off < 8 || off+2 > uint64(len(b)) {
		return 1
	}
	count := uint64(bo.Uint16(b[off:]))
	for i := range count {
		e := off + 2 + 12*i
		if e+12 > uint64(len(b)) {
			return 1
		}
		if bo.Uint16(b[e:]) != tagOrientation {
			continue
		}
		var v uint32
		switch typ := bo.Uint16(b[e+2:]); typ {
		case 3: // SHORT, the type the spec prescribes
			v = uint32(bo.Uint16(b[e+8:]))
		case 4: // LONG, written by a few tools
			v = bo.Uint32(b[e+8:])
		default:
			return 1
		}
		if bo.Uint32(b[e+4:]) == 0 || v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
