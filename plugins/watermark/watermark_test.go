package watermark

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"
)

func newImage(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

var (
	navy   = color.NRGBA{10, 20, 120, 255}
	orange = color.NRGBA{240, 120, 30, 255}
)

// changed returns the bounding box of the pixels that differ between a and
// b, and how many there are.
func changed(a, b *image.NRGBA) (image.Rectangle, int) {
	var r image.Rectangle
	n := 0
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
			if a.NRGBAAt(x, y) != b.NRGBAAt(x, y) {
				r = r.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return r, n
}

func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return max(int(x)-int(y), int(y)-int(x)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func TestPosition(t *testing.T) {
	// A 900×600 image and an opaque 90×60 mark (Scale 0.1 of 900): each
	// position must put the mark in its ninth, offsets measured from the
	// anchored edges.
	const w, h, mw, mh = 900, 600, 90, 60
	dst := newImage(w, h, navy)
	mark := newImage(180, 120, orange)
	tests := []struct {
		pos    Position
		dx, dy int
		want   image.Rectangle
	}{
		{TopLeft, 0, 0, image.Rect(0, 0, mw, mh)},
		{TopLeft, 10, 20, image.Rect(10, 20, 10+mw, 20+mh)},
		{Top, 10, 20, image.Rect((w-mw)/2, 20, (w+mw)/2, 20+mh)},
		{TopRight, 10, 20, image.Rect(w-10-mw, 20, w-10, 20+mh)},
		{Left, 10, 20, image.Rect(10, (h-mh)/2, 10+mw, (h+mh)/2)},
		{Center, 10, 20, image.Rect((w-mw)/2, (h-mh)/2, (w+mw)/2, (h+mh)/2)},
		{Right, 10, 20, image.Rect(w-10-mw, (h-mh)/2, w-10, (h+mh)/2)},
		{BottomLeft, 10, 20, image.Rect(10, h-20-mh, 10+mw, h-20)},
		{Bottom, 10, 20, image.Rect((w-mw)/2, h-20-mh, (w+mw)/2, h-20)},
		{BottomRight, 10, 20, image.Rect(w-10-mw, h-20-mh, w-10, h-20)},
		{"", 0, 0, image.Rect(w-mw, h-mh, w, h)},
		{BottomRight, -30, 0, image.Rect(w-mw+30, h-mh, w, h)}, // pushed past the edge: clipped
	}
	for _, tt := range tests {
		t.Run(string(tt.pos), func(t *testing.T) {
			o := Options{Overlay: mark, Position: tt.pos, OffsetX: tt.dx, OffsetY: tt.dy, Opacity: 1, Scale: 0.1}
			out, err := Apply(context.Background(), dst, o)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := changed(dst, out)
			if got != tt.want {
				t.Errorf("mark at %v, want %v", got, tt.want)
			}
			// Which ninth holds the mark's centre.
			c := tt.want.Min.Add(tt.want.Max).Div(2)
			ax, ay, _ := anchor(o.withDefaults().Position)
			if c.X*3/w != ax || c.Y*3/h != ay {
				t.Errorf("centre %v is not in ninth (%d, %d)", c, ax, ay)
			}
		})
	}
}

func TestOpacity(t *testing.T) {
	dst := newImage(200, 100, navy)
	mark := newImage(40, 20, orange) // Scale 0.2 of 200 = 40: no resampling
	tests := []struct {
		name    string
		opacity float64
		want    color.NRGBA // inside the mark
		tol     int
	}{
		{"opacity 0 leaves the image unchanged", 0, navy, 0},
		{"opacity 1 gives the overlay's exact pixels", 1, orange, 0},
		{"half opacity averages", 0.5, color.NRGBA{125, 70, 75, 255}, 1},
		{"quarter opacity", 0.25, color.NRGBA{68, 45, 97, 255}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Apply(context.Background(), dst, Options{Overlay: mark, Opacity: tt.opacity, Position: TopLeft})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []image.Point{{0, 0}, {39, 19}} {
				if got := out.NRGBAAt(p.X, p.Y); !near(got, tt.want, tt.tol) {
					t.Errorf("pixel %v = %v, want %v ±%d", p, got, tt.want, tt.tol)
				}
			}
			if got := out.NRGBAAt(40, 20); got != navy {
				t.Errorf("pixel outside the mark = %v, want %v", got, navy)
			}
			if tt.opacity == 0 {
				if _, n := changed(dst, out); n != 0 {
					t.Errorf("%d pixels changed", n)
				}
			}
		})
	}
}

func TestCompositeOverTransparent(t *testing.T) {
	tests := []struct {
		name    string
		dst     color.NRGBA
		mark    color.NRGBA
		opacity float64
		want    color.NRGBA
	}{
		// Straight colour must not darken toward the destination's zero RGB.
		{"opaque mark, half opacity, empty dst", color.NRGBA{}, orange, 0.5, color.NRGBA{240, 120, 30, 128}},
		{"half-alpha mark, full opacity, empty dst", color.NRGBA{}, color.NRGBA{240, 120, 30, 128}, 1, color.NRGBA{240, 120, 30, 128}},
		// Transparent pixels keep whatever colour they held where the mark
		// is transparent too (checked below), and take the mark's where not.
		{"empty dst with leftover colour", color.NRGBA{90, 90, 90, 0}, orange, 1, orange},
		// 0.5 over 0.5: alpha 0.75, colour weighted 2:1 toward the mark.
		{"half over half", color.NRGBA{0, 0, 240, 128}, color.NRGBA{240, 0, 0, 128}, 1, color.NRGBA{160, 0, 80, 192}},
		{"opaque dst stays opaque", navy, color.NRGBA{240, 120, 30, 64}, 1, color.NRGBA{67, 45, 97, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := newImage(100, 100, tt.dst)
			out, err := Apply(context.Background(), dst, Options{Overlay: newImage(20, 20, tt.mark), Opacity: tt.opacity, Position: TopLeft})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.NRGBAAt(5, 5); !near(got, tt.want, 1) {
				t.Errorf("composited pixel = %v, want %v ±1", got, tt.want)
			}
			if got := out.NRGBAAt(50, 50); got != tt.dst {
				t.Errorf("untouched pixel = %v, want %v", got, tt.dst)
			}
		})
	}
}

func TestTile(t *testing.T) {
	dst := newImage(600, 400, navy)
	out, err := Apply(context.Background(), dst, Options{
		Overlay: newImage(30, 30, orange), Scale: 0.05, Opacity: 1, Tile: true, Position: Center,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every ninth of the image holds orange.
	for cy := 0; cy < 3; cy++ {
		for cx := 0; cx < 3; cx++ {
			cell := image.Rect(cx*200, cy*400/3, (cx+1)*200, (cy+1)*400/3)
			sub := func(m *image.NRGBA) *image.NRGBA { return m.SubImage(cell).(*image.NRGBA) }
			if _, n := changed(sub(dst), sub(out)); n == 0 {
				t.Errorf("no mark in cell %v", cell)
			}
		}
	}
	// The centred tile is one of them, and the spacing is half a mark.
	const m = 30
	c := image.Pt((600-m)/2, (400-m)/2)
	for _, p := range []image.Point{c, c.Add(image.Pt(m+m/2, 0)), c.Add(image.Pt(0, -(m + m/2)))} {
		if got := out.NRGBAAt(p.X, p.Y); got != orange {
			t.Errorf("no tile at %v: %v", p, got)
		}
	}
	if got := out.NRGBAAt(c.X+m, c.Y); got != navy {
		t.Errorf("gap at %v holds %v, want %v", image.Pt(c.X+m, c.Y), got, navy)
	}
	_, n := changed(dst, out)
	if frac := float64(n) / (600 * 400); frac < 0.3 || frac > 0.6 {
		t.Errorf("tiles cover %.2f of the image, want about 4/9", frac)
	}
}

func TestPlacementsCoverEdges(t *testing.T) {
	// With a 10×10 mark the grid steps by 15. Whatever the offset, the grid
	// must start with the first tile that reaches into the image and end
	// with the last tile that starts inside it, so no edge is left bare
	// beyond a normal gap.
	const m, step = 10, 15
	b := image.Rect(0, 0, 100, 50)
	for _, off := range []int{0, 7, -7, 14, 1000, -1003} {
		pts := placements(Options{Position: TopLeft, Tile: true, OffsetX: off, OffsetY: off}, b, image.Pt(m, m))
		first, last := pts[0], pts[len(pts)-1]
		for _, axis := range []struct {
			name              string
			first, last, size int
		}{{"x", first.X, last.X, b.Dx()}, {"y", first.Y, last.Y, b.Dy()}} {
			if axis.first+m <= 0 || axis.first-step+m > 0 {
				t.Errorf("offset %d: first tile at %s=%d, want the first to reach past 0", off, axis.name, axis.first)
			}
			if axis.last >= axis.size || axis.last+step < axis.size {
				t.Errorf("offset %d: last tile at %s=%d, want the last to start before %d", off, axis.name, axis.last, axis.size)
			}
		}
		if (first.X-off)%step != 0 || (first.Y-off)%step != 0 {
			t.Errorf("offset %d: grid at %v does not pass through the anchored tile", off, first)
		}
	}
}

func TestMinSizeSkips(t *testing.T) {
	dst := newImage(300, 200, navy)
	tests := []struct {
		name      string
		minW      int
		minH      int
		wantMarks bool
	}{
		{"too narrow", 301, 0, false},
		{"too short", 0, 201, false},
		{"exactly the minimum", 300, 200, true},
		{"no minimum", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Apply(context.Background(), dst, Options{Overlay: newImage(10, 10, orange), Opacity: 1, MinWidth: tt.minW, MinHeight: tt.minH})
			if err != nil {
				t.Fatal(err)
			}
			if out == dst {
				t.Fatal("returned dst itself, want a copy")
			}
			if _, n := changed(dst, out); (n > 0) != tt.wantMarks {
				t.Errorf("%d pixels changed, want marks: %v", n, tt.wantMarks)
			}
		})
	}
}

func TestDstNotModified(t *testing.T) {
	dst := newImage(100, 100, navy)
	before := append([]uint8(nil), dst.Pix...)
	if _, err := Apply(context.Background(), dst, Options{Overlay: newImage(10, 10, orange), Opacity: 1, Tile: true}); err != nil {
		t.Fatal(err)
	}
	if string(before) != string(dst.Pix) {
		t.Error("Apply modified dst")
	}
}

func TestSubImageDestination(t *testing.T) {
	big := newImage(300, 300, navy)
	dst := big.SubImage(image.Rect(100, 100, 200, 200)).(*image.NRGBA)
	out, err := Apply(context.Background(), dst, Options{Overlay: newImage(20, 20, orange), Opacity: 1, Position: TopLeft})
	if err != nil {
		t.Fatal(err)
	}
	if out.Bounds() != dst.Bounds() {
		t.Fatalf("bounds %v, want %v", out.Bounds(), dst.Bounds())
	}
	if got, _ := changed(dst, out); got != image.Rect(100, 100, 120, 120) {
		t.Errorf("mark at %v, want (100,100)-(120,120)", got)
	}
}

func TestRenderText(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		c      color.NRGBA
		height int
		lines  int
	}{
		{"word", "Hello", color.NRGBA{200, 30, 40, 255}, 32, 1},
		{"translucent colour", "© resizer", color.NRGBA{0, 255, 0, 128}, 20, 1},
		{"two lines", "top\nbottom", color.NRGBA{255, 255, 255, 255}, 24, 2},
		{"tiny", "x", color.NRGBA{0, 0, 0, 255}, 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := RenderText(tt.text, tt.c, tt.height)
			if err != nil {
				t.Fatal(err)
			}
			if m.Bounds().Dy() != tt.lines*tt.height || m.Bounds().Dx() <= 0 {
				t.Fatalf("bounds %v, want height %d", m.Bounds(), tt.lines*tt.height)
			}
			inked, solid := 0, 0
			for i := 0; i < len(m.Pix); i += 4 {
				p := color.NRGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3]}
				switch {
				case p.A == 0:
				case p.R != tt.c.R || p.G != tt.c.G || p.B != tt.c.B || p.A > tt.c.A:
					t.Fatalf("pixel %v is not the text colour %v", p, tt.c)
				default:
					inked++
					if p.A == tt.c.A {
						solid++
					}
				}
			}
			if inked == 0 || (tt.height >= 20 && solid == 0) {
				t.Errorf("%d inked pixels, %d at full colour", inked, solid)
			}
		})
	}

	for _, bad := range []struct {
		text   string
		height int
	}{{"", 10}, {"x", 0}, {"x", MaxTextHeight + 1}} {
		if _, err := RenderText(bad.text, color.NRGBA{A: 255}, bad.height); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("RenderText(%q, %d): error %v, want ErrInvalidOptions", bad.text, bad.height, err)
		}
	}
}

