package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// sniffLen is how many leading bytes are read for sniffing: enough for every
// signature and for a WebP VP8X canvas size.
const sniffLen = 30

var signatures = []struct {
	format string
	magic  string
}{
	{JPEG, "\xff\xd8\xff"},
	{PNG, "\x89PNG\r\n\x1a\n"},
	{GIF, "GIF87a"},
	{GIF, "GIF89a"},
}

// Formats we recognise only to give a clearer refusal.
var foreignSignatures = []struct {
	name   string
	offset int
	magic  string
}{
	{"bmp", 0, "BM"},
	{"tiff", 0, "II*\x00"},
	{"tiff", 0, "MM\x00*"},
	{"psd", 0, "8BPS"},
	{"ico", 0, "\x00\x00\x01\x00"},
	{"pdf", 0, "%PDF"},
	{"jpeg 2000", 0, "\x00\x00\x00\x0cjP  "},
	{"jpeg xl", 0, "\xff\x0a"},
	{"heic/avif (ISO-BMFF)", 4, "ftyp"},
}

// sniff identifies the format from the first bytes of head, which holds
// everything read so far (shorter than sniffLen only at end of input).
func sniff(head []byte) (string, error) {
	if len(head) == 0 {
		return "", errorf(Unsupported, nil, "empty input")
	}
	for _, s := range signatures {
		if bytes.HasPrefix(head, []byte(s.magic)) {
			return s.format, nil
		}
	}
	if len(head) >= 12 && string(head[:4]) == "RIFF" {
		if string(head[8:12]) == "WEBP" {
			return WebP, nil
		}
		return "", errorf(Unsupported, nil, "RIFF container of type %q, not WebP", head[8:12])
	}
	// A file cut off inside its own signature is a truncated image, not an
	// unknown one. One byte is too little evidence to say so.
	if len(head) >= 2 && len(head) < sniffLen {
		for _, s := range signatures {
			if len(head) < len(s.magic) && bytes.HasPrefix([]byte(s.magic), head) {
				return "", errorf(Corrupt, nil, "truncated %s signature (%d bytes)", s.format, len(head))
			}
		}
		if bytes.HasPrefix(head, []byte("RIFF")) {
			return "", errorf(Corrupt, nil, "truncated RIFF header (%d bytes)", len(head))
		}
	}
	for _, s := range foreignSignatures {
		if bytes.HasPrefix(head[min(s.offset, len(head)):], []byte(s.magic)) {
			return "", errorf(Unsupported, nil, "%s is not a supported format", s.name)
		}
	}
	if looksLikeText(head) {
		return "", errorf(Unsupported, nil, "not an image: looks like text (%q)", head)
	}
	return "", errorf(Unsupported, nil, "not an image: unrecognised signature % x", head)
}

func looksLikeText(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			continue // possibly UTF-8
		}
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// ioTracker remembers the first real I/O error from the underlying reader, so
// a failing disk or connection is not misreported as a corrupt image.
type ioTracker struct {
	r    io.Reader
	err  error
	size int64 // bytes from the start of the image to the end of the input
}

func (t *ioTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// source is the seekable input rewound to where the caller left it.
type source struct {
	rs    io.ReadSeeker
	start int64
}

func newSource(rs io.ReadSeeker) (*source, error) {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("imaging: seek: %w", err)
	}
	return &source{rs: rs, start: start}, nil
}

// rewind returns a fresh tracked reader positioned at the start of the image.
func (s *source) rewind() (*ioTracker, error) {
	end, err := s.rs.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("imaging: seek: %w", err)
	}
	if _, err := s.rs.Seek(s.start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("imaging: seek: %w", err)
	}
	return &ioTracker{r: s.rs, size: end - s.start}, nil
}

// classify turns a decoder error into an *Error, or passes an I/O error from
// the reader through unchanged.
func classify(t *ioTracker, format, stage string, err error) error {
	if t != nil && t.err != nil {
		return fmt.Errorf("imaging: reading %s: %w", format, t.err)
	}
	var ie *Error
	if errors.As(err, &ie) {
		return err
	}
	var ju jpeg.UnsupportedError
	var pu png.UnsupportedError
	if errors.As(err, &ju) || errors.As(err, &pu) {
		return errorf(Unsupported, err, "%s %s", format, stage)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(Corrupt, err, "truncated %s (%s)", format, stage)
	}
	return errorf(Corrupt, err, "invalid %s (%s)", format, stage)
}

