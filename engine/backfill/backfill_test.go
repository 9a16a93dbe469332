package backfill_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/backfill"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/recipe"
)

const bucket = "bucket-image-resizer-storage"

const testRecipe = `name: photos
match: ["uploads/**/*.jpg", "uploads/**/*.png"]
outputs:
  - {name: large, width: 800, height: 800}
  - {name: orig, width: 400, height: 400, format: source}
`

type fixture struct {
	clients daemon.Clients
	set     *recipe.Set
	r       *recipe.Recipe
	etags   map[string]string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	srv, err := awslocal.Start(ctx, awslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := config.Default()
	cfg.Endpoint = srv.URL()
	clients, err := daemon.NewClients(ctx, cfg, local.StaticCredentials())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse("photos.yaml", []byte(testRecipe))
	if err != nil {
		t.Fatal(err)
	}
	set, err := recipe.NewSet(r)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clients: clients, set: set, r: r, etags: map[string]string{}}
}

func (f *fixture) put(t testing.TB, key, body string, md map[string]string) string {
	t.Helper()
	out, err := f.clients.S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body), Metadata: md,
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	f.etags[key] = etag
	return etag
}

// outputs writes the outputs of source key as the pipeline would, with
// their metadata altered by change (nil: current).
func (f *fixture) outputs(t testing.TB, key, ext string, skip string, change func(md map[string]string)) {
	t.Helper()
	for _, o := range f.r.Outputs {
		if o.Name == skip {
			continue
		}
		md := map[string]string{
			backfill.MetaSourceETag:   f.etags[key],
			backfill.MetaRecipeDigest: f.r.Digest(),
			"recipe":                  f.r.Name,
		}
		if change != nil {
			change(md)
		}
		e := o.Ext(ext)
		f.put(t, recipe.OutputKey("processed/", key, o, e), "output", md)
	}
}

