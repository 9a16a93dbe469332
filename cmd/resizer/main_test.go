package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "bucekt: x\n", `unknown field "bucekt"`},
		{"bad url", "inbox_url: \"not a url\"\n", "inbox_url"},
		{"non-fifo outbox", "outbox_url: https://sqs.us-east-1.amazonaws.com/1/outbox\n", "FIFO"},
		{"missing bucket", "bucket: \"\"\n", "bucket"},
		{"yaml syntax", "workers: [\n", "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"run", "--config", file}, &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, exitUsage, stderr.String())
			}
			msg := strings.TrimRight(stderr.String(), "\n")
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) {
				t.Fatalf("stderr %q: want one line mentioning %q", msg, tt.want)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"frobnicate"}, &stdout, &stderr); code != exitUsage {
		t.Fatalf("exit code %d, want %d", code, exitUsage)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary compiles resizer once for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "resizer-test-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "resizer")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

const sigtermRecipe = `name: photos
match: ["uploads/**"]
outputs:
  - {name: large, width: 1600, height: 1600}
  - {name: medium, width: 800, height: 800}
  - {name: thumb, width: 200, height: 200, format: png}
`

// TestSIGTERMDuringJobs stops the daemon process with SIGTERM while jobs
// are in flight, starts it again, and checks that every upload ends with
// exactly its outputs and one outbox record: with a grace period long
// enough to finish the jobs, and with one so short that they are cancelled
// and released.
func TestSIGTERMDuringJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	for _, grace := range []string{"30s", "1ms"} {
		t.Run("grace="+grace, func(t *testing.T) { sigtermScenario(t, bin, grace) })
	}
}

func sigtermScenario(t *testing.T, bin, grace string) {
	ctx := context.Background()
	srv, err := awslocal.Start(ctx, awslocal.Options{
		Bucket: "bucket-image-resizer-storage", InboxQueue: "inbox.fifo", OutboxQueue: "outbox.fifo",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	dir := t.TempDir()
	recipes := filepath.Join(dir, "recipes")
	os.Mkdir(recipes, 0o755)
	os.WriteFile(filepath.Join(recipes, "photos.yaml"), []byte(sigtermRecipe), 0o644)
	tmp := filepath.Join(dir, "tmp")
	cfgFile := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`endpoint: %s
inbox_url: %s
outbox_url: %s
recipes_dir: %s
temp_dir: %s
workers: 2
wait_time: 1s
retry_base: 1s
shutdown_grace: %s
`, srv.URL(), srv.QueueURL("inbox.fifo"), srv.QueueURL("outbox.fifo"), recipes, tmp, grace)), 0o644)

	cfg := config.Default()
	cfg.Endpoint = srv.URL()
	clients, err := daemon.NewClients(ctx, cfg, local.StaticCredentials())
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	for i := range n {
		_, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(cfg.Bucket), Key: aws.String(fmt.Sprintf("uploads/img-%d.jpg", i)),
			Body: bytes.NewReader(samples.JPEG(3000, 2000, uint64(i), 85)),
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "run", "--config", cfgFile, "--log-format", "json")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true")
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &logs
	}
	inFlight := func() int {
		out, err := clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(srv.QueueURL("inbox.fifo")),
			AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessagesNotVisible"},
		})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
		return v
	}

	// First run: SIGTERM as soon as jobs are in flight.
	cmd, logs := start()
	deadline := time.Now().Add(30 * time.Second)
	for inFlight() == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no job started; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitTimeout(cmd, 60*time.Second); err != nil {
		t.Fatalf("first run after SIGTERM: %v; logs:\n%s", err, logs)
	}
	var recs []outbox.Record
	for {
		got, err := local.ReadOutbox(ctx, clients.SQS, srv.QueueURL("outbox.fifo"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		recs = append(recs, got...)
	}
	t.Logf("grace %s: %d of %d records after the first run", grace, len(recs), n)

	// Second run finishes the rest.
	cmd, logs = start()
	deadline = time.Now().Add(120 * time.Second)
	for len(recs) < n && time.Now().Before(deadline) {
		got, err := local.ReadOutbox(ctx, clients.SQS, srv.QueueURL("outbox.fifo"), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, got...)
	}
	time.Sleep(2 * time.Second) // anything extra would show up now
	got, _ := local.ReadOutbox(ctx, clients.SQS, srv.QueueURL("outbox.fifo"), time.Second)
	recs = append(recs, got...)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitTimeout(cmd, 60*time.Second); err != nil {
		t.Fatalf("second run: %v; logs:\n%s", err, logs)
	}

	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.Source.Key] {
			t.Errorf("duplicate outbox record for %s", r.Source.Key)
		}
		seen[r.Source.Key] = true
		if r.Status != outbox.StatusProcessed || len(r.Outputs) != 3 {
			t.Errorf("%s: %s with %d outputs (%+v)", r.Source.Key, r.Status, len(r.Outputs), r.Error)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d sources reported, want %d", len(seen), n)
	}
	list, err := clients.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket), Prefix: aws.String("processed/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 3*n {
		t.Errorf("%d objects under processed/, want %d", len(list.Contents), 3*n)
	}
	if v := inFlight(); v != 0 {
		t.Errorf("%d inbox messages still in flight", v)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("%d temp files left", len(left))
	}
}