// guard runs a decoder and turns a panic into a Corrupt error. Decoders of
// untrusted input have had index-out-of-range bugs; one bad upload must not
// take down the daemon.
func guard[T any](format, stage string, fn func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, errorf(Corrupt, nil, "%s decoder panicked during %s: %v", format, stage, p)
		}
	}()
	return fn()
}

func decodeConfig(format string, r io.Reader) (image.Config, error) {
	switch format {
	case JPEG:
		return jpeg.DecodeConfig(r)
	case PNG:
		return png.DecodeConfig(r)
	case GIF:
		return gif.DecodeConfig(r)
	case WebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, errorf(Unsupported, nil, "no decoder for %q", format)
}

// vp8xCanvas reads the canvas size of a WebP whose first chunk is VP8X.
func vp8xCanvas(head []byte) (w, h int, ok bool) {
	if len(head) < 30 || string(head[12:16]) != "VP8X" {
		return 0, 0, false
	}
	w = 1 + (int(head[24]) | int(head[25])<<8 | int(head[26])<<16)
	h = 1 + (int(head[27]) | int(head[28])<<8 | int(head[29])<<16)
	return w, h, true
}

func checkPixels(w, h int, lim Limits) error {
	if w <= 0 || h <= 0 {
		return errorf(TooLarge, nil, "non-positive dimensions %dx%d", w, h)
	}
	if n := int64(w) * int64(h); n > lim.MaxPixels {
		return errorf(TooLarge, nil, "%dx%d = %.1f MP exceeds the %.1f MP limit",
			w, h, float64(n)/1e6, float64(lim.MaxPixels)/1e6)
	}
	return nil
}

// Probe identifies the image and checks it against lim without decoding
// pixels. It reads the header and the metadata segments (to find the EXIF
// orientation: JPEG APP1, PNG eXIf, WebP EXIF). For GIF it also walks
// the block structure to count frames, skipping the compressed data. The
// reader is left at an unspecified position.
func Probe(r io.ReadSeeker, lim Limits) (Info, error) {
	src, err := newSource(r)
	if err != nil {
		return Info{}, err
	}
	info, _, err := probeMeta(src, lim.withDefaults())
	return info, err
}

// probeMeta is Probe, also returning the metadata found on the way.
func probeMeta(src *source, lim Limits) (Info, meta, error) {
	md := noMeta()
	t, err := src.rewind()
	if err != nil {
		return Info{}, md, err
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(t, head)
	if t.err != nil {
		return Info{}, md, fmt.Errorf("imaging: reading header: %w", t.err)
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Info{}, md, fmt.Errorf("imaging: reading header: %w", err)
	}
	format, err := sniff(head[:n])
	if err != nil {
		return Info{}, md, err
	}

	// x/image/webp calls a canvas over 2^31 pixels invalid; say what it is.
	if w, h, ok := vp8xCanvas(head[:n]); ok {
		if err := checkPixels(w, h, lim); err != nil {
			return Info{}, md, err
		}
	}

	if t, err = src.rewind(); err != nil {
		return Info{}, md, err
	}
	cfg, err := guard(format, "header", func() (image.Config, error) { return decodeConfig(format, t) })
	if err != nil {
		return Info{}, md, classify(t, format, "header", err)
	}
	if err := checkPixels(cfg.Width, cfg.Height, lim); err != nil {
		return Info{}, md, err
	}
	info := Info{Format: format, Width: cfg.Width, Height: cfg.Height, Orientation: 1, Frames: 1}

	switch format {
	case JPEG, PNG, WebP:
		if t, err = src.rewind(); err != nil {
			return Info{}, md, err
		}
		switch format {
		case JPEG:
			md = jpegMeta(t)
		case PNG:
			md = pngMeta(t)
		default:
			md = webpMeta(t)
		}
		info.Orientation = md.orientation
		if t.err != nil {
			return Info{}, md, fmt.Errorf("imaging: reading %s metadata: %w", format, t.err)
		}
		if info.Orientation >= 5 {
			info.Width, info.Height = info.Height, info.Width
		}
	case GIF:
		if t, err = src.rewind(); err != nil {
			return Info{}, md, err
		}
		frames, err := countGIFFrames(t, lim.MaxFrames)
		if err != nil {
			return Info{}, md, classify(t, format, "frame scan", err)
		}
		info.Frames = frames
	}
	return info, md, nil
}
