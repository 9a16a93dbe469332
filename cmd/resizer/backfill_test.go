package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/seed62486500/resizer/engine/backfill"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/samples"
)

const backfillRecipe = `name: photos
match: ["uploads/**/*.jpg"]
outputs:
  - {name: small, width: 320, height: 320}
  - {name: tiny, width: 64, height: 64, format: png}
`

// localBackfill is local mode with the daemon started and stopped at will,
// and a configuration file for `resizer backfill` pointing at it.
type localBackfill struct {
	l      *local.Local
	config string
	stop   func()
}

func startLocalBackfill(t *testing.T) *localBackfill {
	t.Helper()
	dir := t.TempDir()
	recipes := filepath.Join(dir, "recipes")
	if err := os.MkdirAll(recipes, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(recipes, "photos.yaml"), []byte(backfillRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.RecipesDir = recipes
	cfg.TempDir = filepath.Join(dir, "tmp")
	cfg.WaitTime = config.Duration(time.Second)
	l, err := local.Start(context.Background(), cfg, local.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	file := filepath.Join(dir, "config.yaml")
	text := fmt.Sprintf("endpoint: %s\ninbox_url: %s\noutbox_url: %s\nrecipes_dir: %s\ntemp_dir: %s\nlog_format: json\n",
		l.Config.Endpoint, l.Config.InboxURL, l.Config.OutboxURL, recipes, cfg.TempDir)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", local.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", local.SecretKey)
	return &localBackfill{l: l, config: file}
}

func (lb *localBackfill) startDaemon(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lb.l.Daemon.Run(ctx) }()
	lb.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		lb.stop = nil
	}
	t.Cleanup(func() {
		if lb.stop != nil {
			lb.stop()
		}
	})
}

func (lb *localBackfill) put(t *testing.T, key string, body []byte, md map[string]string) {
	t.Helper()
	if _, err := lb.l.Clients.S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(lb.l.Config.Bucket), Key: aws.String(key), Body: bytes.NewReader(body), Metadata: md,
	}); err != nil {
		t.Fatal(err)
	}
}

func (lb *localBackfill) head(t *testing.T, key string) map[string]string {
	t.Helper()
	out, err := lb.l.Clients.S3.HeadObject(context.Background(), &s3.HeadObjectInput{
		Bucket: aws.String(lb.l.Config.Bucket), Key: aws.String(key),
	})
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return out.Metadata
}

func (lb *localBackfill) remove(t *testing.T, key string) {
	t.Helper()
	if _, err := lb.l.Clients.S3.DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(lb.l.Config.Bucket), Key: aws.String(key),
	}); err != nil {
		t.Fatal(err)
	}
}

// backfill runs `resizer backfill --config FILE args...`.
func (lb *localBackfill) backfill(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(append([]string{"backfill", "--config", lb.config}, args...), &out, &errs)
	return code, out.String(), errs.String()
}

