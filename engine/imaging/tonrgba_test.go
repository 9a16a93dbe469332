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

// ToNRGBAInto writes what ToNRGBA returns, for every layout decoders give.
func TestToNRGBAIntoMatchesToNRGBA(t *testing.T) {
	photo := photoLike(61, 47)
	translucent := image.NewRGBA(image.Rect(0, 0, 61, 47))
	for i := range translucent.Pix {
		translucent.Pix[i] = uint8(i * 13)
		if i%4 == 3 {
			translucent.Pix[i] = 200
			translucent.Pix[i-1], translucent.Pix[i-2], translucent.Pix[i-3] = min(translucent.Pix[i-1], 200), min(translucent.Pix[i-2], 200), min(translucent.Pix[i-3], 200)
		}
	}
	gray := image.NewGray(image.Rect(3, 4, 64, 51))
	gray16 := image.NewGray16(image.Rect(0, 0, 61, 47))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}
	for i := range gray16.Pix {
		gray16.Pix[i] = uint8(i * 7)
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 61, 47), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i)
	}
	for _, src := range []image.Image{photo, ToNRGBA(photo), translucent, gray, gray16, ycc} {
		want := ToNRGBA(src)
		got := image.NewNRGBA(image.Rectangle{Max: src.Bounds().Size()})
		ToNRGBAInto(got, src)
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%T: ToNRGBAInto differs from ToNRGBA", src)
		}
	}
}
