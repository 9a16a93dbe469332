package daemon_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// s3RoundTrip is added to every S3 request while the daemons run. All the
// daemons of the test share this machine's cores, so CPU-bound work cannot
// get faster with more of them; what scale-out buys in production is more
// jobs waiting on the network at once. The latency models that wait: a
// round trip to real S3 from EC2 takes about this long for small objects.
// A job of testRecipe on a 64×48 source makes four S3 requests (HEAD and
// GET of the source, a PUT per output), so it waits 60 ms, and uses a few
// ms of CPU.
const s3RoundTrip = 15 * time.Millisecond

// TestScaleOut processes one set of uploads with one daemon, then the same
// set with three daemons sharing the inbox, and checks that the three share
// the work (each handles at least a tenth), that no message is processed
// twice, that every source has exactly one outbox record and exactly its
// outputs, and that three daemons finish sooner than one.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("a throughput comparison of two runs of several seconds each")
	}
	n, roundTrip := 300, s3RoundTrip
	if raceEnabled {
		// The race detector multiplies the CPU part of a job several times:
		// fewer messages keep the run short, and a longer wait keeps the
		// wait, not the shared CPU, what bounds throughput.
		n, roundTrip = 90, 3*s3RoundTrip
	}
	var one, three time.Duration
	if !t.Run("one daemon", func(t *testing.T) { one = runFleet(t, 1, n, roundTrip) }) ||
		!t.Run("three daemons", func(t *testing.T) { three = runFleet(t, 3, n, roundTrip) }) {
		return
	}
	ratio := three.Seconds() / one.Seconds()
	t.Logf("%d messages: one daemon %v, three daemons %v (%.2f of the time)",
		n, one.Round(time.Millisecond), three.Round(time.Millisecond), ratio)
	// Three times the workers should take about a third of the time, plus
	// the CPU work that does not scale; 0.8 leaves room for a busy machine.
	if ratio >= 0.8 {
		t.Errorf("three daemons took %.2f of one daemon's time, want under 0.8", ratio)
	}
}

// runFleet uploads n images, sends one inbox message for each (every key its
// own message group, as when the group id is the key), runs the given
// number of daemons of two workers each, with roundTrip added to every S3
// request, until every message is processed, checks the results and
// returns the time from the daemons' start to the last job done.
func runFleet(t *testing.T, daemons, n int, roundTrip time.Duration) time.Duration {
	faults := awslocal.NewFaults(1, awslocal.FaultRule{Service: "s3", Rate: 1, Kind: awslocal.FaultLatency, Latency: roundTrip})
	faults.SetEnabled(false) // on only while the daemons run
	srv, err := awslocal.Start(context.Background(), awslocal.Options{Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := newEnv(t, srv.URL())
	e.cfg.Workers = 2
	deadLetters := withDeadLetterQueue(t, e)

	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("photos/scale-%03d.jpg", i)
		e.put(t, keys[i], samples.JPEG(64, 48, uint64(i), 85))
	}
	sendGrouped(t, e, keys)

	// Every daemon has clients, a temp dir and a log of its own, as it
	// would on a host of its own.
	finish := newFinishLine(n)
	jobs := make([]*jobLog, daemons)
	envs := make([]env, daemons)
	ds := make([]*daemon.Daemon, daemons)
	for i := range ds {
		envs[i] = e
		envs[i].cfg.TempDir = filepath.Join(t.TempDir(), "tmp")
		envs[i].clients, err = daemon.NewClients(context.Background(), e.cfg, local.StaticCredentials())
		if err != nil {
			t.Fatal(err)
		}
		jobs[i] = &jobLog{finish: finish}
		log := hclog.NewInterceptLogger(&hclog.LoggerOptions{
			Name: fmt.Sprintf("resizer-%d", i+1), Level: hclog.Warn, Output: testWriter{t},
		})
		log.RegisterSink(jobs[i])
		ds[i], err = daemon.New(context.Background(), envs[i].cfg, envs[i].clients, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ds[i].Close() })
	}

	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	stop := func() {
		cancel()
		running.Wait()
	}
	t.Cleanup(stop)
	faults.SetEnabled(true)
	start := time.Now()
	for _, d := range ds {
		running.Add(1)
		go func() {
			defer running.Done()
			if err := d.Run(ctx); err != nil {
				t.Errorf("daemon: %v", err)
			}
		}()
	}
	select {
	case <-finish.done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("%d of %d messages processed in time", int64(n)-finish.left.Load(), n)
	}
	elapsed := time.Since(start)
	stop()
	faults.SetEnabled(false)

	// Who did what, as the daemons' logs tell it.
	handled := map[string][]int{} // key → the daemons that processed it
	msgIDs := map[string]string{}
	var shares []string
	for i, l := range jobs {
		done := l.done()
		shares = append(shares, fmt.Sprintf("daemon %d: %d", i+1, len(done)))
		if daemons > 1 && len(done) < n/10 {
			t.Errorf("daemon %d processed %d of %d messages, want at least a tenth", i+1, len(done), n)
		}
		for _, j := range done {
			handled[j.key] = append(handled[j.key], i+1)
			msgIDs[j.key] = j.msgID
		}
	}
	t.Logf("%d messages processed in %v; %s", n, elapsed.Round(time.Millisecond), strings.Join(shares, ", "))
	for _, k := range keys {
		if by := handled[k]; len(by) != 1 {
			t.Errorf("%s processed %d times (by daemons %v), want once", k, len(by), by)
		}
		delete(handled, k)
	}
	for k := range handled {
		t.Errorf("processed %q, which was never sent", k)
	}

	// The outbox as a consumer sees it: one record per source, from the
	// message that the daemon's log names.
	perKey := map[string]int{}
	for _, r := range e.collect(t, n, 30*time.Second, time.Second) {
		perKey[r.Source.Key]++
		if r.Status != outbox.StatusProcessed {
			t.Errorf("%s: %s %+v", r.Source.Key, r.Status, r.Error)
			continue
		}
		if r.MessageID != msgIDs[r.Source.Key] {
			t.Errorf("%s: outbox record of message %s, but the daemon logged processing message %s", r.Source.Key, r.MessageID, msgIDs[r.Source.Key])
		}
		if perKey[r.Source.Key] == 1 {
			checkProcessed(t, e, r, expect{w: 64, h: 48})
		}
	}
	for _, k := range keys {
		if perKey[k] != 1 {
			t.Errorf("%s: %d outbox records, want exactly 1", k, perKey[k])
		}
	}

	// Exactly the outputs of the sources.
	var want, got []string
	for _, k := range keys {
		want = append(want, "processed/"+k+"/large.jpg", "processed/"+k+"/thumb.png")
	}
	pages := s3.NewListObjectsV2Paginator(e.clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("processed/")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got = append(got, aws.ToString(o.Key))
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%d outputs, want %d: %v", len(got), len(want), got)
	}

	if depth := e.inboxDepth(t); depth != 0 {
		t.Errorf("inbox still holds %d messages", depth)
	}
	if depth := deadLetters.inboxDepth(t); depth != 0 {
		t.Errorf("%d messages went to the dead-letter queue", depth)
	}
	for i, de := range envs {
		if left := tempFiles(t, de); left != 0 {
			t.Errorf("daemon %d left %d temp files", i+1, left)
		}
	}
	return elapsed
}

