package awslocal

import (
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// gofakes3 keeps only x-amz-* headers, Content-Type, Content-Disposition and
// Content-Encoding of a PUT. Real S3 also stores and serves Cache-Control,
// Content-Language and Expires, which the daemon sets on its outputs, so the
// emulator carries them through under an internal x-amz-* name and gives
// them back under their own on GET and HEAD.
var storedHeaders = []string{"Cache-Control", "Content-Language", "Expires"}

const storedHeaderPrefix = "X-Amz-Resizer-Stored-"

// keepStandardHeaders renames the standard headers of an object upload so
// that gofakes3 stores them. Client-sent headers with the internal prefix are
// dropped: only the emulator may write them.
func keepStandardHeaders(r *http.Request) {
	for name := range r.Header {
		if strings.HasPrefix(name, storedHeaderPrefix) {
			r.Header.Del(name)
		}
	}
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return
	}
	for _, h := range storedHeaders {
		if v := r.Header.Get(h); v != "" {
			r.Header.Set(storedHeaderPrefix+h, v)
		}
	}
}

// restoreStandardHeaders turns stored metadata back into the headers S3
// would answer with.
func restoreStandardHeaders(obj *gofakes3.Object) {
	if obj == nil {
		return
	}
	// The memory backend hands out its own map: answer with a copy.
	meta := make(map[string]string, len(obj.Metadata))
	for k, v := range obj.Metadata {
		meta[k] = v
	}
	for _, h := range storedHeaders {
		if v, ok := meta[storedHeaderPrefix+h]; ok {
			delete(meta, storedHeaderPrefix+h)
			meta[h] = v
		}
	}
	obj.Metadata = meta
}

func (b *eventBackend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	obj, err := b.Backend.HeadObject(bucket, key)
	restoreStandardHeaders(obj)
	return obj, err
}

func (b *eventBackend) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	obj, err := b.Backend.GetObject(bucket, key, rangeRequest)
	restoreStandardHeaders(obj)
	return obj, err
}
