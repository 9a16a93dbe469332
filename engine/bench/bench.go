// Package bench measures the daemon end to end: photo-like sources go
// through local mode (embedded S3 and SQS, the real daemon and its plugin
// processes) and every stage of a job is timed, download to outbox record.
// It reports images and megapixels per second for each worker count,
// per-stage latency percentiles from the outbox records' timings, CPU time
// and peak resident memory, and can run libvips's vipsthumbnail on the
// same sources for the same output boxes beside it.
//
// The machine is shared more often than not: every throughput figure is
// the median of repeated rounds, with the range the rounds covered, and
// the report says what the machine was and how loaded it was.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/recipe"
)

// Defaults of Options.
const (
	DefaultImages  = 8
	DefaultWidth   = 4000 // 4000×3000: a 12-megapixel photo
	DefaultHeight  = 3000
	DefaultQuality = 90
	DefaultRounds  = 3
	DefaultTimeout = 10 * time.Minute
)

// Options configure Run.
type Options struct {
	// Config is the daemon's configuration. Run points a copy of it at the
	// embedded endpoints; RecipesDir says which recipes run.
	Config config.Config
	// Images is how many sources to generate, or with InputsDir how many
	// of its images to take at most (0: all).
	Images int
	// Width, Height and Quality shape the generated JPEGs.
	Width, Height, Quality int
	// InputsDir, when set, holds the sources instead: its JPEG, PNG, GIF
	// and WebP files, by name.
	InputsDir string
	// Workers are the worker counts to measure; each gets a daemon of its
	// own and the whole set of sources in every round.
	Workers []int
	// Rounds is how many times the set runs per worker count.
	Rounds int
	// Vips, when set, is the vipsthumbnail to compare with (see FindVips).
	Vips string
	// OneGroup puts every inbox message in one message group, as the
	// reference deployment's default EventBridge rule does; by default each
	// image has a group of its own, as with InboxFeed=pipe.
	OneGroup bool
	// Timeout bounds each pass over the set.
	Timeout time.Duration
	// Logger receives the daemon's logs. Default: none.
	Logger hclog.Logger
	// Progress, when set, gets a line per pass, for a reader waiting.
	Progress io.Writer
}

