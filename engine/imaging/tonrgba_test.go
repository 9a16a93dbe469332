package imaging

import (
	"bytes"
	"image"
	"image/draw"
	"testing"
)

// ToNRGBA converts YCbCr in parallel bands: every band must match one
// whole-image conversion, also for a sub-image whose origin is not (0,0)
// and for heights that are not a multiple of the band.
func TestToNRGBAInBandsMatchesOneDraw(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, photoLike(517, 389), JPEG, 90); err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ycc, ok := img.(*image.YCbCr)
	if !ok {
		t.Fatalf("decoded %T, want *image.YCbCr", img)
	}
	for _, src := range []image.Image{ycc, ycc.SubImage(image.Rect(13, 7, 500, 388))} {
		b := src.Bounds()
		want := image.NewRGBA(image.Rectangle{Max: b.Size()})
		draw.Draw(want, want.Rect, src, b.Min, draw.Src)
		got := ToNRGBA(src)
		if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("ToNRGBA of %v differs from one draw.Draw", b)
		}
	}
}
