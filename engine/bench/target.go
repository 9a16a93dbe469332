package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/outbox"
)

// sourceBucket holds the bench's sources. It is not the configured
// bucket, so the embedded S3 sends no events for them: the bench sends the
// inbox messages itself and chooses their message groups.
const sourceBucket = "resizer-bench-sources"

// sampleEvery is how often resident memory is read during a run.
const sampleEvery = 10 * time.Millisecond

// target is local mode with a daemon of one worker count, running.
type target struct {
	workers    int
	l          *local.Local
	stop       context.CancelFunc
	done       chan error
	pluginIdle int64 // the plugins' private memory as they started
}

func startTarget(ctx context.Context, cfg config.Config, workers int, log hclog.Logger) (*target, error) {
	cfg.Workers = workers
	l, err := local.Start(ctx, cfg, local.Options{Addr: "127.0.0.1:0", Logger: log})
	if err != nil {
		return nil, fmt.Errorf("local mode with %d workers: %w", workers, err)
	}
	if _, err := l.Clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(sourceBucket)}); err != nil {
		l.Close()
		return nil, fmt.Errorf("create bucket %s: %w", sourceBucket, err)
	}
	runCtx, stop := context.WithCancel(ctx)
	t := &target{workers: workers, l: l, stop: stop, done: make(chan error, 1)}
	go func() { t.done <- l.Daemon.Run(runCtx) }()
	for _, p := range t.plugins() {
		if m, err := readMem(p.PID); err == nil {
			t.pluginIdle += m.private()
		}
	}
	return t, nil
}

// close stops the daemon, its plugins and the endpoints.
func (t *target) close() error {
	t.stop()
	err := <-t.done
	return errors.Join(err, t.l.Close())
}

// plugins lists the plugin processes running now.
func (t *target) plugins() []process {
	var out []process
	for _, p := range t.l.Daemon.Plugins().Plugins() {
		if p.PID > 0 {
			out = append(out, process{Name: p.Name, PID: p.PID})
		}
	}
	return out
}

// runResult is one pass of the daemon over the inputs.
type runResult struct {
	records []outbox.Record // in the order of the inputs
	wall    time.Duration   // first message sent to the last record written
	cpu     time.Duration   // of this process and the plugins
	mem     *Memory         // nil where /proc is not there
}

// inputKey is where run id puts an input. It sits under uploads/, as the
// reference deployment's uploads do, so recipes written for those match.
func inputKey(id, name string) string { return "uploads/bench/" + id + "/" + name }

// run uploads the inputs, sends one inbox message per input, and waits for
// every outbox record. The clock starts at the first message, so uploading
// is not counted (the daemon's download is).
func (t *target) run(ctx context.Context, id string, inputs []Input, oneGroup bool, timeout time.Duration) (runResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	keys := make([]string, len(inputs))
	for i, in := range inputs {
		keys[i] = inputKey(id, in.Name)
		_, err := t.l.Clients.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(sourceBucket), Key: aws.String(keys[i]), Body: bytes.NewReader(in.Body),
		})
		if err != nil {
			return runResult{}, fmt.Errorf("upload %s: %w", keys[i], err)
		}
	}
	defer t.clear(context.WithoutCancel(ctx))

	// Start from a collected heap, so that what a run measures does not
	// depend on the garbage of the one before.
	runtime.GC()
	debug.FreeOSMemory()
	var sampler *memSampler
	var idle int64
	hwmReset := false
	if self, err := readMem(0); err == nil {
		idle = self.rss + t.pluginIdle
		hwmReset = resetPeak()
		sampler = startSampling(sampleEvery, t.plugins)
	}
	cpuBefore := cpuOf(t.plugins())

	start := time.Now()
	for _, key := range keys {
		if err := t.send(ctx, id, key, oneGroup); err != nil {
			if sampler != nil {
				sampler.finish(0, 1, false)
			}
			return runResult{}, err
		}
	}
	got, err := t.collect(ctx, keys)
	var res runResult
	if sampler != nil {
		m := sampler.finish(idle, min(t.workers, len(inputs)), hwmReset)
		res.mem = &m
	}
	res.cpu = cpuUsed(cpuBefore, cpuOf(t.plugins()))
	if err != nil {
		return runResult{}, err
	}
	var end time.Time
	for _, key := range keys {
		r := got[key]
		if r.Status != outbox.StatusProcessed {
			reason := r.Status
			if r.Error != nil {
				reason += ": " + r.Error.Code + ": " + r.Error.Message
			}
			return runResult{}, fmt.Errorf("%s was not processed (%s)", key, reason)
		}
		res.records = append(res.records, r)
		if r.Time.After(end) {
			end = r.Time
		}
	}
	// The record's time is when the daemon wrote it, which leaves out how
	// long the bench takes to notice.
	res.wall = end.Sub(start)
	if res.wall <= 0 {
		res.wall = time.Since(start)
	}
	return res, nil
}

// send puts one plain {"bucket", "key"} message on the inbox. With
// oneGroup every message shares a message group, as with the reference
// deployment's default EventBridge rule; otherwise each has its own, as
// with InboxFeed=pipe and resizer backfill.
func (t *target) send(ctx context.Context, id, key string, oneGroup bool) error {
	body, err := json.Marshal(struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	}{sourceBucket, key})
	if err != nil {
		return fmt.Errorf("encode inbox message for %q: %w", key, err)
	}
	group := outbox.GroupID("{key}", outbox.Record{Source: outbox.Source{Key: key}})
	if oneGroup {
		group = "resizer-bench"
	}
	_, err = t.l.Clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(t.l.Config.InboxURL),
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(group),
		MessageDeduplicationId: aws.String(outbox.DedupID(sourceBucket, key, id, "")),
	})
	if err != nil {
		return fmt.Errorf("send %q to the inbox: %w", key, err)
	}
	return nil
}

// collect reads the outbox until it holds a record for every key.
func (t *target) collect(ctx context.Context, keys []string) (map[string]outbox.Record, error) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	got := make(map[string]outbox.Record, len(keys))
	for len(got) < len(want) {
		recs, err := local.ReadOutbox(ctx, t.l.Clients.SQS, t.l.Config.OutboxURL, time.Second)
		if err == nil {
			// A long poll cut short by the deadline ends without an error.
			err = ctx.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("waiting for outbox records (%d of %d so far): %w", len(got), len(want), err)
		}
		for _, r := range recs {
			if want[r.Source.Key] {
				got[r.Source.Key] = r
			}
		}
	}
	return got, nil
}

// clear deletes the run's sources and outputs, which the embedded S3
// keeps in this process's memory: the next run starts as light.
func (t *target) clear(ctx context.Context) {
	p := s3.NewListObjectsV2Paginator(t.l.Clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String(sourceBucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil || len(page.Contents) == 0 {
			return
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		_, _ = t.l.Clients.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(sourceBucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
	}
}