func (f *fixture) queue(t *testing.T, name string) string {
	t.Helper()
	out, err := f.clients.SQS.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName: aws.String(name), Attributes: map[string]string{"FifoQueue": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// drain receives every message of the queue and returns the keys named.
func (f *fixture) drain(t *testing.T, queueURL string) []string {
	t.Helper()
	var keys []string
	for {
		out, err := f.clients.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 0,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			slices.Sort(keys)
			return keys
		}
		for _, m := range out.Messages {
			var body struct{ Bucket, Key string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &body); err != nil || body.Bucket != bucket {
				t.Fatalf("inbox body %q: %v", aws.ToString(m.Body), err)
			}
			keys = append(keys, body.Key)
			if _, err := f.clients.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
				QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestRunSendsExactlyTheStaleSources(t *testing.T) {
	f := newFixture(t)
	f.put(t, "uploads/current.jpg", "a", nil)
	f.outputs(t, "uploads/current.jpg", "jpeg", "", nil)
	f.put(t, "uploads/current.png", "b", nil)
	f.outputs(t, "uploads/current.png", "png", "", nil)
	f.put(t, "uploads/missing.jpg", "c", nil)
	f.outputs(t, "uploads/missing.jpg", "jpeg", "orig", nil)
	f.put(t, "uploads/changed.jpg", "d", nil)
	f.outputs(t, "uploads/changed.jpg", "jpeg", "", func(md map[string]string) { md[backfill.MetaSourceETag] = "0123" })
	f.put(t, "uploads/recipe.jpg", "e", nil)
	f.outputs(t, "uploads/recipe.jpg", "jpeg", "", func(md map[string]string) { md[backfill.MetaRecipeDigest] = "000000000000" })
	f.put(t, "uploads/deep/new.jpg", "f", nil)
	f.put(t, "uploads/readme.txt", "no recipe", nil)
	f.put(t, "elsewhere/other.jpg", "g", nil)

	stale := []string{"uploads/changed.jpg", "uploads/deep/new.jpg", "uploads/missing.jpg", "uploads/recipe.jpg"}
	tests := []struct {
		name        string
		prefix      string
		since       time.Time
		want        []string
		wantListed  int64
		wantCurrent int64
		wantSkipped int64
	}{
		{name: "uploads", prefix: "uploads/", want: stale, wantListed: 7, wantCurrent: 2, wantSkipped: 1},
		// The whole bucket: outputs and keys without a recipe are skipped.
		{name: "bucket", prefix: "", want: stale, wantListed: 17, wantCurrent: 2, wantSkipped: 11},
		{name: "narrow prefix", prefix: "uploads/deep/", want: []string{"uploads/deep/new.jpg"}, wantListed: 1},
		{name: "since later", prefix: "uploads/", since: time.Now().Add(time.Hour), wantListed: 7, wantSkipped: 7},
		{name: "since earlier", prefix: "uploads/", since: time.Now().Add(-time.Hour), want: stale, wantListed: 7, wantCurrent: 2, wantSkipped: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inbox := f.queue(t, fmt.Sprintf("inbox-%d.fifo", i))
			var calls []backfill.Progress
			var mu sync.Mutex
			got, err := backfill.Run(context.Background(), f.clients.S3, backfill.NewInbox(f.clients.SQS, inbox), backfill.Options{
				Bucket: bucket, Prefix: tt.prefix, Since: tt.since, OutputPrefix: "processed/", Recipes: f.set,
				Progress: func(p backfill.Progress) { mu.Lock(); calls = append(calls, p); mu.Unlock() },
			})
			if err != nil {
				t.Fatal(err)
			}
			want := backfill.Progress{Listed: tt.wantListed, Checked: tt.wantListed, Current: tt.wantCurrent,
				Stale: int64(len(tt.want)), Skipped: tt.wantSkipped, ListingDone: true}
			got.Elapsed = 0
			if got != want {
				t.Errorf("progress = %+v\nwant       %+v", got, want)
			}
			if len(calls) == 0 || calls[len(calls)-1].Checked != tt.wantListed {
				t.Errorf("progress calls %+v: want a last one with every object checked", calls)
			}
			if keys := f.drain(t, inbox); !slices.Equal(keys, tt.want) {
				t.Errorf("inbox got %q, want %q", keys, tt.want)
			}
		})
	}

	// Once the stale sources have current outputs, a run sends nothing.
	for _, key := range stale {
		f.outputs(t, key, "jpeg", "", nil)
	}
	inbox := f.queue(t, "inbox-again.fifo")
	got, err := backfill.Run(context.Background(), f.clients.S3, backfill.NewInbox(f.clients.SQS, inbox), backfill.Options{
		Bucket: bucket, Prefix: "uploads/", OutputPrefix: "processed/", Recipes: f.set,
	})
	if err != nil || got.Stale != 0 || got.Current != 6 {
		t.Errorf("run after the outputs were made: %+v, %v; want 6 current, none stale", got, err)
	}
	if keys := f.drain(t, inbox); len(keys) != 0 {
		t.Errorf("inbox got %q, want nothing", keys)
	}
}

// failingSink takes n sources, then fails.
type failingSink struct {
	mu    sync.Mutex
	n     int
	taken []string
}

func (s *failingSink) Take(ctx context.Context, src backfill.Source) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.taken) >= s.n {
		return errors.New("queue unavailable")
	}
	s.taken = append(s.taken, src.Key)
	return nil
}

// TestInterruptedRunIsSafeToRepeat stops a run part way (the sink fails,
// as when the inbox goes away or the operator presses Ctrl-C) and checks
// that a second run sends what the first did not.
func TestInterruptedRunIsSafeToRepeat(t *testing.T) {
	f := newFixture(t)
	var all []string
	for i := range 30 {
		key := fmt.Sprintf("uploads/%02d.jpg", i)
		f.put(t, key, key, nil)
		all = append(all, key)
	}
	opts := backfill.Options{Bucket: bucket, Prefix: "uploads/", OutputPrefix: "processed/", Recipes: f.set, Concurrency: 4}
	first := &failingSink{n: 10}
	p, err := backfill.Run(context.Background(), f.clients.S3, first, opts)
	if err == nil || !strings.Contains(err.Error(), "queue unavailable") {
		t.Fatalf("first run: %+v, %v; want the sink's error", p, err)
	}
	if p.Stale != 10 {
		t.Errorf("first run counted %d stale, want the 10 taken", p.Stale)
	}
	// The daemons processed what the first run sent.
	for _, key := range first.taken {
		f.outputs(t, key, "jpeg", "", nil)
	}
	second := &failingSink{n: 100}
	p, err = backfill.Run(context.Background(), f.clients.S3, second, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := append(slices.Clone(first.taken), second.taken...)
	slices.Sort(got)
	if !slices.Equal(got, all) || p.Current != 10 {
		t.Errorf("first run took %q, second %q (%d current); want every source exactly once", first.taken, second.taken, p.Current)
	}
}

func TestProgressETA(t *testing.T) {
	tests := []struct {
		name   string
		p      backfill.Progress
		rate   float64
		eta    time.Duration
		etaSet bool
	}{
		{"listing", backfill.Progress{Listed: 100, Checked: 50, Elapsed: 10 * time.Second}, 5, 0, false},
		{"listed", backfill.Progress{Listed: 100, Checked: 50, ListingDone: true, Elapsed: 10 * time.Second}, 5, 10 * time.Second, true},
		{"nothing yet", backfill.Progress{Listed: 100, ListingDone: true, Elapsed: time.Second}, 0, 0, false},
		{"done", backfill.Progress{Listed: 4, Checked: 4, ListingDone: true, Elapsed: 2 * time.Second}, 2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Rate(); got != tt.rate {
				t.Errorf("Rate() = %v, want %v", got, tt.rate)
			}
			eta, ok := tt.p.ETA()
			if eta != tt.eta || ok != tt.etaSet {
				t.Errorf("ETA() = %v, %v; want %v, %v", eta, ok, tt.eta, tt.etaSet)
			}
		})
	}
}

// BenchmarkRunAllCurrent measures the check rate against the embedded S3:
// every source has current outputs, so each costs one listing and one
// HeadObject per output.
func BenchmarkRunAllCurrent(b *testing.B) {
	f := newFixture(b)
	const sources = 200
	for i := range sources {
		key := fmt.Sprintf("uploads/%03d.jpg", i)
		f.put(b, key, key, nil)
		f.outputs(b, key, "jpeg", "", nil)
	}
	sink := &failingSink{n: 0}
	opts := backfill.Options{Bucket: bucket, Prefix: "uploads/", OutputPrefix: "processed/", Recipes: f.set}
	b.ResetTimer()
	for b.Loop() {
		p, err := backfill.Run(context.Background(), f.clients.S3, sink, opts)
		if err != nil || p.Current != sources {
			b.Fatalf("%+v, %v", p, err)
		}
	}
	b.ReportMetric(float64(sources*b.N)/b.Elapsed().Seconds(), "sources/s")
}