// withDeadLetterQueue gives the inbox of e a dead-letter queue with the
// production redrive threshold, and returns e with that queue as its inbox,
// to look into it.
func withDeadLetterQueue(t *testing.T, e env) env {
	t.Helper()
	ctx := context.Background()
	out, err := e.clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String("inbox_sqs_image_resizer-dlq.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := e.clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.clients.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(e.cfg.InboxURL),
		Attributes: map[string]string{
			"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, attrs.Attributes["QueueArn"]),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	dlq := e
	dlq.cfg.InboxURL = aws.ToString(out.QueueUrl)
	return dlq
}

// sendGrouped sends an S3 notification for each key to the inbox, in
// batches, with the key as message group and deduplication id.
func sendGrouped(t *testing.T, e env, keys []string) {
	t.Helper()
	for len(keys) > 0 {
		batch := keys[:min(10, len(keys))]
		keys = keys[len(batch):]
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(e.cfg.InboxURL)}
		for i, k := range batch {
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{
				Id:                     aws.String(fmt.Sprint("m", i)),
				MessageBody:            aws.String(s3Notification("ObjectCreated:Put", k)),
				MessageGroupId:         aws.String(k),
				MessageDeduplicationId: aws.String(k),
			})
		}
		out, err := e.clients.SQS.SendMessageBatch(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Failed) > 0 {
			t.Fatalf("send: %d of %d failed, first: %s", len(out.Failed), len(batch), aws.ToString(out.Failed[0].Message))
		}
	}
}

// finishLine is crossed when the last of a number of jobs is done.
type finishLine struct {
	left atomic.Int64
	done chan struct{}
}

func newFinishLine(n int) *finishLine {
	f := &finishLine{done: make(chan struct{})}
	f.left.Store(int64(n))
	return f
}

func (f *finishLine) cross() {
	if f.left.Add(-1) == 0 {
		close(f.done)
	}
}

// jobLog is an hclog sink on one daemon's logger. It notes the jobs the
// daemon's pipeline processed (its "processed" line, which comes after the
// outbox record is sent and carries the message id and key), which tells
// the daemons' work apart without touching the daemon.
type jobLog struct {
	finish *finishLine
	mu     sync.Mutex
	jobs   []job
}

type job struct{ key, msgID string }

func (l *jobLog) Accept(name string, _ hclog.Level, msg string, args ...any) {
	if msg != "processed" || !strings.HasSuffix(name, ".pipeline") {
		return
	}
	var j job
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "key":
			j.key, _ = args[i+1].(string)
		case "msg_id":
			j.msgID, _ = args[i+1].(string)
		}
	}
	l.mu.Lock()
	l.jobs = append(l.jobs, j)
	l.mu.Unlock()
	l.finish.cross()
}

func (l *jobLog) done() []job {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]job(nil), l.jobs...)
}
