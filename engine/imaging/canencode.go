package imaging

import (
	"image"
	"io"
	"sync"
)

var (
	canEncodeMu sync.Mutex
	canEncode   = map[string]bool{}
)

// CanEncode reports whether Encode can write format. It asks Encode itself,
// with a 1x1 image, so that the answer follows the encoders this build has:
// recipes use it to refuse, at check time, a format no encoder writes.
func CanEncode(format string) bool {
	canEncodeMu.Lock()
	defer canEncodeMu.Unlock()
	ok, known := canEncode[format]
	if !known {
		ok = Encode(io.Discard, image.NewNRGBA(image.Rect(0, 0, 1, 1)), format, 0) == nil
		canEncode[format] = ok
	}
	return ok
}
