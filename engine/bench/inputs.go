package bench

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/gif" // decoders for DecodeConfig of inputs and vips outputs
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	_ "golang.org/x/image/webp"

	"github.com/seed62486500/resizer/engine/samples"
)

// Input is one source image of the bench.
type Input struct {
	Name          string `json:"name"` // file name, and the last part of its key
	Path          string `json:"-"`    // the file, for vipsthumbnail
	Body          []byte `json:"-"`
	Width, Height int    `json:"-"` // as stored, before any EXIF orientation
}

// Megapixels is the input's size in millions of pixels.
func (in Input) Megapixels() float64 { return float64(in.Width) * float64(in.Height) / 1e6 }

// inputExts are the extensions read from an inputs folder: the formats the
// default recipe takes.
var inputExts = []string{".jpg", ".jpeg", ".png", ".gif", ".webp"}

// generateInputs writes n photo-like JPEGs of w×h into dir, each of a
// different seed. Generating a 12 MP photo takes about a second, so they
// are made on every CPU at once.
func generateInputs(ctx context.Context, dir string, n, w, h, quality int) ([]Input, error) {
	inputs := make([]Input, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				in := Input{Name: fmt.Sprintf("photo-%02d.jpg", i+1), Width: w, Height: h}
				in.Path = filepath.Join(dir, in.Name)
				in.Body = samples.JPEG(w, h, uint64(i+1), quality)
				errs[i] = os.WriteFile(in.Path, in.Body, 0o644)
				inputs[i] = in
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("write generated input %s: %w", inputs[i].Name, err)
		}
	}
	return inputs, nil
}

// readInputs reads the images directly inside dir, by name; limit > 0 keeps
// the first limit of them.
func readInputs(dir string, limit int) ([]Input, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	var inputs []Input
	for _, e := range entries {
		if !e.Type().IsRegular() || !slices.Contains(inputExts, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		if limit > 0 && len(inputs) == limit {
			break
		}
		path := filepath.Join(dir, e.Name())
		body, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("inputs: %w", err)
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("inputs: %s: %w", path, err)
		}
		inputs = append(inputs, Input{Name: e.Name(), Path: path, Body: body, Width: cfg.Width, Height: cfg.Height})
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("inputs: no images (%s) in %s", strings.Join(inputExts, ", "), dir)
	}
	return inputs, nil
}
