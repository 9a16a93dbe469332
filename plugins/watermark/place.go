package watermark

import "image"

// anchor maps a position to its column and row in the three-by-three grid:
// 0 is the left or top edge, 1 the centre, 2 the right or bottom edge.
func anchor(p Position) (ax, ay int, ok bool) {
	switch p {
	case TopLeft:
		return 0, 0, true
	case Top:
		return 1, 0, true
	case TopRight:
		return 2, 0, true
	case Left:
		return 0, 1, true
	case Center:
		return 1, 1, true
	case Right:
		return 2, 1, true
	case BottomLeft:
		return 0, 2, true
	case Bottom:
		return 1, 2, true
	case BottomRight:
		return 2, 2, true
	}
	return 0, 0, false
}

// placements returns the top-left corner, in b's coordinates, of every copy
// of a mark of the given size: one, or with o.Tile a grid through that one
// covering b.
func placements(o Options, b image.Rectangle, mark image.Point) []image.Point {
	ax, ay, _ := anchor(o.Position)
	p := image.Pt(
		place(ax, b.Dx(), mark.X, o.OffsetX),
		place(ay, b.Dy(), mark.Y, o.OffsetY),
	)
	if !o.Tile {
		return []image.Point{p.Add(b.Min)}
	}
	// Half a mark between marks: dense enough to protect, sparse enough to
	// leave the picture readable.
	step := image.Pt(mark.X+max(1, mark.X/2), mark.Y+max(1, mark.Y/2))
	var out []image.Point
	for y := firstTile(p.Y, step.Y, mark.Y); y < b.Dy(); y += step.Y {
		for x := firstTile(p.X, step.X, mark.X); x < b.Dx(); x += step.X {
			out = append(out, image.Pt(x, y).Add(b.Min))
		}
	}
	return out
}

// place returns the offset of a span of length n in a length of total: at
// the near edge plus off, centred (off ignored), or at the far edge minus
// off.
func place(a, total, n, off int) int {
	switch a {
	case 0:
		return off
	case 1:
		return (total - n) / 2
	}
	return total - n - off
}

// firstTile returns the smallest p + k×step (k any integer) at which a span
// of length n still reaches past 0.
func firstTile(p, step, n int) int {
	r := p % step
	if r < 0 {
		r += step
	}
	// r is in [0, step); the tile before it ends at r-step+n, which is
	// positive only when r > step-n.
	if r > step-n {
		return r - step
	}
	return r
}
