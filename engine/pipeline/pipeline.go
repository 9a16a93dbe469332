// Package pipeline turns one inbox message into outputs and an outbox
// record: decode the message, pick the recipe, download the source, render
// every output, upload, report.
package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/budget"
	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/message"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/queue"
	"github.com/seed62486500/resizer/engine/recipe"
	"github.com/seed62486500/resizer/engine/storage"
	"github.com/seed62486500/resizer/plugins/sdk"
)

// Error codes written to failure and skip records.
const (
	CodeMalformedMessage = "malformed_message"
	CodeBucketNotAllowed = "bucket_not_allowed"
	CodeNoRecipe         = "no_recipe"
	CodeNotFound         = "not_found"
	CodeSuperseded       = "superseded"
	CodeObjectTooLarge   = "object_too_large"
	CodeUnsupported      = "unsupported_format"
	CodeCorrupt          = "corrupt_image"
	CodeImageTooLarge    = "image_too_large"
	CodeInvalidStep      = "invalid_step"
	CodeUnsupportedInput = "unsupported_input"
	CodeAsset            = "asset_unavailable"
	CodeOutputKeyTooLong = "output_key_too_long"
)

// maxKeyBytes is S3's limit on the length of an object key, in bytes of
// UTF-8. A longer output key is refused by S3 with a client error, which
// retrying cannot fix.
const maxKeyBytes = 1024

// Plugins runs plugin operations: the plugin host.
type Plugins interface {
	// Operation returns the declared spec of an operation.
	Operation(op string) (sdk.Operation, string, bool)
	Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error)
}

// Options configure a Pipeline.
type Options struct {
	DefaultBucket  string   // for messages that carry only a key
	AllowedBuckets []string // sources outside these are refused
	OutputPrefix   string   // outputs go here; keys under it are never sources
	CacheControl   string
	Limits         imaging.Limits
	Plugins        Plugins        // every step of every output runs here
	Assets         *Assets        // files that steps name (watermark images)
	Budget         *budget.Pixels // decoded pixels in flight, across jobs
	// SourceImage, when set, allocates the w×h image the decoded source
	// is converted into, in memory that plugin processes map without a
	// copy (pluginhost.Host.NewImage); release frees it once the outputs
	// are made. Nil, or an error, means the Go heap.
	SourceImage func(w, h int) (img *image.NRGBA, release func(), err error)
	// Observe, when set, is told what became of every event (for metrics).
	Observe func(Outcome)
	Logger  hclog.Logger

	// Background is what JPEG outputs flatten transparency onto when their
	// recipe names no background; nil is white.
	Background color.Color
}

// Outcome is what became of one inbox event.
type Outcome struct {
	Shape message.Shape // the body's shape; "" for a malformed body
	Kind  message.Kind
	Key   string
	// Record is the outbox record written, nil when none was: the event was
	// ignored, or it failed transiently (Err).
	Record *outbox.Record
	Err    error
	// Steps holds the time spent in each plugin operation, summed over the
	// outputs.
	Steps map[string]time.Duration
}

func (p *Pipeline) observe(o Outcome) {
	if p.opts.Observe != nil {
		p.opts.Observe(o)
	}
}

// Pipeline handles inbox messages. It is safe for concurrent use.
type Pipeline struct {
	store   *storage.Store
	outbox  *outbox.Sender
	recipes atomic.Pointer[recipe.Set]
	opts    Options
	log     hclog.Logger
	keys    keyLocks
	seen    sequencers
}

// New returns a Pipeline using recipes from set.
func New(store *storage.Store, sender *outbox.Sender, set *recipe.Set, opts Options) *Pipeline {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Budget == nil {
		opts.Budget = budget.New(max(opts.Limits.MaxPixels, imaging.DefaultMaxPixels))
	}
	if len(opts.AllowedBuckets) == 0 && opts.DefaultBucket != "" {
		opts.AllowedBuckets = []string{opts.DefaultBucket}
	}
	p := &Pipeline{store: store, outbox: sender, opts: opts, log: opts.Logger}
	p.recipes.Store(set)
	return p
}

// SetRecipes swaps the recipe set used by jobs that start from now on.
func (p *Pipeline) SetRecipes(set *recipe.Set) { p.recipes.Store(set) }

