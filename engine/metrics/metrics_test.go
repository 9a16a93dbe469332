package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/pipeline"
	"github.com/seed62486500/resizer/engine/queue"
)

func TestObserveCountsOutcomes(t *testing.T) {
	processed := &outbox.Record{
		Status:  outbox.StatusProcessed,
		Source:  outbox.Source{Bytes: 1000},
		Outputs: []outbox.Output{{Bytes: 300}, {Bytes: 200}},
		Timings: outbox.Timings{Download: 2, Decode: 10, Transform: 30, Encode: 5, Upload: 1, Total: 48},
	}
	failed := &outbox.Record{
		Status:  outbox.StatusFailed,
		Source:  outbox.Source{Bytes: 50},
		Error:   &outbox.Error{Code: pipeline.CodeCorrupt},
		Timings: outbox.Timings{Download: 1, Total: 1},
	}
	tests := []struct {
		name          string
		outcome       pipeline.Outcome
		wantOutcome   string
		wantCode      string
		wantBytesIn   float64
		wantBytesOut  float64
		wantDownloads int
		wantTotals    int
	}{
		{"processed", pipeline.Outcome{Record: processed, Steps: map[string]time.Duration{"resize": time.Millisecond}},
			outbox.StatusProcessed, "", 1000, 500, 1, 1},
		{"failed", pipeline.Outcome{Record: failed}, outbox.StatusFailed, pipeline.CodeCorrupt, 0, 0, 1, 0},
		{"transient", pipeline.Outcome{Err: errors.New("503")}, OutcomeRetry, "", 0, 0, 0, 0},
		{"test event", pipeline.Outcome{}, OutcomeIgnored, "", 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.Observe(tt.outcome)
			if got := testutil.ToFloat64(m.jobs.WithLabelValues(tt.wantOutcome, tt.wantCode)); got != 1 {
				t.Errorf("jobs{%s,%s} = %v, want 1", tt.wantOutcome, tt.wantCode, got)
			}
			if got := testutil.CollectAndCount(m.jobs); got != 1 {
				t.Errorf("%d job series, want 1", got)
			}
			if got := testutil.ToFloat64(m.bytesIn); got != tt.wantBytesIn {
				t.Errorf("bytes in = %v, want %v", got, tt.wantBytesIn)
			}
			if got := testutil.ToFloat64(m.bytesOut); got != tt.wantBytesOut {
				t.Errorf("bytes out = %v, want %v", got, tt.wantBytesOut)
			}
			if got := histogramCount(t, m, StageDownload); got != tt.wantDownloads {
				t.Errorf("download observations = %d, want %d", got, tt.wantDownloads)
			}
			if got := histogramCount(t, m, StageTotal); got != tt.wantTotals {
				t.Errorf("total observations = %d, want %d", got, tt.wantTotals)
			}
			if got, want := testutil.CollectAndCount(m.steps), len(tt.outcome.Steps); got != want {
				t.Errorf("%d step series, want %d", got, want)
			}
		})
	}
}

