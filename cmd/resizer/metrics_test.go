package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// TestLocalServesMetricsAndHealth runs `resizer local` with metrics_addr
// set, processes one upload, and scrapes /metrics, /healthz and /readyz
// while it runs; then it kills a plugin process and watches the restart
// counter and readiness come back.
func TestLocalServesMetricsAndHealth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	wd, _ := os.Getwd()
	cmd := exec.Command(bin, "local", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--set", "metrics_addr=127.0.0.1:0",
		"--set", "recipes_dir="+filepath.Join(wd, "..", "..", "recipes"),
		"--set", "temp_dir="+filepath.Join(dir, "tmp"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitTimeout(cmd, 30*time.Second); err != nil {
			t.Errorf("resizer local after SIGTERM: %v", err)
		}
	}()

	var endpoint, metricsURL, outboxURL string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && (endpoint == "" || metricsURL == "" || outboxURL == "") {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "resizer local: S3 and SQS endpoint "); ok {
			endpoint = rest
		}
		if rest, ok := strings.CutPrefix(line, "outbox "); ok {
			outboxURL = rest
		}
		if rest, ok := strings.CutPrefix(line, "metrics "); ok {
			metricsURL, _, _ = strings.Cut(rest, ",")
		}
	}
	go io.Copy(io.Discard, stdout)
	if endpoint == "" || metricsURL == "" || outboxURL == "" {
		t.Fatalf("banner: endpoint %q, metrics %q, outbox %q; logs:\n%s", endpoint, metricsURL, outboxURL, logs.String())
	}
	base := strings.TrimSuffix(metricsURL, "/metrics")

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	waitReady(t, base, logs)

	ctx := context.Background()
	cfg := config.Default()
	cfg.Endpoint = endpoint
	clients, err := daemon.NewClients(ctx, cfg, local.StaticCredentials())
	if err != nil {
		t.Fatal(err)
	}
	img := samples.JPEG(1200, 900, 7, 85)
	if _, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(cfg.Bucket), Key: aws.String("uploads/scrape.jpg"), Body: bytes.NewReader(img),
	}); err != nil {
		t.Fatal(err)
	}
	rec := receiveRecord(t, clients.SQS, outboxURL)
	if rec.Status != outbox.StatusProcessed {
		t.Fatalf("outbox record: %+v", rec)
	}
	var outBytes int64
	for _, o := range rec.Outputs {
		outBytes += o.Bytes
	}

	// The record is written before the job ends: wait for it to end.
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(20 * time.Second)
	for {
		fams = scrape(t, metricsURL)
		inFlight, _ := value(fams, "resizer_jobs_in_flight", nil)
		jobs, _ := value(fams, "resizer_jobs_total", map[string]string{"outcome": "processed", "code": ""})
		if inFlight == 0 && jobs > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still in flight (%v) or not counted (%v) 20s after its record", inFlight, jobs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"resizer_jobs_total", map[string]string{"outcome": "processed", "code": ""}, 1},
		{"resizer_source_bytes_total", nil, float64(len(img))},
		{"resizer_output_bytes_total", nil, float64(outBytes)},
		{"resizer_jobs_in_flight", nil, 0},
		{"resizer_pixels_in_flight", nil, 0},
		{"resizer_plugin_restarts_total", map[string]string{"plugin": "thumbnail"}, 0},
		{"resizer_inbox_messages_total", map[string]string{"shape": "eventbridge"}, 1},
	}
	for _, stage := range []string{"receive_wait", "download", "decode", "transform", "encode", "upload", "total"} {
		checks = append(checks, struct {
			name   string
			labels map[string]string
			want   float64
		}{"resizer_stage_duration_seconds", map[string]string{"stage": stage}, 1})
	}
	for _, op := range []string{"resize", "thumbnail"} {
		checks = append(checks, struct {
			name   string
			labels map[string]string
			want   float64
		}{"resizer_step_duration_seconds", map[string]string{"operation": op}, 1})
	}
	for _, c := range checks {
		got, ok := value(fams, c.name, c.labels)
		if !ok {
			t.Errorf("%s%v is missing from /metrics", c.name, c.labels)
			continue
		}
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// Kill the thumbnail plugin: the host replaces it, the counter says so,
	// and /readyz is ready again once the new process runs.
	pids := pluginPIDs(logs.String())
	if len(pids) == 0 {
		t.Fatalf("no plugin pid in the logs:\n%s", logs.String())
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		restarts, _ := value(scrape(t, metricsURL), "resizer_plugin_restarts_total", map[string]string{"plugin": "thumbnail"})
		if restarts >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thumbnail restarts still %v after its process was killed; logs:\n%s", restarts, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitReady(t, base, logs)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// waitReady polls /readyz until it answers 200 with every check ok.
func waitReady(t *testing.T, base string, logs *syncLog) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get(t, base+"/readyz")
		if code == http.StatusOK {
			for _, check := range []string{"consumer", "inbox", "recipes", "plugins"} {
				if !strings.Contains(body, check+": ok\n") {
					t.Errorf("/readyz 200 without %q ok:\n%s", check, body)
				}
			}
			return
		}
		if code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz: %d %q", code, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d:\n%s\nlogs:\n%s", code, body, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func receiveRecord(t *testing.T, client *sqs.Client, queueURL string) outbox.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), WaitTimeSeconds: 2, MaxNumberOfMessages: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var rec outbox.Record
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &rec); err != nil {
				t.Fatal(err)
			}
			return rec
		}
	}
	t.Fatal("no outbox record within 60s")
	return outbox.Record{}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", url, code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the sample of the series with exactly these labels: a counter's
// or gauge's value, a histogram's count.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if want, ok := labels[l.GetName()]; !ok || want != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}