// Recipes is the recipe set new jobs use.
func (p *Pipeline) Recipes() *recipe.Set { return p.recipes.Load() }

// Handle implements queue.Handler.
func (p *Pipeline) Handle(ctx context.Context, m queue.Message) queue.Action {
	log := p.log.With("msg_id", m.ID)
	body, err := message.Decode(m.Body, p.opts.DefaultBucket)
	if err != nil {
		log.Error("malformed inbox message; reporting and deleting it", "error", err)
		rec := outbox.Record{
			Status:    outbox.StatusFailed,
			MessageID: m.ID,
			Error:     &outbox.Error{Code: CodeMalformedMessage, Message: err.Error()},
			Time:      time.Now().UTC(),
		}
		if err := p.outbox.Send(ctx, rec, outbox.DedupID("", "", "message:"+m.ID, "")); err != nil {
			log.Error("could not write the failure record; the message will be retried", "error", err)
			p.observe(Outcome{Err: err})
			return queue.Retry
		}
		p.observe(Outcome{Record: &rec})
		return queue.Delete
	}
	action := queue.Delete
	for _, ev := range body.Events {
		elog := log.With("key", ev.Key, "bucket", ev.Bucket)
		out := Outcome{Shape: body.Shape, Kind: ev.Kind, Key: ev.Key}
		switch ev.Kind {
		case message.KindTest:
			elog.Info("S3 test event acknowledged", "shape", body.Shape)
			p.observe(out)
			continue
		case message.KindCreated:
		default:
			elog.Info("event ignored: not an object creation", "event", ev.Name)
			p.observe(out)
			continue
		}
		err := p.processEvent(ctx, elog, m, ev, &out)
		out.Err = err
		p.observe(out)
		if err != nil {
			if ctx.Err() != nil {
				return queue.Release
			}
			elog.Warn("transient failure; the message will be retried", "error", err, "receive_count", m.ReceiveCount)
			action = queue.Retry
		}
	}
	return action
}

// LogFields names the object keys a message is about, for the consumer's
// log lines (see queue.Options.LogFields).
func (p *Pipeline) LogFields(m queue.Message) []any {
	body, err := message.Decode(m.Body, p.opts.DefaultBucket)
	if err != nil || len(body.Events) == 0 {
		return []any{"key", ""}
	}
	keys := make([]string, len(body.Events))
	for i, ev := range body.Events {
		keys[i] = ev.Key
	}
	if len(keys) == 1 {
		return []any{"key", keys[0]}
	}
	return []any{"key", keys}
}