func TestTextMark(t *testing.T) {
	dst := newImage(800, 400, navy)
	yellow := color.NRGBA{250, 220, 0, 255}
	tests := []struct {
		name string
		o    Options
	}{
		{"text only", Options{Text: "resizer", TextColor: yellow, TextSize: 0.05, Opacity: 1}},
		{"text below overlay", Options{Text: "resizer", TextColor: yellow, Overlay: newImage(50, 50, orange), Scale: 0.1, Opacity: 1}},
		{"text too wide is shrunk to fit", Options{Text: "a very long line of watermark text indeed", TextColor: yellow, TextSize: 0.5, Opacity: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Apply(context.Background(), dst, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			box, n := changed(dst, out)
			if n == 0 {
				t.Fatal("no text drawn")
			}
			if box.Max != image.Pt(800, 400) && (box.Max.X < 700 || box.Max.Y < 300) {
				t.Errorf("text at %v, want the bottom-right", box)
			}
			yellowish := 0
			for y := box.Min.Y; y < box.Max.Y; y++ {
				for x := box.Min.X; x < box.Max.X; x++ {
					if out.NRGBAAt(x, y) == yellow {
						yellowish++
					}
				}
			}
			if yellowish == 0 {
				t.Error("no pixel in the text colour")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ov := newImage(4, 4, orange)
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"overlay", Options{Overlay: ov}, true},
		{"text", Options{Text: "x"}, true},
		{"defaults", func() Options { o := DefaultOptions(); o.Text = "x"; return o }(), true},
		{"nothing to draw", Options{Opacity: 1}, false},
		{"empty overlay", Options{Overlay: image.NewNRGBA(image.Rectangle{})}, false},
		{"opacity above 1", Options{Overlay: ov, Opacity: 1.5}, false},
		{"negative scale", Options{Overlay: ov, Scale: -0.1}, false},
		{"text size above 1", Options{Text: "x", TextSize: 2}, false},
		{"unknown position", Options{Overlay: ov, Position: "middle"}, false},
		{"negative minimum", Options{Overlay: ov, MinWidth: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.ok && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("error %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestApplyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, o := range []Options{
		{Overlay: newImage(10, 10, orange), Opacity: 1},
		{Text: "x", Opacity: 1, Tile: true},
	} {
		out, err := Apply(ctx, newImage(100, 100, navy), o)
		if !errors.Is(err, context.Canceled) || out != nil {
			t.Errorf("got (%v, %v), want (nil, context.Canceled)", out, err)
		}
	}
}

func BenchmarkApply(b *testing.B) {
	dst := newImage(1600, 1200, navy)
	logo := newImage(400, 200, color.NRGBA{240, 120, 30, 200})
	cases := []struct {
		name string
		o    Options
	}{
		{"overlay", Options{Overlay: logo, Opacity: 0.5, Scale: 0.2}},
		{"text", Options{Text: "© resizer", Opacity: 0.5}},
		{"overlay+text tiled", Options{Overlay: logo, Text: "© resizer", Opacity: 0.5, Scale: 0.2, Tile: true}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Apply(context.Background(), dst, c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
