package message

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds arbitrary bodies to Decode. The seed corpus lives in
// testdata/fuzz/FuzzDecode: the captured AWS bodies, their SNS wrappings, our
// own shapes and a few broken ones.
func FuzzDecode(f *testing.F) {
	known := map[Shape]bool{
		ShapeS3: true, ShapeS3Test: true, ShapeSNSS3: true, ShapeSNSS3Test: true,
		ShapeEventBridge: true, ShapeSNSEventBridge: true, ShapeJSON: true, ShapeKey: true,
	}
	f.Fuzz(func(t *testing.T, body, defaultBucket string) {
		got, err := Decode(body, defaultBucket)
		again, errAgain := Decode(body, defaultBucket)
		if !reflect.DeepEqual(got, again) || (err == nil) != (errAgain == nil) {
			t.Fatalf("Decode is not deterministic")
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v (%T) is not a *DecodeError matching ErrMalformed", err, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error spans several lines: %q", err.Error())
			}
			if got.Shape != "" || len(got.Events) != 0 {
				t.Fatalf("Decode returned %+v alongside an error", got)
			}
			return
		}
		if !known[got.Shape] {
			t.Fatalf("unknown shape %q", got.Shape)
		}
		if len(got.Events) == 0 {
			t.Fatalf("shape %q with no events", got.Shape)
		}
		for i, ev := range got.Events {
			if ev.Size < -1 {
				t.Errorf("event %d: size %d", i, ev.Size)
			}
			if ev.Kind == KindTest {
				continue
			}
			if ev.Bucket == "" || ev.Key == "" {
				t.Errorf("event %d (%v): bucket %q, key %q", i, ev.Kind, ev.Bucket, ev.Key)
			}
			if !utf8.ValidString(ev.Key) || len(ev.Key) > MaxKeyBytes {
				t.Errorf("event %d: key %q is invalid UTF-8 or longer than %d bytes", i, ev.Key, MaxKeyBytes)
			}
		}
	})
}
