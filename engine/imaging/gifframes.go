package imaging

import (
	"bufio"
	"io"
)

// countGIFFrames walks the GIF block structure and counts image descriptors,
// skipping every data sub-block with Discard. Nothing is decompressed and
// memory stays at one bufio buffer regardless of frame count or size, unlike
// gif.DecodeAll, which would materialise every frame.
//
// It stops with TooLarge as soon as the count exceeds maxFrames. A file cut
// off after the first complete frame is tolerated (only that frame is
// decoded, and browsers show such files); a cut before it is Corrupt.
func countGIFFrames(r io.Reader, maxFrames int) (int, error) {
	br := bufio.NewReaderSize(r, 4096)
	var hdr [13]byte // signature + logical screen descriptor
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, errorf(Corrupt, err, "truncated gif header")
	}
	if hdr[10]&0x80 != 0 {
		if _, err := br.Discard(colorTableSize(hdr[10])); err != nil {
			return 0, errorf(Corrupt, err, "truncated gif global colour table")
		}
	}
	frames := 0
	cut := func(what string, err error) (int, error) {
		if frames > 0 {
			return frames, nil
		}
		return 0, errorf(Corrupt, err, "gif truncated in %s before the first complete frame", what)
	}
	for {
		b, err := br.ReadByte()
		if err != nil {
			return cut("block introducer", err)
		}
		switch b {
		case 0x3b: // trailer
			if frames == 0 {
				return 0, errorf(Corrupt, nil, "gif has no frames")
			}
			return frames, nil
		case 0x21: // extension: label, then sub-blocks
			if _, err := br.ReadByte(); err != nil {
				return cut("extension", err)
			}
			if err := skipSubBlocks(br); err != nil {
				return cut("extension", err)
			}
		case 0x2c: // image descriptor
			if frames == maxFrames {
				return 0, errorf(TooLarge, nil, "gif has more than %d frames", maxFrames)
			}
			var desc [9]byte
			if _, err := io.ReadFull(br, desc[:]); err != nil {
				return cut("image descriptor", err)
			}
			if desc[8]&0x80 != 0 {
				if _, err := br.Discard(colorTableSize(desc[8])); err != nil {
					return cut("local colour table", err)
				}
			}
			if _, err := br.ReadByte(); err != nil { // LZW minimum code size
				return cut("image data", err)
			}
			if err := skipSubBlocks(br); err != nil {
				return cut("image data", err)
			}
			frames++
		default:
			if frames > 0 {
				return frames, nil // trailing garbage after real frames: ignore, as decoders do
			}
			return 0, errorf(Corrupt, nil, "unknown gif block type 0x%02x", b)
		}
	}
}

func colorTableSize(flags byte) int { return 3 << (flags&7 + 1) }

func skipSubBlocks(br *bufio.Reader) error {
	for {
		n, err := br.ReadByte()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if _, err := br.Discard(int(n)); err != nil {
			return err
		}
	}
}
