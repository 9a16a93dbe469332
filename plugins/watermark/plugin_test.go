package watermark

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// encodePNG returns m as PNG bytes.
func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// logo is a translucent orange 20x10 overlay.
func logo(t testing.TB) []byte {
	return encodePNG(t, newImage(20, 10, color.NRGBA{240, 120, 30, 200}))
}

// pngClaiming returns a valid 1x1 PNG whose header claims w x h pixels: what
// a decompression bomb looks like to DecodeConfig.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	data := encodePNG(t, newImage(1, 1, orange))
	// Signature (8 bytes), then IHDR: length (4), type (4), width, height.
	ihdr := data[8+4 : 8+4+4+13]
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	binary.BigEndian.PutUint32(data[8+4+4+13:], crc32.ChecksumIEEE(ihdr))
	return data
}

func TestConformance(t *testing.T) {
	assets := map[string][]byte{"image": logo(t)}
	size := image.Pt(64, 48) // sdktest's default input
	sdktest.Run(t, func() sdk.Transformer { return New() },
		sdktest.Case{Name: "overlay", Operation: "watermark", WantSize: size,
			Params: sdk.Params{"image": "s3://brand/logo.png"}, Assets: assets},
		sdktest.Case{Name: "text", Operation: "watermark", WantSize: size,
			Params: sdk.Params{"text": "© resizer", "text_color": "#ffcc00", "text_size": 0.1, "position": "top-left", "offset_x": 2, "offset_y": 3}},
		sdktest.Case{Name: "overlay-and-text", Operation: "watermark", WantSize: size,
			Params: sdk.Params{"image": "logo.png", "text": "two\nlines", "opacity": 1, "scale": 0.5, "position": "center"}, Assets: assets},
		sdktest.Case{Name: "tiled", Operation: "watermark", WantSize: size,
			Params: sdk.Params{"image": "logo.png", "tile": true, "opacity": 0.3}, Assets: assets},
		sdktest.Case{Name: "below-minimum", Operation: "watermark", WantSize: size,
			Params: sdk.Params{"text": "skipped", "min_width": 100, "min_height": 10}},
		sdktest.Case{Name: "paletted-overlay", Operation: "watermark", WantSize: size,
			Params: sdk.Params{"image": "dot.png"}, Assets: map[string][]byte{"image": encodePNG(t, paletted())}},
	)
}

// paletted is a 4x4 overlay with a transparent palette entry.
func paletted() *image.Paletted {
	m := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.NRGBA{}, color.NRGBA{255, 0, 0, 255}})
	for i := range m.Pix {
		m.Pix[i] = uint8(i % 2)
	}
	return m
}

// TestPluginMatchesApply checks that each parameter reaches the algorithm:
// the plugin's output is Apply's for the same options.
func TestPluginMatchesApply(t *testing.T) {
	dst := newImage(200, 100, navy)
	overlay := newImage(20, 10, color.NRGBA{240, 120, 30, 200})
	assets := map[string][]byte{"image": encodePNG(t, overlay)}
	defaults := func(o Options) Options {
		d := DefaultOptions()
		d.Overlay, d.Text = o.Overlay, o.Text
		return d
	}
	tests := []struct {
		name   string
		params sdk.Params
		want   Options
	}{
		{"overlay with defaults", sdk.Params{"image": "logo.png"}, defaults(Options{Overlay: overlay})},
		{"text with defaults", sdk.Params{"text": "hi"}, defaults(Options{Text: "hi"})},
		{"everything", sdk.Params{"image": "logo.png", "text": "hi", "text_color": "#102030", "text_size": 0.1,
			"position": "top", "offset_x": 5, "offset_y": 7, "tile": true, "opacity": 0.8, "scale": 0.3},
			Options{Overlay: overlay, Text: "hi", TextColor: color.NRGBA{0x10, 0x20, 0x30, 0xff}, TextSize: 0.1,
				Position: Top, OffsetX: 5, OffsetY: 7, Tile: true, Opacity: 0.8, Scale: 0.3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Transform(t.Context(), sdk.Request{Operation: "watermark", Params: tt.params, Image: dst, Assets: assets})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Apply(t.Context(), dst, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sdktest.Diff(want, got); diff != "" {
				t.Errorf("plugin output differs from Apply: %s", diff)
			}
			if _, n := changed(dst, got); n == 0 {
				t.Error("nothing was marked")
			}
		})
	}
}

func TestPluginLeavesImageUnmarked(t *testing.T) {
	dst := newImage(50, 50, navy)
	for name, params := range map[string]sdk.Params{
		"below min_width":  {"text": "x", "min_width": 51},
		"below min_height": {"text": "x", "min_height": 51},
		"zero opacity":     {"text": "x", "opacity": 0},
		"invisible text":   {"text": "x", "text_color": "transparent"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := New().Transform(t.Context(), sdk.Request{Operation: "watermark", Params: params, Image: dst})
			if err != nil {
				t.Fatal(err)
			}
			if diff := sdktest.Diff(dst, out); diff != "" {
				t.Errorf("image changed: %s", diff)
			}
			if &out.Pix[0] == &dst.Pix[0] {
				t.Error("returned the input itself, want a copy")
			}
		})
	}
}

