package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/seed62486500/resizer/engine/backfill"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/recipe"
)

const backfillUsage = `Usage: resizer backfill --prefix P [--since T] [--direct] [--dry-run] [flags]

Lists the objects under the prefix and sends every source whose outputs are
not current (missing, made from another version of the source, or by another
version of its recipe) to the inbox, or with --direct processes it here.
Interrupting it is safe, and so is running it again: each run looks at S3
afresh and sends only what is still stale.

`

func cmdBackfill(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, backfillUsage)
		fs.PrintDefaults()
	}
	var cf commonFlags
	cf.register(fs)
	prefix := fs.String("prefix", "", "key `prefix` of the sources to look at (\"\" for the whole bucket)")
	since := fs.String("since", "", "only sources modified since `T`: RFC 3339 time, a date (2026-01-31) or a duration ago (72h)")
	direct := fs.Bool("direct", false, "process stale sources in this process instead of sending them to the inbox")
	dryRun := fs.Bool("dry-run", false, "print the stale sources and why, send nothing")
	concurrency := fs.Int("concurrency", 8, "sources checked at once (with --direct, processed at once: at most workers)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "resizer backfill: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if !flagGiven(fs, "prefix") {
		fmt.Fprintln(stderr, "resizer backfill: --prefix is required (--prefix \"\" for the whole bucket)")
		return exitUsage
	}
	if *direct && *dryRun {
		fmt.Fprintln(stderr, "resizer backfill: --direct and --dry-run exclude each other")
		return exitUsage
	}
	sinceTime, err := parseSince(*since, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "resizer backfill: --since: %v\n", err)
		return exitUsage
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	// A daemon may be serving metrics on this machine already.
	cfg.MetricsAddr = ""
	term := isTerminal(stderr)
	if term && cf.logLevel == "" {
		// Log lines would tear the progress bar; keep the important ones.
		cfg.LogLevel = "warn"
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signalContext()
	defer stop()

	set, err := recipe.LoadDir(cfg.RecipesDir)
	if err != nil {
		fmt.Fprintf(stderr, "resizer: load recipes: %v\n", err)
		return exitUsage
	}
	clients, err := daemon.NewClients(ctx, cfg, daemon.SDKLogger(log))
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}

	var sink backfill.Sink = backfill.NewInbox(clients.SQS, cfg.InboxURL)
	verb := "enqueued"
	switch {
	case *dryRun:
		sink = &printSink{w: stdout}
		verb = "stale (dry run: nothing sent)"
	case *direct:
		d, err := daemon.New(ctx, cfg, clients, log)
		if err != nil {
			fmt.Fprintf(stderr, "resizer: %v\n", err)
			return exitUsage
		}
		defer d.Close()
		sink = directSink{d}
		*concurrency = min(*concurrency, cfg.Workers)
		verb = "processed"
	}

	bar := &progressPrinter{w: stderr, terminal: term}
	every := 5 * time.Second
	if term {
		every = 200 * time.Millisecond
	}
	p, err := backfill.Run(ctx, clients.S3, sink, backfill.Options{
		Bucket:        cfg.Bucket,
		Prefix:        *prefix,
		Since:         sinceTime,
		OutputPrefix:  cfg.OutputPrefix,
		Recipes:       set,
		Concurrency:   *concurrency,
		Progress:      bar.print,
		ProgressEvery: every,
		Logger:        log.Named("backfill"),
	})
	bar.end()
	fmt.Fprintf(stdout, "backfill s3://%s/%s: %d listed, %d current, %d %s, %d skipped, %d failed in %s\n",
		cfg.Bucket, *prefix, p.Listed, p.Current, p.Stale, verb, p.Skipped, p.Failed, p.Elapsed.Round(time.Millisecond))
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; run it again to go on (what was sent is not sent twice)")
		}
		fmt.Fprintf(stderr, "resizer backfill: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// parseSince reads --since: an RFC 3339 time, a date (midnight UTC) or a
// duration before now. "" is no limit.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date (2006-01-02) or a duration (72h)", s)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// directSink processes each stale source with the pipeline of this process.
type directSink struct{ d *daemon.Daemon }

func (s directSink) Take(ctx context.Context, src backfill.Source) error {
	return s.d.Process(ctx, src.Bucket, src.Key)
}

// printSink lists stale sources for --dry-run.
type printSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *printSink) Take(ctx context.Context, src backfill.Source) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := fmt.Fprintf(s.w, "stale %s: %s\n", src.Key, src.Reason)
	return err
}

// progressPrinter draws the progress: a bar redrawn in place on a
// terminal, a plain line per report otherwise.
type progressPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	drawn    bool
}

func (p *progressPrinter) print(pr backfill.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", progressLine(pr, true))
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "backfill: %s\n", progressLine(pr, false))
}

func (p *progressPrinter) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// progressLine renders one report: count (of the total once listing is
// done), rate, ETA and the counts by decision; with bar, a bar in front.
func progressLine(p backfill.Progress, bar bool) string {
	var b strings.Builder
	total := "?"
	if p.ListingDone {
		total = fmt.Sprint(p.Listed)
	}
	if bar {
		const width = 24
		filled := 0
		if p.ListingDone && p.Listed > 0 {
			filled = int(p.Checked * width / p.Listed)
		}
		fmt.Fprintf(&b, "[%s%s] ", strings.Repeat("#", filled), strings.Repeat("-", width-filled))
	}
	fmt.Fprintf(&b, "%d/%s checked", p.Checked, total)
	if !p.ListingDone {
		fmt.Fprintf(&b, " (%d listed so far)", p.Listed)
	}
	fmt.Fprintf(&b, ", %.1f/s, ETA ", p.Rate())
	if eta, ok := p.ETA(); ok {
		b.WriteString(eta.Round(time.Second).String())
	} else {
		b.WriteString("?")
	}
	fmt.Fprintf(&b, ": %d stale, %d current, %d skipped, %d failed", p.Stale, p.Current, p.Skipped, p.Failed)
	return b.String()
}