func waitTimeout(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		return fmt.Errorf("did not exit within %v", d)
	}
}

// TestSIGKILLRecovery kills the daemon with SIGKILL while jobs are in
// flight, starts it again and checks that every upload still ends as its
// outputs (each complete) and one outbox record, that the killed daemon's
// plugin processes died with it, and that nothing is left in the temp dir.
func TestSIGKILLRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	ctx := context.Background()
	srv, err := awslocal.Start(ctx, awslocal.Options{
		Bucket: "bucket-image-resizer-storage", InboxQueue: "inbox.fifo", OutboxQueue: "outbox.fifo",
		InboxVisibilityTimeout: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	recipes := filepath.Join(dir, "recipes")
	os.Mkdir(recipes, 0o755)
	os.WriteFile(filepath.Join(recipes, "photos.yaml"), []byte(sigtermRecipe), 0o644)
	tmp := filepath.Join(dir, "tmp")
	cfgFile := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf("endpoint: %s\ninbox_url: %s\noutbox_url: %s\nrecipes_dir: %s\ntemp_dir: %s\nworkers: 2\nwait_time: 1s\nretry_base: 1s\n",
		srv.URL(), srv.QueueURL("inbox.fifo"), srv.QueueURL("outbox.fifo"), recipes, tmp)), 0o644)
	cfg := config.Default()
	cfg.Endpoint = srv.URL()
	clients, err := daemon.NewClients(ctx, cfg, local.StaticCredentials())
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	for i := range n {
		_, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(cfg.Bucket), Key: aws.String(fmt.Sprintf("uploads/crash-%d.jpg", i)),
			Body: bytes.NewReader(samples.JPEG(3000, 2000, uint64(i), 85)),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	start := func() (*exec.Cmd, *syncLog) {
		cmd := exec.Command(bin, "run", "--config", cfgFile, "--log-format", "json")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true")
		logs := &syncLog{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, logs
	}
	inFlight := func() int {
		out, err := clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(srv.QueueURL("inbox.fifo")),
			AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessagesNotVisible"},
		})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
		return v
	}

	cmd, logs := start()
	deadline := time.Now().Add(30 * time.Second)
	for inFlight() == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no job started; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	plugins := pluginPIDs(logs.String())
	if len(plugins) == 0 {
		t.Fatalf("no plugin pids in the logs:\n%s", logs)
	}
	time.Sleep(time.Second)
	for _, pid := range plugins {
		if alive(pid) {
			t.Errorf("plugin process %d outlived the killed daemon", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}

	var recs []outbox.Record
	cmd, logs = start()
	deadline = time.Now().Add(120 * time.Second)
	for len(recs) < n && time.Now().Before(deadline) {
		got, err := local.ReadOutbox(ctx, clients.SQS, srv.QueueURL("outbox.fifo"), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, got...)
	}
	time.Sleep(4 * time.Second) // a lease past: anything extra shows now
	got, _ := local.ReadOutbox(ctx, clients.SQS, srv.QueueURL("outbox.fifo"), time.Second)
	recs = append(recs, got...)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitTimeout(cmd, 60*time.Second); err != nil {
		t.Fatalf("second run: %v; logs:\n%s", err, logs)
	}

	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Source.Key]++
		if r.Status != outbox.StatusProcessed {
			t.Errorf("%s: %s %+v", r.Source.Key, r.Status, r.Error)
		}
	}
	for i := range n {
		if k := fmt.Sprintf("uploads/crash-%d.jpg", i); seen[k] != 1 {
			t.Errorf("%s: %d outbox records, want 1", k, seen[k])
		}
	}
	list, err := clients.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket), Prefix: aws.String("processed/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 3*n {
		t.Errorf("%d objects under processed/, want %d", len(list.Contents), 3*n)
	}
	for _, o := range list.Contents {
		obj, err := clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cfg.Bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = image.Decode(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Errorf("%s is not a complete image: %v", aws.ToString(o.Key), err)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("%d temp files left (the killed run's are removed on the next start)", len(left))
	}
}

// alive reports whether a process runs: it exists and is not a zombie
// waiting for an init that does not reap (as in some containers).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// pluginPIDs reads the pids of started plugins from JSON logs.
func pluginPIDs(logs string) []int {
	var pids []int
	for _, line := range strings.Split(logs, "\n") {
		var entry struct {
			Message string `json:"@message"`
			PID     int    `json:"pid"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "plugin started" && entry.PID > 0 {
			pids = append(pids, entry.PID)
		}
	}
	return pids
}

type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
