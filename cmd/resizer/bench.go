package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/seed62486500/resizer/engine/bench"
)

const benchUsage = `Usage: resizer bench [--images N] [--size WxH | --inputs DIR] [--workers 1,2] [--rounds N]
                    [--compare vips] [--json] [flags]

Runs the recipes (the default recipe, for the generated JPEGs) end to end
through local mode: each image is downloaded from the embedded S3, decoded,
made into every output, encoded, uploaded and reported to the outbox. Prints
images/s and megapixels/s per worker count, per-stage latency percentiles from
the outbox records, CPU time and peak resident memory; with --compare vips,
vipsthumbnail (libvips) on the same images for the same output boxes.

Throughput figures are medians of the rounds: close other work on the machine.
`

// workerList is a comma-separated list of worker counts.
type workerList []int

func (l *workerList) String() string {
	s := make([]string, len(*l))
	for i, n := range *l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *workerList) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("%q: want worker counts of at least 1, such as 1,2", f)
		}
		*l = append(*l, n)
	}
	return nil
}

func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w < 1 || h < 1 {
		return 0, 0, fmt.Errorf("--size %q: want WIDTHxHEIGHT, such as 4000x3000", s)
	}
	return w, h, nil
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("resizer bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, benchUsage, "\nFlags:\n"); flags.PrintDefaults() }
	var cf commonFlags
	cf.register(flags)
	images := flags.Int("images", bench.DefaultImages, "how many images to generate; with --inputs, the most to take (all when not given)")
	size := flags.String("size", fmt.Sprintf("%dx%d", bench.DefaultWidth, bench.DefaultHeight), "size of the generated images, `WxH`")
	inputs := flags.String("inputs", "", "take the images (JPEG, PNG, GIF, WebP) from this `directory` instead of generating them")
	recipes := flags.String("recipes", "", "recipes `directory` (default: the configuration's recipes_dir, ./recipes)")
	workers := workerList{1, 2}
	flags.Var(&workers, "workers", "worker counts to measure, comma-separated; each runs the whole set")
	rounds := flags.Int("rounds", bench.DefaultRounds, "passes over the set per worker count; figures are their medians")
	compare := flags.String("compare", "", `also run another implementation on the same images: "vips" (vipsthumbnail)`)
	oneGroup := flags.Bool("one-group", false, "send every inbox message in one message group, as the default EventBridge rule does")
	asJSON := flags.Bool("json", false, "print the report as JSON")
	timeout := flags.Duration("timeout", bench.DefaultTimeout, "longest wait for one pass over the set")
	if err := flags.Parse(args); err != nil {
		return exitUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "resizer bench: unexpected argument %q\n", flags.Arg(0))
		return exitUsage
	}
	w, h, err := parseSize(*size)
	if err != nil {
		fmt.Fprintf(stderr, "resizer bench: %v\n", err)
		return exitUsage
	}
	if *images < 1 && (*inputs == "" || flagGiven(flags, "images")) || *rounds < 1 {
		fmt.Fprintln(stderr, "resizer bench: --images and --rounds take at least 1")
		return exitUsage
	}
	var vips string
	switch *compare {
	case "":
	case "vips":
		// Before anything slow: a missing tool should not cost a run.
		if vips, err = bench.FindVips(); err != nil {
			fmt.Fprintf(stderr, "resizer bench: %v\n", err)
			return exitFailure
		}
	default:
		fmt.Fprintf(stderr, "resizer bench: --compare %q: the only comparison is vips\n", *compare)
		return exitUsage
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	if *recipes != "" {
		cfg.RecipesDir = *recipes
	}
	if _, err := os.Stat(cfg.RecipesDir); errors.Is(err, fs.ErrNotExist) {
		// The default is relative: run from elsewhere, it names nothing.
		fmt.Fprintf(stderr, "resizer bench: no recipes directory %s (run it from the repository, or give --recipes DIR)\n", cfg.RecipesDir)
		return exitUsage
	}
	if cf.logLevel == "" {
		// The report is the output; the daemon speaks up only for trouble.
		cfg.LogLevel = "warn"
	}
	opts := bench.Options{
		Config:   cfg,
		Width:    w,
		Height:   h,
		Workers:  workers,
		Rounds:   *rounds,
		Vips:     vips,
		OneGroup: *oneGroup,
		Timeout:  *timeout,
		Logger:   newLogger(cfg, stderr),
		Progress: stderr,
	}
	if *inputs == "" || flagGiven(flags, "images") {
		opts.Images = *images
	}
	opts.InputsDir = *inputs

	ctx, stop := signalContext()
	defer stop()
	rep, err := bench.Run(ctx, opts)
	if err != nil {
		if errors.Is(err, ctx.Err()) && ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		fmt.Fprintf(stderr, "resizer bench: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "resizer bench: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	if err := bench.WriteText(stdout, rep); err != nil {
		return exitFailure
	}
	return exitOK
}