// processEvent handles one object-created event. It returns an error only
// for transient failures; permanent ones are reported to the outbox.
func (p *Pipeline) processEvent(ctx context.Context, log hclog.Logger, m queue.Message, ev message.Event, out *Outcome) error {
	start := time.Now()
	rec := outbox.Record{
		MessageID: m.ID,
		Source: outbox.Source{
			Bucket: ev.Bucket, Key: ev.Key, VersionID: ev.VersionID, ETag: ev.ETag, Bytes: max(ev.Size, 0),
		},
	}
	if strings.HasPrefix(ev.Key, p.opts.OutputPrefix) {
		log.Debug("ignored: the key is under the output prefix", "prefix", p.opts.OutputPrefix)
		return nil
	}
	if !slices.Contains(p.opts.AllowedBuckets, ev.Bucket) {
		return p.report(ctx, log, out, rec, outbox.StatusFailed, CodeBucketNotAllowed,
			fmt.Sprintf("bucket %q is not in the allowed buckets", ev.Bucket), start)
	}
	r, ok := p.recipes.Load().Match(ev.Key)
	if !ok {
		return p.report(ctx, log, out, rec, outbox.StatusSkipped, CodeNoRecipe, "no recipe matches the key", start)
	}
	rec.Recipe = &outbox.RecipeRef{Name: r.Name, Digest: r.Digest()}
	log = log.With("recipe", r.Name)

	// Two events for one key in flight at once: run them one after the
	// other, and let an older upload (by S3 sequencer) give way to a newer
	// one already done.
	unlock := p.keys.lock(ev.Bucket + "/" + ev.Key)
	defer unlock()
	if p.seen.newerThan(ev.Bucket+"/"+ev.Key, ev.Sequencer) {
		return p.report(ctx, log, out, rec, outbox.StatusSkipped, CodeSuperseded,
			"a newer upload of the key was already processed", start)
	}

	t := time.Now()
	obj, err := p.store.Fetch(ctx, ev.Bucket, ev.Key, ev.VersionID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return p.report(ctx, log, out, rec, outbox.StatusSkipped, CodeNotFound, "the object no longer exists", start)
	case errors.Is(err, storage.ErrTooLarge):
		return p.report(ctx, log, out, rec, outbox.StatusFailed, CodeObjectTooLarge, err.Error(), start)
	case err != nil:
		return err
	}
	defer obj.Close()
	rec.Timings.Download = outbox.Millis(time.Since(t))
	rec.Source.ETag, rec.Source.VersionID, rec.Source.Bytes = obj.ETag, obj.VersionID, obj.Size

	// The header says how many pixels decoding will hold: wait for that
	// much of the budget before decoding.
	info, err := imaging.Probe(obj.File, p.opts.Limits)
	dopts := p.decodeOptions(r, info)
	if err == nil {
		need := int64(info.Width) * int64(info.Height)
		if dopts.Animation == imaging.AllFrames {
			need = min(need*int64(info.Frames), p.opts.Budget.Max()) // the animation cap is imaging's to enforce
		}
		var release func()
		release, err = p.opts.Budget.Acquire(ctx, need)
		if err != nil {
			return fmt.Errorf("wait for pixel budget for %q: %w", ev.Key, err)
		}
		defer release()
		_, err = obj.File.Seek(0, io.SeekStart)
	}
	t = time.Now()
	var src *imaging.Decoded
	if err == nil {
		src, err = imaging.DecodeWith(obj.File, dopts)
	}
	if err != nil {
		var ierr *imaging.Error
		if errors.As(err, &ierr) {
			return p.report(ctx, log, out, rec, outbox.StatusFailed, imageErrorCode(ierr), ierr.Error(), start)
		}
		return fmt.Errorf("decode %q: %w", ev.Key, err)
	}
	rec.Timings.Decode = outbox.Millis(time.Since(t))
	info = src.Info
	rec.Source.Width, rec.Source.Height, rec.Source.Format = info.Width, info.Height, info.Format

	rendered, err := p.render(ctx, &rec, r, src, out)
	var perm *permanentError
	if errors.As(err, &perm) {
		return p.report(ctx, log, out, rec, outbox.StatusFailed, perm.code, perm.Error(), start)
	}
	if err != nil {
		return err
	}

	t = time.Now()
	for i, out := range rendered {
		_, err := p.store.Put(ctx, storage.PutInput{
			Bucket:       ev.Bucket,
			Key:          out.Key,
			Body:         out.body,
			ContentType:  out.ContentType,
			CacheControl: out.cacheControl,
			Metadata:     p.outputMetadata(rec, r),
		})
		if err != nil {
			return err
		}
		rec.Outputs[i].Bytes = int64(len(out.body))
	}
	rec.Timings.Upload = outbox.Millis(time.Since(t))

	rec.Status = outbox.StatusProcessed
	rec.Timings.Total = outbox.Millis(time.Since(start))
	rec.Time = time.Now().UTC()
	if err := p.outbox.Send(ctx, rec, dedupID(rec)); err != nil {
		return err
	}
	out.Record = &rec
	p.seen.record(ev.Bucket+"/"+ev.Key, ev.Sequencer)
	log.Info("processed", "outputs", len(rec.Outputs), "ms", rec.Timings.Total)
	return nil
}