func TestPluginRefuses(t *testing.T) {
	img := newImage(40, 30, navy)
	tests := []struct {
		name    string
		params  sdk.Params
		assets  map[string][]byte
		want    error
		field   string // for ErrInvalidParams
		mention string // in the message
	}{
		{"neither image nor text", sdk.Params{"opacity": 1}, nil, sdk.ErrInvalidParams, "image", "or text is required"},
		{"empty text", sdk.Params{"text": ""}, nil, sdk.ErrInvalidParams, "image", "or text is required"},
		{"unknown position", sdk.Params{"text": "x", "position": "middle"}, nil, sdk.ErrInvalidParams, "position", "bottom-right"},
		{"opacity above 1", sdk.Params{"text": "x", "opacity": 1.5}, nil, sdk.ErrInvalidParams, "opacity", "at most 1"},
		{"scale of 0", sdk.Params{"image": "a.png", "scale": 0}, nil, sdk.ErrInvalidParams, "scale", "at least"},
		{"text of newlines only", sdk.Params{"text": "\n\n"}, nil, sdk.ErrInvalidParams, "text", "renders nothing"},
		{"missing asset", sdk.Params{"image": "s3://brand/logo.png"}, nil, sdk.ErrUnsupportedInput, "", `no asset "image"`},
		{"asset under another name", sdk.Params{"image": "logo.png"}, map[string][]byte{"logo": logo(t)}, sdk.ErrUnsupportedInput, "", `no asset "image"`},
		{"not a PNG", sdk.Params{"image": "logo.jpg"}, map[string][]byte{"image": []byte("\xff\xd8\xff\xe0 not a png")}, sdk.ErrUnsupportedInput, "", "logo.jpg"},
		{"truncated PNG", sdk.Params{"image": "logo.png"}, map[string][]byte{"image": logo(t)[:60]}, sdk.ErrUnsupportedInput, "", "logo.png"},
		{"oversized overlay", sdk.Params{"image": "bomb.png"}, map[string][]byte{"image": pngClaiming(t, 50000, 50000)}, sdk.ErrUnsupportedInput, "", "50000x50000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().Transform(t.Context(), sdk.Request{Operation: "watermark", Params: tt.params, Image: img, Assets: tt.assets})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Transform = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Transform = %q, want a mention of %q", err, tt.mention)
			}
			if tt.want != sdk.ErrInvalidParams {
				return
			}
			var pe *sdk.ParamsError
			if !errors.As(err, &pe) || len(pe.Fields) == 0 || pe.Fields[0].Field != tt.field {
				t.Errorf("Transform = %v, want a *sdk.ParamsError about %s", err, tt.field)
			}
		})
	}
}

// TestMissingAssetOverGRPC checks that the host sees the kind and the
// message of a missing asset.
func TestMissingAssetOverGRPC(t *testing.T) {
	remote := sdktest.Connect(t, New(), t.TempDir())
	if err := remote.Validate(t.Context(), "watermark", sdk.Params{"image": "logo.png"}); err != nil {
		t.Fatalf("Validate = %v; an asset is the host's to load, not a parameter problem", err)
	}
	_, err := remote.Transform(t.Context(), sdk.Request{Operation: "watermark", Params: sdk.Params{"image": "logo.png"}, Image: newImage(8, 8, navy)})
	if !errors.Is(err, sdk.ErrUnsupportedInput) || !strings.Contains(err.Error(), `no asset "image"`) {
		t.Errorf("Transform = %v, want sdk.ErrUnsupportedInput naming the missing asset", err)
	}
}

func TestDecodeOverlay(t *testing.T) {
	got, err := decodeOverlay(encodePNG(t, paletted()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Rect != image.Rect(0, 0, 4, 4) || got.NRGBAAt(0, 0) != (color.NRGBA{}) || got.NRGBAAt(1, 0) != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("paletted overlay decoded as %v: %v %v", got.Rect, got.NRGBAAt(0, 0), got.NRGBAAt(1, 0))
	}
	// 16-bit with alpha: straight alpha survives the conversion.
	deep := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	deep.SetNRGBA64(0, 0, color.NRGBA64{R: 0xffff, G: 0x8080, A: 0x8080})
	got, err = decodeOverlay(encodePNG(t, deep))
	if err != nil {
		t.Fatal(err)
	}
	if c := got.NRGBAAt(0, 0); !near(c, color.NRGBA{255, 128, 0, 128}, 1) {
		t.Errorf("16-bit overlay decoded as %v", c)
	}
	if _, err := decodeOverlay(pngClaiming(t, 1<<12, 1<<12+1)); err == nil {
		t.Error("an overlay just over MaxOverlayPixels was accepted")
	}
}

func FuzzDecodeOverlay(f *testing.F) {
	f.Add(logo(f))
	f.Add(encodePNG(f, paletted()))
	f.Add(pngClaiming(f, 50000, 50000))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeOverlay(data)
		if err != nil {
			return
		}
		if px := m.Rect.Dx() * m.Rect.Dy(); px == 0 || px > MaxOverlayPixels {
			t.Errorf("decoded an overlay of %v", m.Rect)
		}
	})
}