func (o *Options) setDefaults() {
	if o.Images == 0 && o.InputsDir == "" {
		o.Images = DefaultImages
	}
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = DefaultWidth, DefaultHeight
	}
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	if len(o.Workers) == 0 {
		o.Workers = []int{1, 2}
	}
	if o.Rounds == 0 {
		o.Rounds = DefaultRounds
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

func (o *Options) check() error {
	if o.Images < 0 || o.Rounds < 1 || o.Width < 1 || o.Height < 1 || o.Quality < 1 || o.Quality > 100 {
		return fmt.Errorf("bench: images %d, rounds %d, size %dx%d, quality %d: out of range",
			o.Images, o.Rounds, o.Width, o.Height, o.Quality)
	}
	for _, w := range o.Workers {
		if w < 1 {
			return fmt.Errorf("bench: %d workers: want at least 1", w)
		}
	}
	return nil
}

// Report is what Run measured.
type Report struct {
	Machine Machine    `json:"machine"`
	Inputs  InputsInfo `json:"inputs"`
	Rounds  int        `json:"rounds"`
	// InboxGroups is "per-image" or "one" (see Options.OneGroup).
	InboxGroups string `json:"inbox_groups"`
	// Recipes name the recipes the sources got, with their outputs.
	Recipes []RecipeInfo    `json:"recipes"`
	Workers []WorkersResult `json:"workers"`
	Vips    *VipsReport     `json:"vips,omitempty"`
}

// InputsInfo describes the sources.
type InputsInfo struct {
	Count     int    `json:"count"`
	Generated bool   `json:"generated"`
	Dir       string `json:"dir,omitempty"`
	// Size is their width×height when all share one, else "mixed".
	Size       string  `json:"size"`
	Megapixels float64 `json:"megapixels"` // of all of them
	Bytes      int64   `json:"bytes"`      // of all of them
}

// RecipeInfo names a recipe and its outputs.
type RecipeInfo struct {
	Name    string   `json:"name"`
	Outputs []string `json:"outputs"`
}

// WorkersResult is what one worker count did over every round.
type WorkersResult struct {
	Workers int `json:"workers"`
	// Wall clock per round: the first inbox message sent to the last
	// outbox record written, for the whole set.
	WallSeconds         Spread `json:"wall_seconds"`
	ImagesPerSecond     Spread `json:"images_per_second"`
	MegapixelsPerSecond Spread `json:"megapixels_per_second"`
	// CPUPerImageMs is CPU time (user and system) of this process and the
	// plugin processes over a round, per image, in milliseconds. It
	// includes the embedded S3 and SQS, and is less disturbed than wall
	// time by other work on the machine.
	CPUPerImageMs Spread `json:"cpu_per_image_ms"`
	// Stages are the outbox records' timings_ms, over every image of every
	// round.
	Stages []StageSummary `json:"stages"`
	// Memory is that of the round with the largest per-job figure; nil
	// where resident memory cannot be read.
	Memory *Memory `json:"memory,omitempty"`
}

// StageSummary is the distribution of one stage's duration, in ms.
type StageSummary struct {
	Stage string `json:"stage"`
	Summary
}

// Stages are the outbox record's timings, in the order a job runs them,
// and render, which the record does not carry: the pipeline makes the
// outputs concurrently and its transform and encode add up the time of
// every output, so they may come to more than the wall time they took.
// render is total - download - decode - upload: the wall time of making
// the outputs, with the header probe and any wait for pixel budget.
var Stages = []string{"download", "decode", "transform", "encode", "render", "upload", "total"}

func stageValue(t outbox.Timings, stage string) float64 {
	switch stage {
	case "download":
		return t.Download
	case "decode":
		return t.Decode
	case "transform":
		return t.Transform
	case "encode":
		return t.Encode
	case "upload":
		return t.Upload
	case "render":
		return max(t.Total-t.Download-t.Decode-t.Upload, 0)
	}
	return t.Total
}

// Stage returns the summary of the named stage; zero if there is none.
func (w WorkersResult) Stage(name string) Summary {
	for _, s := range w.Stages {
		if s.Stage == name {
			return s.Summary
		}
	}
	return Summary{}
}

// Run generates or reads the sources, runs them through local mode once per
// worker count per round, and vipsthumbnail beside when asked.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.setDefaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: describeMachine(), Rounds: opts.Rounds, InboxGroups: "per-image"}
	if opts.OneGroup {
		rep.InboxGroups = "one"
	}
	set, err := recipe.Load(ctx, opts.Config.RecipesDir, recipe.LoadOptions{Fallback: opts.Config.DefaultRecipe})
	if err != nil {
		return nil, fmt.Errorf("recipes in %s: %w", opts.Config.RecipesDir, err)
	}

	work, err := os.MkdirTemp("", "resizer-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var inputs []Input
	if opts.InputsDir != "" {
		inputs, err = readInputs(opts.InputsDir, opts.Images)
	} else {
		fmt.Fprintf(opts.Progress, "bench: generating %d photo-like %dx%d JPEGs\n", opts.Images, opts.Width, opts.Height)
		inputs, err = generateInputs(ctx, work, opts.Images, opts.Width, opts.Height, opts.Quality)
	}
	if err != nil {
		return nil, err
	}
	rep.Inputs = describeInputs(inputs, opts.InputsDir)

	// Which recipe each source gets, found the way the daemon finds it.
	recipes := make([]*recipe.Recipe, len(inputs))
	for i, in := range inputs {
		r, ok := set.Match(inputKey("run", in.Name))
		if !ok {
			return nil, fmt.Errorf("no recipe in %s matches %s", opts.Config.RecipesDir, inputKey("run", in.Name))
		}
		recipes[i] = r
		if !slices.ContainsFunc(rep.Recipes, func(ri RecipeInfo) bool { return ri.Name == r.Name }) {
			ri := RecipeInfo{Name: r.Name}
			for _, o := range r.Outputs {
				ri.Outputs = append(ri.Outputs, o.Name)
			}
			rep.Recipes = append(rep.Recipes, ri)
		}
	}
	var vb *vipsBench
	if opts.Vips != "" {
		if vb, err = newVipsBench(ctx, opts.Vips, inputs, recipes, filepath.Join(work, "vips")); err != nil {
			return nil, err
		}
	}

	cfg := opts.Config
	cfg.TempDir = filepath.Join(work, "tmp")
	cfg.AllowedBuckets = []string{cfg.Bucket, sourceBucket}
	cfg.MetricsAddr = ""
	cfg.RecipesReloadInterval = 0 // the files do not change during a bench
	cfg.WaitTime = config.Duration(time.Second)
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	for _, w := range opts.Workers {
		t, err := startTarget(ctx, cfg, w, opts.Logger)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
		// One image first, not counted: the first job of a process pays for
		// lazily initialized state (encoder tables, plugin connections,
		// shared-memory files) that later ones find ready.
		if _, err := t.run(ctx, "warmup", inputs[:1], opts.OneGroup, opts.Timeout); err != nil {
			return nil, fmt.Errorf("warm-up with %d workers: %w", w, err)
		}
	}

	results := make([]workersAcc, len(targets))
	var ours map[string]outbox.Record // of the first pass, for the size check
	for round := 1; round <= opts.Rounds; round++ {
		// Worker counts take turns within a round, so that a change in the
		// machine's load shows in all of them rather than in one.
		for i, t := range targets {
			id := fmt.Sprintf("r%d-w%d", round, t.workers)
			res, err := t.run(ctx, id, inputs, opts.OneGroup, opts.Timeout)
			if err != nil {
				return nil, fmt.Errorf("round %d, %d workers: %w", round, t.workers, err)
			}
			results[i].add(res)
			fmt.Fprintf(opts.Progress, "bench: round %d/%d, %d %s: %d images in %.2f s, %.2f images/s\n",
				round, opts.Rounds, t.workers, plural(t.workers, "worker", "workers"), len(inputs),
				res.wall.Seconds(), float64(len(inputs))/res.wall.Seconds())
			if ours == nil {
				ours = map[string]outbox.Record{}
				for j, in := range inputs {
					ours[in.Name] = res.records[j]
				}
			}
		}
		if vb != nil {
			for _, w := range opts.Workers {
				if err := vb.pass(ctx, w, opts.Progress, round, opts.Rounds); err != nil {
					return nil, err
				}
			}
		}
	}
	for i, t := range targets {
		rep.Workers = append(rep.Workers, results[i].result(t.workers))
	}
	if vb != nil {
		rep.Vips = vb.report(rep.Workers, ours)
	}
	return rep, nil
}

// workersAcc gathers the rounds of one worker count.
type workersAcc struct {
	wall, ips, mps, cpu []float64
	stages              map[string][]float64
	mem                 *Memory
}

func (a *workersAcc) add(r runResult) {
	n := float64(len(r.records))
	mp := 0.0
	if a.stages == nil {
		a.stages = map[string][]float64{}
	}
	for _, rec := range r.records {
		mp += float64(rec.Source.Width) * float64(rec.Source.Height) / 1e6
		for _, s := range Stages {
			a.stages[s] = append(a.stages[s], stageValue(rec.Timings, s))
		}
	}
	secs := r.wall.Seconds()
	a.wall = append(a.wall, secs)
	a.ips = append(a.ips, n/secs)
	a.mps = append(a.mps, mp/secs)
	a.cpu = append(a.cpu, float64(r.cpu.Milliseconds())/n)
	if r.mem != nil && (a.mem == nil || r.mem.PerJob > a.mem.PerJob) {
		a.mem = r.mem
	}
}

func (a *workersAcc) result(workers int) WorkersResult {
	w := WorkersResult{
		Workers:             workers,
		WallSeconds:         SpreadOf(a.wall),
		ImagesPerSecond:     SpreadOf(a.ips),
		MegapixelsPerSecond: SpreadOf(a.mps),
		CPUPerImageMs:       SpreadOf(a.cpu),
		Memory:              a.mem,
	}
	for _, s := range Stages {
		w.Stages = append(w.Stages, StageSummary{Stage: s, Summary: Summarize(a.stages[s])})
	}
	return w
}

func describeInputs(inputs []Input, dir string) InputsInfo {
	info := InputsInfo{Count: len(inputs), Generated: dir == "", Dir: dir}
	for i, in := range inputs {
		info.Megapixels += in.Megapixels()
		info.Bytes += int64(len(in.Body))
		size := strconv.Itoa(in.Width) + "x" + strconv.Itoa(in.Height)
		switch {
		case i == 0:
			info.Size = size
		case info.Size != size:
			info.Size = "mixed"
		}
	}
	return info
}

// vipsBench runs vipsthumbnail over the inputs, beside the daemon.
type vipsBench struct {
	path, version string
	jobs          []vipsJob
	recipes       []VipsRecipe
	dir           string
	byWorkers     map[int]*vipsAcc
	order         []int
}

type vipsAcc struct {
	ips, cpu []float64
	perImage []float64 // ms
	maxRSS   int64
}

// VipsReport is the libvips side of the comparison.
type VipsReport struct {
	Path    string       `json:"path"`
	Version string       `json:"version"`
	Recipes []VipsRecipe `json:"recipes"`
	// Workers has, for each worker count of the daemon, vipsthumbnail run
	// with as many images at once.
	Workers []VipsWorkers `json:"workers"`
	// SizeMismatches list outputs whose size differs between the two.
	SizeMismatches []string `json:"size_mismatches,omitempty"`
}

// VipsRecipe is how one recipe's outputs map to vipsthumbnail.
type VipsRecipe struct {
	Recipe   string        `json:"recipe"`
	Commands []VipsCommand `json:"commands"`
	Unmapped []Unmapped    `json:"unmapped,omitempty"`
}

// VipsWorkers is vipsthumbnail with some images at once, against the
// daemon with as many workers.
type VipsWorkers struct {
	Workers         int    `json:"workers"`
	ImagesPerSecond Spread `json:"images_per_second"`
	// PerImageMs is the time of one image's commands, one after the other.
	PerImageMs    Summary `json:"per_image_ms"`
	CPUPerImageMs Spread  `json:"cpu_per_image_ms"`
	// PeakRSS is the largest vipsthumbnail process, in bytes.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// ThroughputRatio is our images/s over vips's (medians); under 1, we
	// make fewer. TimeRatio is our median per-image time (the record's
	// total) over vips's; over 1, we take longer.
	ThroughputRatio float64 `json:"throughput_ratio"`
	TimeRatio       float64 `json:"time_ratio"`
}

func newVipsBench(ctx context.Context, path string, inputs []Input, recipes []*recipe.Recipe, dir string) (*vipsBench, error) {
	vb := &vipsBench{path: path, version: vipsVersion(ctx, path), dir: dir, byWorkers: map[int]*vipsAcc{}}
	mapped := map[*recipe.Recipe][]VipsCommand{}
	for i, in := range inputs {
		r := recipes[i]
		cmds, seen := mapped[r]
		if !seen {
			var unmapped []Unmapped
			cmds, unmapped = MapRecipe(r)
			mapped[r] = cmds
			vb.recipes = append(vb.recipes, VipsRecipe{Recipe: r.Name, Commands: cmds, Unmapped: unmapped})
		}
		if len(cmds) > 0 {
			vb.jobs = append(vb.jobs, vipsJob{input: in, cmds: cmds})
		}
	}
	if len(vb.jobs) == 0 {
		return nil, errors.New("--compare vips: no output of the recipes maps to vipsthumbnail (see the recipe outputs: a single resize or thumbnail step to JPEG, PNG or WebP maps)")
	}
	// One image first, not counted, as for the daemon: the first start
	// of vipsthumbnail reads libvips and its modules from disk.
	if _, err := runVips(ctx, path, vb.jobs[:1], filepath.Join(dir, "warmup"), 1); err != nil {
		return nil, fmt.Errorf("vipsthumbnail: %w", err)
	}
	return vb, nil
}

// pass runs every job once, w at a time.
func (vb *vipsBench) pass(ctx context.Context, w int, progress io.Writer, round, rounds int) error {
	res, err := runVips(ctx, vb.path, vb.jobs, filepath.Join(vb.dir, strconv.Itoa(w)), w)
	if err != nil {
		return fmt.Errorf("vipsthumbnail: %w", err)
	}
	acc := vb.byWorkers[w]
	if acc == nil {
		acc = &vipsAcc{}
		vb.byWorkers[w] = acc
		vb.order = append(vb.order, w)
	}
	n := float64(len(vb.jobs))
	acc.ips = append(acc.ips, n/res.wall.Seconds())
	acc.cpu = append(acc.cpu, float64(res.cpu.Milliseconds())/n)
	for _, d := range res.perImage {
		acc.perImage = append(acc.perImage, float64(d.Microseconds())/1000)
	}
	acc.maxRSS = max(acc.maxRSS, res.maxRSS)
	fmt.Fprintf(progress, "bench: round %d/%d, vipsthumbnail %d at a time: %d images in %.2f s, %.2f images/s\n",
		round, rounds, w, len(vb.jobs), res.wall.Seconds(), n/res.wall.Seconds())
	return nil
}

func (vb *vipsBench) report(ours []WorkersResult, first map[string]outbox.Record) *VipsReport {
	r := &VipsReport{Path: vb.path, Version: vb.version, Recipes: vb.recipes}
	for _, w := range vb.order {
		acc := vb.byWorkers[w]
		vw := VipsWorkers{Workers: w, ImagesPerSecond: SpreadOf(acc.ips), PerImageMs: Summarize(acc.perImage),
			CPUPerImageMs: SpreadOf(acc.cpu), PeakRSS: acc.maxRSS}
		for _, o := range ours {
			if o.Workers != w {
				continue
			}
			if vw.ImagesPerSecond.Median > 0 {
				vw.ThroughputRatio = o.ImagesPerSecond.Median / vw.ImagesPerSecond.Median
			}
			if vw.PerImageMs.P50 > 0 {
				vw.TimeRatio = o.Stage("total").P50 / vw.PerImageMs.P50
			}
		}
		r.Workers = append(r.Workers, vw)
	}
	if len(vb.order) > 0 {
		r.SizeMismatches = compareSizes(filepath.Join(vb.dir, strconv.Itoa(vb.order[0])), vb.jobs, first)
	}
	return r
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