type renderedOutput struct {
	outbox.Output
	body         []byte
	cacheControl string
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct {
	code string
	err  error
}

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// render produces every output of r from the one decoded source: each
// output's steps run through the plugin host, in order, each on the result
// of the one before, then the output is encoded. Outputs are independent,
// so up to GOMAXPROCS of them render at once; the first failure cancels the
// others and is the one returned.
func (p *Pipeline) render(ctx context.Context, rec *outbox.Record, r *recipe.Recipe, decoded *imaging.Decoded, out *Outcome) ([]renderedOutput, error) {
	if out.Steps == nil {
		out.Steps = map[string]time.Duration{}
	}
	// The colour views are shared between outputs: make them here, once,
	// before the outputs run.
	views := &sourceViews{decoded: decoded, alloc: p.opts.SourceImage}
	defer views.release()
	starts := make([]outputStart, len(r.Outputs))
	for i, o := range r.Outputs {
		starts[i].pixels, starts[i].icc = views.forOutput(o)
	}
	if views.asDecoded != nil {
		// The same pixels as NRGBA: let the decoder's image (a JPEG's
		// YCbCr planes) be collected while the outputs render.
		decoded.Image = views.asDecoded
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, runtime.GOMAXPROCS(0))
		results  = make([]renderResult, len(r.Outputs))
	)
	for i, o := range r.Outputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				return
			}
			res := p.renderOutput(ctx, *rec, r, o, decoded, starts[i])
			results[i] = res
			if res.err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = res.err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err() // the caller's context ended before an output started
	}
	if firstErr != nil {
		return nil, firstErr
	}

	var transform, encode time.Duration
	outs := make([]renderedOutput, 0, len(r.Outputs))
	for _, res := range results {
		transform += res.transform
		encode += res.encode
		for op, d := range res.steps {
			out.Steps[op] += d
		}
		outs = append(outs, res.output)
		rec.Outputs = append(rec.Outputs, res.output.Output)
	}
	rec.Timings.Transform = outbox.Millis(transform)
	rec.Timings.Encode = outbox.Millis(encode)
	return outs, nil
}

// outputStart is the pixels an output's steps start from, and the ICC
// profile they are in (nil for sRGB).
type outputStart struct {
	pixels *image.NRGBA
	icc    []byte
}

// renderResult is one output rendered, or why it could not be.
type renderResult struct {
	output            renderedOutput
	steps             map[string]time.Duration
	transform, encode time.Duration
	err               error
}

// renderOutput runs output o's steps and encodes the result. rec is read
// only (the source it names).
func (p *Pipeline) renderOutput(ctx context.Context, rec outbox.Record, r *recipe.Recipe, o recipe.Output, decoded *imaging.Decoded, start outputStart) (res renderResult) {
	res.steps = map[string]time.Duration{}
	eo := encodeOptions(o, decoded.Info.Format)
	eo.Background = cmp.Or[color.Color](nrgbaOrNil(o.Background), p.opts.Background)
	eo.Notices = decoded.Notices
	var frames []imaging.Frame
	t := time.Now()
	if decoded.Frames != nil && o.Animated && eo.Format == imaging.GIF {
		// Every frame through the steps; GIF carries no profile, so the
		// encoder converts to sRGB where it must.
		frames = make([]imaging.Frame, len(decoded.Frames))
		for i, fr := range decoded.Frames {
			if err := ctx.Err(); err != nil {
				res.err = err
				return res
			}
			dst, err := p.runSteps(ctx, &rec, o, fr.Image, res.steps)
			if err != nil {
				res.err = fmt.Errorf("frame %d: %w", i, err)
				return res
			}
			frames[i] = imaging.Frame{Image: dst, Delay: fr.Delay, Disposal: fr.Disposal}
		}
	} else {
		dst, err := p.runSteps(ctx, &rec, o, start.pixels, res.steps)
		if err != nil {
			res.err = err
			return res
		}
		frames = []imaging.Frame{{Image: dst}}
		if !o.Metadata.StripICC {
			eo.ICC = start.icc
		}
	}
	res.transform = time.Since(t)

	t = time.Now()
	var buf bytes.Buffer
	var err error
	if len(frames) > 1 {
		err = imaging.EncodeAnimation(&buf, frames, decoded.LoopCount)
	} else {
		err = p.encodeOutput(&buf, frames[0].Image, eo)
	}
	if err != nil {
		res.err = encodeError(o.Name, rec.Source.Key, err)
		return res
	}
	res.encode = time.Since(t)
	b := frames[0].Image.Bounds()
	written := outbox.Output{
		Name: o.Name,
		Key: o.KeyOf(p.opts.OutputPrefix, recipe.KeyVars{
			Source: rec.Source.Key, Recipe: r.Name, Ext: imaging.Ext(eo.Format), Hash: contentHash(buf.Bytes()),
		}),
		Width:       b.Dx(),
		Height:      b.Dy(),
		Format:      eo.Format,
		ContentType: cmp.Or(o.ContentType, imaging.ContentType(eo.Format)),
	}
	if len(written.Key) > maxKeyBytes {
		res.err = &permanentError{CodeOutputKeyTooLong, fmt.Errorf("output %q of %q: its key is %d bytes long, over S3's limit of %d",
			o.Name, rec.Source.Key, len(written.Key), maxKeyBytes)}
		return res
	}
	res.output = renderedOutput{Output: written, body: buf.Bytes(), cacheControl: cmp.Or(o.CacheControl, p.opts.CacheControl)}
	return res
}