func histogramCount(t *testing.T, m *Metrics, stage string) int {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "resizer_stage_duration_seconds" {
			continue
		}
		for _, s := range f.Metric {
			if s.Label[0].GetValue() == stage {
				return int(s.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func TestHandlerCountsShapesAndInFlight(t *testing.T) {
	m := New()
	var during float64
	h := m.Handler(queue.HandlerFunc(func(ctx context.Context, msg queue.Message) queue.Action {
		during = testutil.ToFloat64(m.inFlight)
		return queue.Delete
	}), "bucket")
	for _, body := range []string{`{"bucket":"bucket","key":"a.jpg"}`, "uploads/b.jpg", "{not json", `{"key":"c.jpg"}`} {
		h.Handle(context.Background(), queue.Message{Body: body, SentAt: time.Now().Add(-time.Second)})
	}
	if during != 1 {
		t.Errorf("in flight during a job = %v, want 1", during)
	}
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Errorf("in flight after = %v, want 0", got)
	}
	for shape, want := range map[string]float64{"json": 2, "key": 1, ShapeMalformed: 1} {
		if got := testutil.ToFloat64(m.messages.WithLabelValues(shape)); got != want {
			t.Errorf("messages{shape=%s} = %v, want %v", shape, got, want)
		}
	}
	if got := histogramCount(t, m, StageReceiveWait); got != 4 {
		t.Errorf("receive wait observations = %d, want 4", got)
	}
}

func TestReadyzReportsEachCheck(t *testing.T) {
	tests := []struct {
		name     string
		checks   []Check
		wantCode int
		wantBody string
	}{
		{"all pass", []Check{{"inbox", func(context.Context) error { return nil }}, {"plugins", func(context.Context) error { return nil }}},
			http.StatusOK, "inbox: ok\nplugins: ok\n"},
		{"one fails", []Check{{"inbox", func(context.Context) error { return errors.New("queue\ndoes not exist") }}, {"plugins", func(context.Context) error { return nil }}},
			http.StatusServiceUnavailable, "inbox: queue does not exist\nplugins: ok\n"},
		{"hangs past the timeout", []Check{{"inbox", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}},
			http.StatusServiceUnavailable, "inbox: context deadline exceeded\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Listen("127.0.0.1:0", New().Gatherer(), tt.checks, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			code, body := fetch(t, "http://"+s.Addr()+"/readyz")
			if code != tt.wantCode || body != tt.wantBody {
				t.Errorf("/readyz = %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
			if code, body := fetch(t, "http://"+s.Addr()+"/healthz"); code != http.StatusOK || body != "ok\n" {
				t.Errorf("/healthz = %d %q", code, body)
			}
			if code, body := fetch(t, "http://"+s.Addr()+"/metrics"); code != http.StatusOK || !strings.Contains(body, "resizer_jobs_in_flight 0") {
				t.Errorf("/metrics = %d, body without resizer_jobs_in_flight:\n%s", code, body)
			}
		})
	}
}

func TestListenRefusesBusyAddress(t *testing.T) {
	s, err := Listen("127.0.0.1:0", New().Gatherer(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Listen(s.Addr(), New().Gatherer(), nil, nil); err == nil || !strings.Contains(err.Error(), "metrics_addr "+s.Addr()) {
		t.Errorf("second Listen on %s: %v, want an error naming metrics_addr", s.Addr(), err)
	}
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// BenchmarkPerMessage is what metrics add to one inbox message: the
// handler wrapper (shape, receive wait, in flight) and one Observe.
func BenchmarkPerMessage(b *testing.B) {
	m := New()
	body := `{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2026-12-03T20:08:18Z","region":"us-east-1","resources":["arn:aws:s3:::bucket"],"detail":{"version":"0","bucket":{"name":"bucket"},"object":{"key":"uploads/photo.jpg","size":928494,"etag":"7d218092106d58985d550d735a08eb6b","sequencer":"00617F08299329D189"},"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","source-ip-address":"1.2.3.4","reason":"PutObject"}}`
	rec := &outbox.Record{Status: outbox.StatusProcessed, Source: outbox.Source{Bytes: 928494},
		Outputs: []outbox.Output{{Bytes: 1}, {Bytes: 2}, {Bytes: 3}},
		Timings: outbox.Timings{Download: 3, Decode: 50, Transform: 400, Encode: 50, Upload: 4, Total: 510}}
	h := m.Handler(queue.HandlerFunc(func(ctx context.Context, msg queue.Message) queue.Action {
		m.Observe(pipeline.Outcome{Record: rec, Steps: map[string]time.Duration{"resize": time.Millisecond, "thumbnail": time.Millisecond}})
		return queue.Delete
	}), "bucket")
	msg := queue.Message{Body: body, SentAt: time.Now()}
	for b.Loop() {
		h.Handle(context.Background(), msg)
	}
}

func TestRecipeReloadsAreExported(t *testing.T) {
	m := New()
	var ok, refused int64 = 3, 1
	m.RecipeReloads(func() (int64, int64) { return ok, refused })
	const want = `
# HELP resizer_recipe_reloads_total Recipe reloads: ok (the new set is in use) or refused (it had problems; the previous set stays).
# TYPE resizer_recipe_reloads_total counter
resizer_recipe_reloads_total{result="ok"} 3
resizer_recipe_reloads_total{result="refused"} 1
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), "resizer_recipe_reloads_total"); err != nil {
		t.Fatal(err)
	}
	refused = 2 // read at scrape time
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(strings.Replace(want, `"refused"} 1`, `"refused"} 2`, 1)), "resizer_recipe_reloads_total"); err != nil {
		t.Fatal(err)
	}
}
