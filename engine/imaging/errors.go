package imaging

import "fmt"

// Kind classifies why an image was refused. Every Kind is a permanent
// failure: retrying the same bytes gives the same answer.
type Kind int

const (
	// Unsupported: not an image, an unknown format, or a variant the
	// decoders cannot handle (arithmetic-coded JPEG, TIFF, HEIC, ...).
	Unsupported Kind = iota + 1
	// Corrupt: the format was recognised but the data is truncated or invalid.
	Corrupt
	// TooLarge: over the pixel or frame cap, or non-positive dimensions.
	TooLarge
)

func (k Kind) String() string {
	switch k {
	case Unsupported:
		return "unsupported image"
	case Corrupt:
		return "corrupt image"
	case TooLarge:
		return "image too large"
	default:
		return fmt.Sprintf("imaging.Kind(%d)", int(k))
	}
}

// Error is returned for anything wrong with the image bytes themselves.
// Errors from the underlying reader (I/O failures) are returned unwrapped,
// so a caller can tell "this file is bad" from "reading it failed".
type Error struct {
	Kind   Kind
	Reason string
	Err    error // the decoder's own error, if any
}

func (e *Error) Error() string {
	s := e.Kind.String() + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(k Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Reason: fmt.Sprintf(format, args...), Err: cause}
}