// runSteps runs the steps of output o, in order, each on the result of the
// one before.
func (p *Pipeline) runSteps(ctx context.Context, rec *outbox.Record, o recipe.Output, src *image.NRGBA, steps map[string]time.Duration) (*image.NRGBA, error) {
	dst := src
	for _, st := range o.Plan() {
		ts := time.Now()
		next, err := p.step(ctx, rec.Source.Bucket, st, dst)
		steps[st.Op] += time.Since(ts)
		if err != nil {
			return nil, fmt.Errorf("output %q of %q: %w", o.Name, rec.Source.Key, err)
		}
		dst = next
	}
	return dst, nil
}

// decodeOptions are how a source for recipe r is decoded, given its header:
// profiles are kept when any output keeps its colours (the others convert
// their own copy), and every frame is decoded when an output is animated.
func (p *Pipeline) decodeOptions(r *recipe.Recipe, info imaging.Info) imaging.DecodeOptions {
	opts := imaging.DecodeOptions{Limits: p.opts.Limits}
	for _, o := range r.Outputs {
		if o.Color == recipe.ColorKeep {
			opts.Color = imaging.KeepProfile
		}
		if o.Animated && info.Frames > 1 {
			opts.Animation = imaging.AllFrames
		}
	}
	return opts
}

// sourceViews hands each output the decoded source in the colour space it
// asks for, converting at most once per source.
type sourceViews struct {
	decoded   *imaging.Decoded
	alloc     func(w, h int) (*image.NRGBA, func(), error)
	free      func() // releases asDecoded when alloc made it
	asDecoded *image.NRGBA
	srgb      *image.NRGBA
	srgbICC   []byte // a profile the sRGB view is still in (one that cannot be converted)
}

// forOutput returns the pixels output o starts from, and the ICC profile
// they are in (nil for sRGB).
func (v *sourceViews) forOutput(o recipe.Output) (*image.NRGBA, []byte) {
	d := v.decoded
	if v.asDecoded == nil {
		v.asDecoded = v.convert(d.Image)
	}
	// Kept colours, or a decode that already converted what it could.
	if o.Color == recipe.ColorKeep || d.ICC == nil || d.Converted {
		return v.asDecoded, d.ICC
	}
	if v.srgb == nil {
		img, still := imaging.ToSRGB(v.asDecoded, d.ICC)
		v.srgb, v.srgbICC = imaging.ToNRGBA(img), still
	}
	return v.srgb, v.srgbICC
}

// convert makes the decoded image NRGBA, in memory from alloc when it can.
func (v *sourceViews) convert(img image.Image) *image.NRGBA {
	if v.alloc != nil {
		size := img.Bounds().Size()
		if dst, free, err := v.alloc(size.X, size.Y); err == nil {
			imaging.ToNRGBAInto(dst, img)
			v.free = free
			return dst
		}
	}
	return imaging.ToNRGBA(img)
}

// release frees what convert allocated; the views must not be used after.
// The decoded image stops naming those pixels too.
func (v *sourceViews) release() {
	if v.free == nil {
		return
	}
	if v.decoded.Image == image.Image(v.asDecoded) {
		v.decoded.Image = nil
	}
	v.free()
	v.free = nil
	v.asDecoded = nil
}

func nrgbaOrNil(c *color.NRGBA) color.Color {
	if c == nil {
		return nil
	}
	return *c
}

// encodeError wraps an encoder failure. One about the image (an output
// format that cannot carry it) is permanent: the same bytes fail again.
func encodeError(output, key string, err error) error {
	err = fmt.Errorf("encode output %q of %q: %w", output, key, err)
	var ierr *imaging.Error
	if errors.As(err, &ierr) {
		return &permanentError{imageErrorCode(ierr), err}
	}
	return err
}

