package thumbnail

import (
	"context"
	"image"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Smart gravity.
//
// The source is summarised in one pass into a small grid (at most
// detailGridSide cells on the long side; each cell covers cell×cell source
// pixels). Per cell we keep the mean, the variance and the mean saturation of
// the luma. A cell's detail energy is
//
//	stddev(luma in the cell)          fine texture and edges inside the cell
//	+ |Sobel(mean luma of the cells)| coarser edges between cells
//	+ saturationWeight × mean saturation
//
// The variance term is why the grid is built from the full-resolution pixels
// rather than from a resized copy: averaging first would flatten texture finer
// than a cell (a 1-pixel checkerboard becomes flat grey), and point sampling
// would alias it unpredictably. The search itself runs on the small grid: a
// summed-area table gives every crop-sized window's energy in O(1), and the
// best window's centre is mapped back to source pixels.
//
// Luma and saturation are weighted by alpha, so transparent areas count as
// flat whatever colour they hide. Ties (a flat image) go to the window
// nearest the centre, so smart falls back to centre gravity.

// detailGridSide bounds the detail grid's long side.
const detailGridSide = 256

// saturationWeight keeps colour a tie-breaker rather than a rival to texture.
const saturationWeight = 0.2

// detailGrid is the per-cell energy of a source image.
type detailGrid struct {
	w, h   int // cells
	cell   int // source pixels per cell side
	energy []float64
}

// detailCentre returns the centre, in pixels relative to src.Bounds().Min,
// of the most detailed cw×ch window of src.
func detailCentre(ctx context.Context, src *image.NRGBA, cw, ch int) (cx, cy float64, err error) {
	g, err := measureDetail(ctx, src)
	if err != nil {
		return 0, 0, err
	}
	// Window size in cells; the window's centre is what maps back, so
	// rounding here shifts the result by at most half a cell.
	ww := max(1, min(g.w, int(math.Round(float64(cw)/float64(g.cell)))))
	wh := max(1, min(g.h, int(math.Round(float64(ch)/float64(g.cell)))))
	gx, gy := g.bestWindow(ww, wh)
	cx = (float64(gx) + float64(ww)/2) * float64(g.cell)
	cy = (float64(gy) + float64(wh)/2) * float64(g.cell)
	return cx, cy, nil
}

// measureDetail builds the detail grid of src in one pass over its pixels.
func measureDetail(ctx context.Context, src *image.NRGBA) (*detailGrid, error) {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	cell := max(1, (max(w, h)+detailGridSide-1)/detailGridSide)
	g := &detailGrid{w: (w + cell - 1) / cell, h: (h + cell - 1) / cell, cell: cell}
	n := g.w * g.h
	sum := make([]uint64, n)
	sumSq := make([]uint64, n)
	sat := make([]uint64, n)

	// Each worker takes whole rows of cells, so no two write the same sums.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), g.h) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				gy := int(next.Add(1)) - 1
				if gy >= g.h || ctx.Err() != nil {
					return
				}
				base := gy * g.w
				for y := gy * cell; y < min((gy+1)*cell, h); y++ {
					sumRow(src.Pix[y*src.Stride:][:4*w], cell, sum[base:][:g.w], sumSq[base:][:g.w], sat[base:][:g.w])
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	mean := make([]float64, n)
	g.energy = make([]float64, n)
	for gy := 0; gy < g.h; gy++ {
		for gx := 0; gx < g.w; gx++ {
			i := gy*g.w + gx
			px := float64((min((gx+1)*cell, w) - gx*cell) * (min((gy+1)*cell, h) - gy*cell))
			m := float64(sum[i]) / px
			mean[i] = m
			variance := float64(sumSq[i])/px - m*m
			g.energy[i] = math.Sqrt(math.Max(0, variance)) + saturationWeight*float64(sat[i])/px
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.addEdges(mean)
	return g, nil
}

// sumRow adds one row of pixels to the sums of its cells: alpha-weighted
// Rec. 601 luma in 8 bits (>>16 ≈ /255/256), its square, and saturation.
func sumRow(row []uint8, cell int, sum, sumSq, sat []uint64) {
	w := len(row) / 4
	for gx := range sum {
		var s, sq, st uint64
		block := row[4*gx*cell : 4*min((gx+1)*cell, w)]
		for j := 0; j+3 < len(block); j += 4 {
			p := block[j : j+4 : j+4]
			r, gr, bl, a := uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
			l := uint64((77*r + 150*gr + 29*bl) * a >> 16)
			s += l
			sq += l * l
			st += uint64((max(r, gr, bl) - min(r, gr, bl)) * a >> 8)
		}
		sum[gx] += s
		sumSq[gx] += sq
		sat[gx] += st
	}
}

// addEdges adds the Sobel gradient magnitude of the cell means to the
// energy. Borders replicate the edge cells, so the image's own border is not
// mistaken for an edge.
func (g *detailGrid) addEdges(mean []float64) {
	at := func(x, y int) float64 {
		x = max(0, min(x, g.w-1))
		y = max(0, min(y, g.h-1))
		return mean[y*g.w+x]
	}
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			dx := at(x+1, y-1) + 2*at(x+1, y) + at(x+1, y+1) - at(x-1, y-1) - 2*at(x-1, y) - at(x-1, y+1)
			dy := at(x-1, y+1) + 2*at(x, y+1) + at(x+1, y+1) - at(x-1, y-1) - 2*at(x, y-1) - at(x+1, y-1)
			// /4 makes a full-range step between two cells score like a
			// full-range stddev inside one.
			g.energy[y*g.w+x] += math.Hypot(dx, dy) / 4
		}
	}
}

// bestWindow returns the top-left cell of the ww×wh window with the most
// energy. Windows within a relative 1e-9 of each other tie, and a tie goes to
// the window nearest the grid's centre.
func (g *detailGrid) bestWindow(ww, wh int) (bx, by int) {
	// sat[(y)*(w+1)+x] is the energy of cells [0,x)×[0,y).
	stride := g.w + 1
	sat := make([]float64, stride*(g.h+1))
	for y := 0; y < g.h; y++ {
		var rowSum float64
		for x := 0; x < g.w; x++ {
			rowSum += g.energy[y*g.w+x]
			sat[(y+1)*stride+x+1] = sat[y*stride+x+1] + rowSum
		}
	}
	best, bestDist := math.Inf(-1), math.Inf(1)
	for y := 0; y+wh <= g.h; y++ {
		for x := 0; x+ww <= g.w; x++ {
			e := sat[(y+wh)*stride+x+ww] - sat[y*stride+x+ww] - sat[(y+wh)*stride+x] + sat[y*stride+x]
			// Distance of the window's centre from the grid's centre, doubled
			// to stay in integers.
			dist := math.Hypot(float64(2*x+ww-g.w), float64(2*y+wh-g.h))
			tol := 1e-9 * math.Max(1, math.Abs(best))
			if e > best+tol || (e >= best-tol && dist < bestDist) {
				best, bestDist, bx, by = e, dist, x, y
			}
		}
	}
	return bx, by
}
