package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/plugins/bundle"
)

func TestMain(m *testing.M) {
	// The daemon starts its bundled plugins from its own executable, which
	// here is this test binary.
	bundle.ServeIfRequested(os.Args[1:])
	os.Exit(m.Run())
}

// tinyOptions is a bench of two small generated images through the
// repository's recipes, one round.
func tinyOptions(images int, workers ...int) Options {
	cfg := config.Default()
	cfg.RecipesDir = filepath.Join("..", "..", "recipes")
	return Options{Config: cfg, Images: images, Width: 640, Height: 480, Workers: workers, Rounds: 1, Timeout: time.Minute}
}

func TestTinyBench(t *testing.T) {
	rep, err := Run(context.Background(), tinyOptions(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inputs.Count != 2 || rep.Inputs.Size != "640x480" || !rep.Inputs.Generated {
		t.Errorf("inputs: %+v", rep.Inputs)
	}
	if len(rep.Recipes) != 1 || rep.Recipes[0].Name != "default" || len(rep.Recipes[0].Outputs) != 3 {
		t.Errorf("recipes: %+v", rep.Recipes)
	}
	if len(rep.Workers) != 1 {
		t.Fatalf("got %d worker counts, want 1", len(rep.Workers))
	}
	w := rep.Workers[0]
	if w.Workers != 1 || w.ImagesPerSecond.Median <= 0 || w.MegapixelsPerSecond.Median <= 0 || w.WallSeconds.Median <= 0 {
		t.Errorf("throughput: %+v", w)
	}
	// 2 images of 0.3 MP in the time they took.
	if mps := w.ImagesPerSecond.Median * 0.3072; abs(w.MegapixelsPerSecond.Median-mps) > 1e-6*mps {
		t.Errorf("MP/s %v, want images/s × 0.3072 = %v", w.MegapixelsPerSecond.Median, mps)
	}
	if len(w.Stages) != len(Stages) {
		t.Fatalf("stages: %+v", w.Stages)
	}
	for _, s := range w.Stages {
		if s.N != 2 {
			t.Errorf("stage %s has %d values, want one per image (2)", s.Stage, s.N)
		}
		if !(s.Min <= s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max) {
			t.Errorf("stage %s percentiles out of order: %+v", s.Stage, s.Summary)
		}
	}
	total := w.Stage("total")
	if total.Min <= 0 || w.Stage("decode").Max > total.Max || w.Stage("render").Max > total.Max || w.Stage("render").Min <= 0 {
		t.Errorf("total %+v, decode %+v, render %+v", total, w.Stage("decode"), w.Stage("render"))
	}
	// The whole pass cannot be shorter than its longest job.
	if w.WallSeconds.Median*1000 < total.Max {
		t.Errorf("wall %.1f ms is shorter than a job's total %.1f ms", w.WallSeconds.Median*1000, total.Max)
	}
	if runtime.GOOS == "linux" {
		m := w.Memory
		if m == nil {
			t.Fatal("no memory figures on Linux")
		}
		if m.Idle <= 0 || m.Daemon <= 0 || m.Total < m.Daemon || m.InFlight != 1 || m.PerJob < 0 {
			t.Errorf("memory: %+v", m)
		}
		for _, name := range []string{"thumbnail", "watermark"} {
			if m.Plugins[name] <= 0 {
				t.Errorf("no memory figure for the %s plugin: %+v", name, m.Plugins)
			}
		}
		if w.CPUPerImageMs.Median <= 0 {
			t.Errorf("CPU per image: %+v", w.CPUPerImageMs)
		}
	}

	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 generated photo-like JPEGs, 640x480", "recipe:  default (large, medium, thumb)",
		"IMAGES/S", "transform", "PER IN-FLIGHT JOB", "GOMAXPROCS"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, text.String())
		}
	}
}

// TestVipsComparison runs vipsthumbnail beside the daemon on one image.
func TestVipsComparison(t *testing.T) {
	path, err := FindVips()
	if err != nil {
		t.Skipf("vipsthumbnail is not on PATH, so the comparison is not tried (%s)", VipsInstallHint)
	}
	opts := tinyOptions(1, 1)
	opts.Vips = path
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Vips
	if v == nil || len(v.Recipes) != 1 || len(v.Recipes[0].Commands) != 3 || len(v.Recipes[0].Unmapped) != 0 {
		t.Fatalf("vips report: %+v", v)
	}
	if len(v.SizeMismatches) > 0 {
		t.Errorf("outputs differ in size: %v", v.SizeMismatches)
	}
	if len(v.Workers) != 1 || v.Workers[0].ImagesPerSecond.Median <= 0 || v.Workers[0].PerImageMs.N != 1 ||
		v.Workers[0].ThroughputRatio <= 0 || v.Workers[0].TimeRatio <= 0 {
		t.Errorf("vips figures: %+v", v.Workers)
	}
	if runtime.GOOS == "linux" && v.Workers[0].PeakRSS <= 0 {
		t.Errorf("no peak memory for vipsthumbnail")
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "--smartcrop attention") || !strings.Contains(text.String(), "same width and height") {
		t.Errorf("the report does not show the commands and the size check:\n%s", text.String())
	}
}

// TestReadInputs takes images from a folder, by name, and leaves other
// files alone.
func TestReadInputs(t *testing.T) {
	dir := t.TempDir()
	gen, err := generateInputs(context.Background(), dir, 3, 64, 48, 80)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	got, err := readInputs(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != gen[0].Name || got[1].Name != gen[1].Name || got[0].Width != 64 || got[0].Height != 48 {
		t.Errorf("readInputs = %+v", got)
	}
	if _, err := readInputs(t.TempDir(), 0); err == nil {
		t.Error("an empty folder gave no error")
	}
}

// TestVipsSizeSyntax checks, against the installed libvips, the size
// syntax the mapping relies on: a width alone, and ">" never enlarging.
func TestVipsSizeSyntax(t *testing.T) {
	path, err := FindVips()
	if err != nil {
		t.Skipf("vipsthumbnail is not on PATH, so its size syntax is not checked (%s)", VipsInstallHint)
	}
	dir := t.TempDir()
	in, err := generateInputs(context.Background(), dir, 1, 300, 200, 80)
	if err != nil {
		t.Fatal(err)
	}
	job := vipsJob{input: in[0], cmds: []VipsCommand{
		{Output: "wide", Size: "150x>", Ext: ".jpg", Save: "Q=80,strip"},
		{Output: "big", Size: "600x600>", Ext: ".png", Save: "strip"},
	}}
	if _, err := runVips(context.Background(), path, []vipsJob{job}, dir, 1); err != nil {
		t.Fatal(err)
	}
	ours := map[string]outbox.Record{in[0].Name: {Outputs: []outbox.Output{
		{Name: "wide", Width: 150, Height: 100},
		{Name: "big", Width: 300, Height: 200},
	}}}
	if diffs := compareSizes(dir, []vipsJob{job}, ours); len(diffs) > 0 {
		t.Errorf("sizes: %v", diffs)
	}
	ours[in[0].Name].Outputs[0].Width = 151
	if diffs := compareSizes(dir, []vipsJob{job}, ours); len(diffs) != 1 || !strings.Contains(diffs[0], "ours 151x100, vips 150x100") {
		t.Errorf("a size that differs gave %v", diffs)
	}
}

func abs(x float64) float64 { return max(x, -x) }
