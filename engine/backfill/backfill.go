// Package backfill finds existing sources whose outputs are not current and
// hands them to a Sink: the inbox (to be processed by the fleet) or the
// pipeline in this process.
//
// An output is current when it exists and its S3 metadata records the
// source's present ETag (source-etag) and the digest of the recipe that now
// matches the source (recipe-digest), as the pipeline writes them. Nothing
// else is remembered between runs: a run that is interrupted, or run twice,
// looks at S3 again and sends only what is still stale.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/recipe"
)

// Metadata keys the pipeline writes on every output.
const (
	MetaSourceETag   = "source-etag"
	MetaRecipeDigest = "recipe-digest"
)

// Source is a stale source object and why it is stale.
type Source struct {
	Bucket       string
	Key          string
	ETag         string
	Size         int64
	LastModified time.Time
	Recipe       *recipe.Recipe
	Reason       string
}

// Sink takes stale sources. Take is called concurrently; an error stops the
// run.
type Sink interface {
	Take(ctx context.Context, src Source) error
}

// Options configure a run.
type Options struct {
	Bucket string
	// Prefix limits the run to keys that start with it ("" is the bucket).
	Prefix string
	// Since, when set, leaves alone sources last modified before it.
	Since time.Time
	// OutputPrefix is where outputs live; keys under it are never sources.
	OutputPrefix string
	Recipes      *recipe.Set
	// Concurrency is the number of sources checked at once (default 8).
	Concurrency int
	// Progress, when set, is called every ProgressEvery (default 1s) and
	// once more when the run ends.
	Progress      func(Progress)
	ProgressEvery time.Duration
	Logger        hclog.Logger
}

// Progress counts what a run has done so far.
type Progress struct {
	Listed  int64 // objects listed under the prefix
	Checked int64 // objects looked at (each ends in one of the counts below)
	Current int64 // sources whose outputs are current
	Stale   int64 // sources handed to the sink
	Skipped int64 // outputs, keys no recipe matches, sources older than Since
	Failed  int64 // sources that could not be checked (see the log)
	// ListingDone is set once every object under the prefix is listed, so
	// that Listed is the total.
	ListingDone bool
	Elapsed     time.Duration
}

// Rate is objects checked per second.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Checked) / p.Elapsed.Seconds()
}

// ETA is the time left at the present rate; ok is false while the total is
// not known yet or nothing has been checked.
func (p Progress) ETA() (d time.Duration, ok bool) {
	rate := p.Rate()
	if !p.ListingDone || rate <= 0 {
		return 0, false
	}
	left := float64(p.Listed - p.Checked)
	return time.Duration(left / rate * float64(time.Second)), true
}

// S3 is the part of the S3 API a run uses.
type S3 interface {
	s3.ListObjectsV2APIClient
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

type counters struct {
	listed, checked, current, stale, skipped, failed atomic.Int64
	listingDone                                      atomic.Bool
}

func (c *counters) snapshot(start time.Time) Progress {
	return Progress{
		Listed: c.listed.Load(), Checked: c.checked.Load(), Current: c.current.Load(),
		Stale: c.stale.Load(), Skipped: c.skipped.Load(), Failed: c.failed.Load(),
		ListingDone: c.listingDone.Load(), Elapsed: time.Since(start),
	}
}

// Run lists the objects under opts.Prefix and gives every stale source to
// sink. It returns the final counts; the error is the first that stopped
// the run (listing, the sink, ctx), or a summary of the sources that could
// not be checked.
func Run(ctx context.Context, client S3, sink Sink, opts Options) (Progress, error) {
	if opts.Concurrency < 1 {
		opts.Concurrency = 8
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = time.Second
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	start := time.Now()
	var c counters
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if opts.Progress != nil {
		progressDone.Add(1)
		go func() {
			defer progressDone.Done()
			t := time.NewTicker(opts.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					opts.Progress(c.snapshot(start))
				case <-stopProgress:
					return
				}
			}
		}()
	}

	objects := make(chan Source, 1000)
	var workers sync.WaitGroup
	for range opts.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for src := range objects {
				check(ctx, client, sink, opts, log, &c, src, cancel)
			}
		}()
	}
	listErr := list(ctx, client, opts, &c, objects)
	close(objects)
	workers.Wait()
	close(stopProgress)
	progressDone.Wait()
	final := c.snapshot(start)
	if opts.Progress != nil {
		opts.Progress(final)
	}

	switch {
	case listErr != nil && context.Cause(ctx) == nil:
		return final, listErr
	case context.Cause(ctx) != nil:
		return final, context.Cause(ctx)
	case final.Failed > 0:
		return final, fmt.Errorf("%d sources could not be checked (see the log); run again to retry them", final.Failed)
	}
	return final, nil
}