// step runs one plugin operation. Errors the plugin reports about the
// parameters or the input are permanent; anything else (a crashed or hung
// plugin) is transient.
func (p *Pipeline) step(ctx context.Context, bucket string, st recipe.Step, img *image.NRGBA) (*image.NRGBA, error) {
	spec, _, ok := p.opts.Plugins.Operation(st.Op)
	if !ok {
		return nil, &permanentError{CodeInvalidStep, fmt.Errorf("no plugin offers operation %q", st.Op)}
	}
	req := sdk.Request{Operation: st.Op, Params: sdk.Params(st.Params), Image: img}
	for _, param := range spec.Params {
		ref, isRef := st.Params[param.Name].(string)
		if !param.Asset || !isRef {
			continue
		}
		data, err := p.opts.Assets.Load(ctx, bucket, ref)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrTooLarge) || errors.Is(err, fs.ErrNotExist) {
				return nil, &permanentError{CodeAsset, fmt.Errorf("%s: %s %q: %w", st.Op, param.Name, ref, err)}
			}
			return nil, err
		}
		if req.Assets == nil {
			req.Assets = map[string][]byte{}
		}
		req.Assets[param.Name] = data
	}
	out, err := p.opts.Plugins.Transform(ctx, req)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, sdk.ErrInvalidParams):
		return nil, &permanentError{CodeInvalidStep, fmt.Errorf("%s: %w", st.Op, err)}
	case errors.Is(err, sdk.ErrUnsupportedInput):
		return nil, &permanentError{CodeUnsupportedInput, fmt.Errorf("%s: %w", st.Op, err)}
	}
	return nil, fmt.Errorf("%s: %w", st.Op, err)
}

// maxKeyMetadata is the longest escaped source key written as metadata.
const maxKeyMetadata = 1024

// outputMetadata links an output back to its source. S3 metadata travels in
// HTTP headers, so the key is URL-escaped to stay ASCII.
func (p *Pipeline) outputMetadata(rec outbox.Record, r *recipe.Recipe) map[string]string {
	md := map[string]string{
		"source-bucket": rec.Source.Bucket,

		"recipe":        r.Name,
		"recipe-digest": r.Digest(),
	}
	// S3 allows 2 KB of user metadata in all; an escaped key can be three
	// times the 1024 bytes of the key itself. A long one is recorded by its
	// digest rather than make the upload fail.
	if k := url.QueryEscape(rec.Source.Key); len(k) <= maxKeyMetadata {
		md["source-key"] = k
	} else {
		sum := sha256.Sum256([]byte(rec.Source.Key))
		md["source-key-sha256"] = hex.EncodeToString(sum[:])
	}
	if rec.Source.ETag != "" {
		md["source-etag"] = rec.Source.ETag
	}
	if rec.Source.VersionID != "" {
		md["source-version"] = rec.Source.VersionID
	}
	return md
}

// report writes a failure or skip record. Only a failure to write the record
// is returned: that is transient and the message is retried.
func (p *Pipeline) report(ctx context.Context, log hclog.Logger, out *Outcome, rec outbox.Record, status, code, msg string, start time.Time) error {
	rec.Status = status
	rec.Error = &outbox.Error{Code: code, Message: msg}
	rec.Timings.Total = outbox.Millis(time.Since(start))
	rec.Time = time.Now().UTC()
	if status == outbox.StatusFailed {
		log.Error("job failed permanently; reported to the outbox", "code", code, "reason", msg)
	} else {
		log.Info("job skipped; reported to the outbox", "code", code, "reason", msg)
	}
	if err := p.outbox.Send(ctx, rec, dedupID(rec)); err != nil {
		return err
	}
	out.Record = &rec
	return nil
}

func dedupID(rec outbox.Record) string {
	version := rec.Source.VersionID
	if version == "" {
		version = rec.Source.ETag
	}
	digest := ""
	if rec.Recipe != nil {
		digest = rec.Recipe.Digest
	}
	return outbox.DedupID(rec.Source.Bucket, rec.Source.Key, version, digest)
}

func imageErrorCode(err *imaging.Error) string {
	switch err.Kind {
	case imaging.TooLarge:
		return CodeImageTooLarge
	case imaging.Corrupt:
		return CodeCorrupt
	default:
		return CodeUnsupported
	}
}
