package watermark

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// MaxTextHeight bounds RenderText's line height.
const MaxTextHeight = 4096

// maxTextPixels bounds a rendered text image, whatever its shape.
const maxTextPixels = 1 << 26

// goRegular is parsed once; an *opentype.Font is safe for concurrent use
// (each Face has its own buffer).
var goRegular = sync.OnceValues(func() (*opentype.Font, error) {
	return opentype.Parse(goregular.TTF)
})

// RenderText draws text in Go Regular on a transparent image. Each line
// ("\n" separates lines) is heightPx tall, from the font's ascent to its
// descent, so the image is lines×heightPx tall and as wide as the longest
// line. Lines are left-aligned. Pixels are c where the glyphs cover them
// fully and c with proportionally less alpha on their anti-aliased edges.
func RenderText(text string, c color.NRGBA, heightPx int) (*image.NRGBA, error) {
	if text == "" {
		return nil, fmt.Errorf("%w: empty text", ErrInvalidOptions)
	}
	if heightPx <= 0 || heightPx > MaxTextHeight {
		return nil, fmt.Errorf("%w: text height %d outside 1..%d", ErrInvalidOptions, heightPx, MaxTextHeight)
	}
	face, baseline, err := newFace(heightPx)
	if err != nil {
		return nil, err
	}
	defer face.Close()

	lines := strings.Split(text, "\n")
	left, right := extent(face, lines)
	w, h := right-left, len(lines)*heightPx
	if w <= 0 {
		return nil, fmt.Errorf("%w: text %q renders nothing", ErrInvalidOptions, text)
	}
	if w*h > maxTextPixels {
		return nil, fmt.Errorf("%w: text would render %dx%d pixels", ErrInvalidOptions, w, h)
	}

	coverage := image.NewAlpha(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: coverage, Src: image.Opaque, Face: face}
	for i, l := range lines {
		d.Dot = fixed.Point26_6{X: fixed.I(-left), Y: fixed.I(i*heightPx) + baseline}
		d.DrawString(l)
	}

	out := image.NewNRGBA(coverage.Rect)
	for i, a := range coverage.Pix {
		if a == 0 {
			continue
		}
		out.Pix[4*i+0] = c.R
		out.Pix[4*i+1] = c.G
		out.Pix[4*i+2] = c.B
		out.Pix[4*i+3] = uint8((uint32(a)*uint32(c.A) + 0x7f) / 0xff)
	}
	return out, nil
}

// newFace returns a Go Regular face whose ascent plus descent is heightPx,
// and the baseline's distance from the top of a line.
func newFace(heightPx int) (font.Face, fixed.Int26_6, error) {
	f, err := goRegular()
	if err != nil {
		return nil, 0, fmt.Errorf("watermark: parse Go Regular: %w", err)
	}
	// Ascent and descent scale with the size; measure at one size, then
	// pick the size that gives the wanted height.
	m, err := f.Metrics(nil, fixed.I(1000), font.HintingNone)
	if err != nil {
		return nil, 0, fmt.Errorf("watermark: font metrics: %w", err)
	}
	asc, desc := float64(m.Ascent), float64(m.Descent)
	size := 1000 * float64(heightPx) / ((asc + desc) / 64)
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, 0, fmt.Errorf("watermark: font face: %w", err)
	}
	baseline := fixed.Int26_6(math.Round(float64(heightPx) * 64 * asc / (asc + desc)))
	return face, baseline, nil
}

// textWidth is the width RenderText would give text at heightPx, without
// drawing it.
func textWidth(text string, heightPx int) (int, error) {
	face, _, err := newFace(heightPx)
	if err != nil {
		return 0, err
	}
	defer face.Close()
	left, right := extent(face, strings.Split(text, "\n"))
	return right - left, nil
}

// extent returns the horizontal pixel span of lines drawn from x = 0: the
// union of the glyphs' ink and the pen's advance.
func extent(face font.Face, lines []string) (left, right int) {
	for _, l := range lines {
		bounds, advance := font.BoundString(face, l)
		left = min(left, bounds.Min.X.Floor())
		right = max(right, bounds.Max.X.Ceil(), advance.Ceil())
	}
	return left, right
}
