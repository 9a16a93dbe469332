package pipeline_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image/color"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/pipeline"
)

// jpegWithNotices returns a JPEG whose EXIF holds an artist and a
// copyright, written here byte by byte (little-endian TIFF in APP1).
func jpegWithNotices(t *testing.T, artist, copyright string) []byte {
	t.Helper()
	var img bytes.Buffer
	if err := imaging.Encode(&img, solidNRGBA(40, 30, color.NRGBA{90, 120, 200, 255}), imaging.JPEG, 90); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	tiff := le.AppendUint32([]byte("II*\x00"), 8)
	tiff = le.AppendUint16(tiff, 2)
	strs := 8 + 2 + 2*12 + 4
	var data []byte
	for _, f := range []struct {
		tag  uint16
		text string
	}{{0x013b, artist}, {0x8298, copyright}} {
		tiff = le.AppendUint16(tiff, f.tag)
		tiff = le.AppendUint16(tiff, 2)
		tiff = le.AppendUint32(tiff, uint32(len(f.text)+1))
		tiff = le.AppendUint32(tiff, uint32(strs+len(data)))
		data = append(append(data, f.text...), 0)
	}
	tiff = append(le.AppendUint32(tiff, 0), data...)
	app1 := binary.BigEndian.AppendUint16([]byte{0xff, 0xe1}, uint16(2+6+len(tiff)))
	app1 = append(append(app1, "Exif\x00\x00"...), tiff...)
	b := img.Bytes()
	return append(append(append([]byte{}, b[:2]...), app1...), b[2:]...)
}

// metadata copyright: keep carries the source's artist and copyright into
// the output; the default strips them.
func TestCopyrightKeep(t *testing.T) {
	const recipe = `name: t
match: ["**"]
outputs:
  - name: kept
    width: 20
    format: jpeg
    metadata: {copyright: keep}
  - name: stripped
    width: 20
    format: jpeg
  - name: kept-png
    width: 20
    format: png
    metadata: {copyright: keep}
`
	src := jpegWithNotices(t, "Ana Lima", "(c) 2026 Example Shop")
	outs := newColourHarness(t, recipe, pipeline.Options{}).processAll(t, "shop/photo.jpg", src)
	want := imaging.Notices{Artist: "Ana Lima", Copyright: "(c) 2026 Example Shop"}
	for i, o := range []struct {
		name string
		want imaging.Notices
	}{{"kept", want}, {"stripped", imaging.Notices{}}, {"kept-png", want}} {
		d, err := imaging.DecodeWith(bytes.NewReader(outs[i]), imaging.DecodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		if d.Notices != o.want {
			t.Errorf("%s: notices %+v, want %+v", o.name, d.Notices, o.want)
		}
	}
}

// A recipe can ask for AVIF; the output is an AVIF file.
func TestAVIFOutput(t *testing.T) {
	const recipe = `name: t
match: ["**"]
outputs:
  - name: small
    width: 24
    format: avif
    quality: {avif: 60}
`
	src := pngBytes(t, solidNRGBA(48, 32, color.NRGBA{200, 80, 40, 255}))
	out := newColourHarness(t, recipe, pipeline.Options{}).process(t, "a/b.png", src)
	if len(out) < 12 || string(out[4:12]) != "ftypavif" {
		t.Fatalf("output is not AVIF: % x", out[:min(len(out), 16)])
	}
}

// A source key whose escaped form would not fit S3's 2 KB of metadata is
// linked by its digest; a short one by the key itself.
func TestLongKeyMetadata(t *testing.T) {
	const recipe = `name: t
match: ["**"]
outputs:
  - name: small
    width: 8
    format: png
`
	h := newColourHarness(t, recipe, pipeline.Options{})
	src := pngBytes(t, solidNRGBA(16, 16, color.NRGBA{1, 2, 3, 255}))
	long := "a/" + strings.Repeat("é", 400) + ".png" // 804 bytes, 2400 escaped
	for _, key := range []string{"a/short é.png", long} {
		h.process(t, key, src)
		list, err := h.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(imgBucket), Prefix: aws.String("processed/" + key + "/")})
		if err != nil || len(list.Contents) != 1 {
			t.Fatalf("%.20s...: outputs %v, %v", key, list, err)
		}
		head, err := h.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(imgBucket), Key: list.Contents[0].Key})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(key))
		got, want := head.Metadata, map[string]string{"source-key": url.QueryEscape(key)}
		if key == long {
			want = map[string]string{"source-key-sha256": hex.EncodeToString(sum[:])}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%.20s...: metadata %s = %q, want %q (all: %v)", key, k, got[k], v, got)
			}
		}
		if _, both := got["source-key"]; both && key == long {
			t.Errorf("long key written as metadata too")
		}
	}
}
