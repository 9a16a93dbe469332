package imaging

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Artist and copyright survive a round trip through every format that
// carries EXIF, and nothing else is written (no orientation).
func TestNoticesRoundTrip(t *testing.T) {
	want := Notices{Artist: "Ana Ñúñez", Copyright: "© 2026 Example Shop. All rights reserved."}
	src := photoLike(64, 48)
	var in bytes.Buffer
	if err := Encode(&in, src, JPEG, 90); err != nil {
		t.Fatal(err)
	}
	tagged := jpegWithEXIF(in.Bytes(), exifWithNotices(want))
	d, err := DecodeWith(bytes.NewReader(tagged), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Notices != want {
		t.Fatalf("decoded notices %+v, want %+v", d.Notices, want)
	}
	for _, format := range []string{JPEG, PNG, WebP} {
		var out bytes.Buffer
		if err := EncodeWith(&out, d.Image, format, EncodeOptions{Quality: 80, Notices: d.Notices}); err != nil {
			t.Fatal(err)
		}
		again, err := DecodeWith(bytes.NewReader(out.Bytes()), DecodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if again.Notices != want || again.Info.Orientation != 1 {
			t.Errorf("%s: notices %+v, orientation %d; want %+v, 1", format, again.Notices, again.Info.Orientation, want)
		}
		var plain bytes.Buffer
		if err := EncodeWith(&plain, d.Image, format, EncodeOptions{Quality: 80}); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(plain.Bytes(), []byte("Example Shop")) {
			t.Errorf("%s: notices written without being asked for", format)
		}
	}
}

func TestTiffNotices(t *testing.T) {
	// Big-endian, a short artist stored inline, a copyright with two
	// NUL-separated parts at an offset, an orientation.
	be := binary.BigEndian
	b := []byte("MM\x00*")
	b = be.AppendUint32(b, 8)
	b = be.AppendUint16(b, 3)
	entry := func(tag, typ uint16, count, value uint32) {
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, typ)
		b = be.AppendUint32(b, count)
		b = be.AppendUint32(b, value)
	}
	entry(tagOrientation, tiffTypeShort, 1, 6<<16)
	entry(tagArtist, tiffTypeASCII, 3, uint32('J')<<24|uint32('o')<<16)
	text := "Photo Jo\x00Ed. Kim\x00"
	entry(tagCopyright, tiffTypeASCII, uint32(len(text)), uint32(len(b)+12+4)) // after this entry and the next-IFD field
	b = be.AppendUint32(b, 0)
	b = append(b, text...)
	o, n := tiffFields(b)
	if o != 6 || n.Artist != "Jo" || n.Copyright != "Photo Jo; Ed. Kim" {
		t.Fatalf("tiffFields = %d, %+v", o, n)
	}
	// An offset past the end, or a count over the limit, drops the notice
	// and nothing else.
	binary.BigEndian.PutUint32(b[8+2+2*12+8:], 1<<30)
	if o, n := tiffFields(b); o != 6 || n.Copyright != "" || n.Artist != "Jo" {
		t.Fatalf("out-of-range offset: %d, %+v", o, n)
	}
	if exifWithNotices(Notices{}) != nil {
		t.Fatal("no notices should write no EXIF")
	}
}