func list(ctx context.Context, client S3, opts Options, c *counters, out chan<- Source) error {
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket: aws.String(opts.Bucket),
		Prefix: optional(opts.Prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", opts.Bucket, opts.Prefix, err)
		}
		for _, o := range page.Contents {
			c.listed.Add(1)
			src := Source{
				Bucket:       opts.Bucket,
				Key:          aws.ToString(o.Key),
				ETag:         strings.Trim(aws.ToString(o.ETag), `"`),
				Size:         aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified),
			}
			select {
			case out <- src:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	c.listingDone.Store(true)
	return nil
}

// check decides about one listed object and counts the decision.
func check(ctx context.Context, client S3, sink Sink, opts Options, log hclog.Logger, c *counters, src Source, stop context.CancelCauseFunc) {
	defer c.checked.Add(1)
	if ctx.Err() != nil {
		return
	}
	if strings.HasPrefix(src.Key, opts.OutputPrefix) || (!opts.Since.IsZero() && src.LastModified.Before(opts.Since)) {
		c.skipped.Add(1)
		return
	}
	r, ok := opts.Recipes.Match(src.Key)
	if !ok {
		c.skipped.Add(1)
		return
	}
	src.Recipe = r
	reason, err := staleness(ctx, client, opts, src)
	switch {
	case err != nil && ctx.Err() != nil:
		return
	case err != nil:
		c.failed.Add(1)
		log.Error("could not check the outputs of a source", "key", src.Key, "error", err)
		return
	case reason == "":
		c.current.Add(1)
		return
	}
	src.Reason = reason
	if err := sink.Take(ctx, src); err != nil {
		if ctx.Err() == nil {
			stop(fmt.Errorf("%s: %w", src.Key, err))
		}
		return
	}
	c.stale.Add(1)
	log.Debug("stale source sent", "key", src.Key, "reason", reason)
}

// staleness returns why src's outputs are not current, or "" when they are.
func staleness(ctx context.Context, client S3, opts Options, src Source) (string, error) {
	// One listing of the source's output folder finds every output,
	// whatever extension a "source"-format output got.
	folder := opts.OutputPrefix + src.Key + "/"
	existing := map[string]bool{}
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket: aws.String(src.Bucket), Prefix: aws.String(folder),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list outputs of %q: %w", src.Key, err)
		}
		for _, o := range page.Contents {
			existing[aws.ToString(o.Key)] = true
		}
	}
	digest := src.Recipe.Digest()
	for _, o := range src.Recipe.Outputs {
		key, ok := outputKey(existing, opts.OutputPrefix, src.Key, o)
		if !ok {
			return fmt.Sprintf("output %q is missing", o.Name), nil
		}
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(key)})
		var nf interface{ ErrorCode() string }
		if errors.As(err, &nf) && (nf.ErrorCode() == "NotFound" || nf.ErrorCode() == "NoSuchKey") {
			return fmt.Sprintf("output %q is missing", o.Name), nil
		}
		if err != nil {
			return "", fmt.Errorf("head output %q of %q: %w", key, src.Key, err)
		}
		switch md := head.Metadata; {
		case md[MetaRecipeDigest] != digest:
			return fmt.Sprintf("output %q was made by recipe digest %q, not %q", o.Name, md[MetaRecipeDigest], digest), nil
		case md[MetaSourceETag] != src.ETag:
			return fmt.Sprintf("output %q was made from source ETag %q, not %q", o.Name, md[MetaSourceETag], src.ETag), nil
		}
	}
	return "", nil
}

// outputKey finds output o of sourceKey among the existing keys. An output
// in the "source" format may have any extension the pipeline writes.
func outputKey(existing map[string]bool, prefix, sourceKey string, o recipe.Output) (string, bool) {
	exts := []string{o.Ext("")}
	if o.Format == recipe.FormatSource {
		exts = []string{"jpg", "png", "gif"}
	}
	for _, ext := range exts {
		if key := recipe.OutputKey(prefix, sourceKey, o, ext); existing[key] {
			return key, true
		}
	}
	return "", false
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