// staleKeys runs a dry run and returns the stale keys it printed.
func (lb *localBackfill) staleKeys(t *testing.T) []string {
	t.Helper()
	code, out, errs := lb.backfill(t, "--prefix", "uploads/", "--dry-run")
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	var keys []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "stale "); ok {
			key, _, _ := strings.Cut(rest, ": ")
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

// inboxKeys receives what the inbox holds, returns the keys named, and
// makes the messages visible again for the daemon.
func (lb *localBackfill) inboxKeys(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for {
		out, err := lb.l.Clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(lb.l.Config.InboxURL), MaxNumberOfMessages: 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var body struct{ Bucket, Key string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &body); err != nil {
				t.Fatalf("inbox body %q: %v", aws.ToString(m.Body), err)
			}
			keys = append(keys, body.Key)
			defer lb.l.Clients.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(lb.l.Config.InboxURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
			})
		}
	}
	slices.Sort(keys)
	return keys
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestBackfillAgainstLocalMode makes some sources stale in local mode (a
// source that was never processed, a missing output, an output of an older
// upload), checks that `resizer backfill` enqueues exactly those, that the
// daemon makes them current, that a second run enqueues nothing, and that
// --direct processes stale sources without the inbox.
func TestBackfillAgainstLocalMode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs local mode with plugin processes")
	}
	lb := startLocalBackfill(t)
	ctx := context.Background()
	img := func(seed uint64) []byte { return samples.JPEG(480, 360, seed, 80) }

	// uploads/e.jpg is uploaded while no daemon runs and its event is
	// lost: it was never processed.
	lb.put(t, "uploads/e.jpg", img(5), nil)
	if _, err := lb.l.Clients.SQS.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(lb.l.Config.InboxURL)}); err != nil {
		t.Fatal(err)
	}
	lb.startDaemon(t)
	for i, key := range []string{"uploads/a.jpg", "uploads/b.jpg", "uploads/c.jpg", "uploads/sub/d.jpg"} {
		lb.put(t, key, img(uint64(i)), nil)
	}
	lb.put(t, "uploads/notes.txt", []byte("no recipe for this"), nil)
	waitUntil(t, "the uploads are processed", func() bool {
		return slices.Equal(lb.staleKeys(t), []string{"uploads/e.jpg"})
	})
	lb.stop()

	// b lost an output; c's output says it was made from another upload.
	lb.remove(t, "processed/uploads/b.jpg/tiny.png")
	md := lb.head(t, "processed/uploads/c.jpg/small.jpg")
	md[backfill.MetaSourceETag] = "0f343b0931126a20f133d67c2b018a3b"
	lb.put(t, "processed/uploads/c.jpg/small.jpg", []byte("old"), md)
	// a's outputs carry a marker that a reprocessing would remove.
	md = lb.head(t, "processed/uploads/a.jpg/small.jpg")
	md["marker"] = "untouched"
	lb.put(t, "processed/uploads/a.jpg/small.jpg", img(9), md)

	stale := []string{"uploads/b.jpg", "uploads/c.jpg", "uploads/e.jpg"}
	if got := lb.staleKeys(t); !slices.Equal(got, stale) {
		t.Fatalf("dry run found %q stale, want %q", got, stale)
	}
	code, out, errs := lb.backfill(t, "--prefix", "uploads/")
	if code != exitOK || !strings.Contains(out, ": 6 listed, 2 current, 3 enqueued, 1 skipped, 0 failed in ") {
		t.Fatalf("backfill: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// Not a terminal: plain progress lines, the last one complete.
	if !regexp.MustCompile(`(?m)^backfill: 6/6 checked, [0-9.]+/s, ETA 0s: 3 stale, 2 current, 1 skipped, 0 failed$`).MatchString(errs) {
		t.Errorf("no final progress line in stderr:\n%s", errs)
	}
	if got := lb.inboxKeys(t); !slices.Equal(got, stale) {
		t.Fatalf("inbox holds %q, want exactly %q", got, stale)
	}

	lb.startDaemon(t)
	waitUntil(t, "the backfilled sources are processed", func() bool { return len(lb.staleKeys(t)) == 0 })
	lb.stop()
	if got := lb.head(t, "processed/uploads/a.jpg/small.jpg")["marker"]; got != "untouched" {
		t.Errorf("a current source was reprocessed (marker %q)", got)
	}
	code, out, errs = lb.backfill(t, "--prefix", "uploads/")
	if code != exitOK || !strings.Contains(out, ": 6 listed, 5 current, 0 enqueued, 1 skipped, 0 failed in ") {
		t.Fatalf("second backfill: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if got := lb.inboxKeys(t); len(got) != 0 {
		t.Errorf("second run left %q in the inbox, want nothing", got)
	}

	// --direct: processed here, nothing goes through the inbox.
	lb.remove(t, "processed/uploads/sub/d.jpg/small.jpg")
	code, out, errs = lb.backfill(t, "--prefix", "uploads/sub/", "--direct")
	if code != exitOK || !strings.Contains(out, ": 1 listed, 0 current, 1 processed, 0 skipped, 0 failed in ") {
		t.Fatalf("backfill --direct: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if got := lb.inboxKeys(t); len(got) != 0 {
		t.Errorf("--direct sent %q to the inbox", got)
	}
	if got := lb.staleKeys(t); len(got) != 0 {
		t.Errorf("after --direct, %q are still stale", got)
	}
}

func TestBackfillUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no prefix", []string{"backfill"}, "--prefix is required"},
		{"bad since", []string{"backfill", "--prefix", "", "--since", "yesterday"}, `--since: "yesterday" is not`},
		{"direct and dry run", []string{"backfill", "--prefix", "a/", "--direct", "--dry-run"}, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", time.Time{}, false},
		{"2026-11-30T08:00:00Z", time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), false},
		{"2026-11-30", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), false},
		{"36h", now.Add(-36 * time.Hour), false},
		{"-1h", time.Time{}, true},
		{"last week", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name string
		p    backfill.Progress
		bar  bool
		want string
	}{
		{"listing", backfill.Progress{Listed: 40, Checked: 10, Stale: 2, Current: 8, Elapsed: 2 * time.Second}, false,
			"10/? checked (40 listed so far), 5.0/s, ETA ?: 2 stale, 8 current, 0 skipped, 0 failed"},
		{"bar", backfill.Progress{Listed: 100, Checked: 50, Stale: 5, Current: 45, ListingDone: true, Elapsed: 5 * time.Second}, true,
			"[############------------] 50/100 checked, 10.0/s, ETA 5s: 5 stale, 45 current, 0 skipped, 0 failed"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.p, tt.bar); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}
