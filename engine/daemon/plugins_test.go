package daemon_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
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
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/pluginhost"
	"github.com/seed62486500/resizer/engine/samples"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDaemon runs a daemon for e, logging into logs as well as the test log.
func startDaemon(t *testing.T, e env, logs *syncBuffer) (*daemon.Daemon, func()) {
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Name: "resizer", Level: hclog.Info, Output: ioMulti{testWriter{t}, logs}})
	d, err := daemon.New(context.Background(), e.cfg, e.clients, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon: %v", err)
			}
			d.Close()
		})
	}
	t.Cleanup(stop)
	return d, stop
}

type ioMulti []interface{ Write([]byte) (int, error) }

func (m ioMulti) Write(p []byte) (int, error) {
	for _, w := range m {
		w.Write(p)
	}
	return len(p), nil
}

func writeRecipe(t *testing.T, e env, yaml string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.cfg.RecipesDir, "photos.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
}

func pluginPID(t *testing.T, d *daemon.Daemon, name string) int {
	t.Helper()
	for _, p := range d.Plugins().Plugins() {
		if p.Name == name {
			return p.PID
		}
	}
	t.Fatalf("no plugin %q", name)
	return 0
}

// TestPluginsRunInTheirOwnProcesses checks that thumbnail and watermark run
// as child processes of the daemon (as ps shows them) and that a recipe
// using both, with a watermark image fetched from S3 and from a file,
// produces its outputs.
func TestPluginsRunInTheirOwnProcesses(t *testing.T) {
	e := embedded(t)
	logo := image.NewNRGBA(image.Rect(0, 0, 64, 32))
	for i := range logo.Pix {
		logo.Pix[i] = 255 // opaque white
	}
	var buf bytes.Buffer
	png.Encode(&buf, logo)
	e.put(t, "assets/logo.png", buf.Bytes())
	os.WriteFile(filepath.Join(e.cfg.RecipesDir, "logo.png"), buf.Bytes(), 0o644)
	writeRecipe(t, e, `name: photos
match: ["photos/**"]
outputs:
  - name: square
    steps:
      - thumbnail: {width: 120, height: 120, gravity: smart}
  - name: branded
    steps:
      - resize: {width: 400}
      - watermark: {image: "s3:assets/logo.png", position: bottom-right, opacity: 1, scale: 0.25}
  - name: stamped
    steps:
      - watermark: {image: logo.png, text: "© resizer", position: top-left, opacity: 0.8}
    format: png
`)
	var logs syncBuffer
	d, _ := startDaemon(t, e, &logs)
	for _, name := range []string{"thumbnail", "watermark"} {
		pid := pluginPID(t, d, name)
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			t.Fatalf("%s: pid %d: %v", name, pid, err)
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if pid == os.Getpid() || strings.Join(args[1:], " ") != "plugin serve "+name {
			t.Errorf("%s runs as pid %d with %q, want a child process serving it", name, pid, args)
		}
	}
	e.put(t, "photos/dark.jpg", samples.JPEG(800, 600, 11, 85))
	e.send(t, s3Notification("ObjectCreated:Put", "photos/dark.jpg"))
	recs := e.collect(t, 1, 60*time.Second, 0)
	if len(recs) != 1 || recs[0].Status != outbox.StatusProcessed {
		t.Fatalf("records %+v; logs:\n%s", recs, logs.String())
	}
	want := map[string][2]int{"square": {120, 120}, "branded": {400, 300}, "stamped": {800, 600}}
	for _, o := range recs[0].Outputs {
		if w := want[o.Name]; o.Width != w[0] || o.Height != w[1] {
			t.Errorf("%s: %dx%d, want %dx%d", o.Name, o.Width, o.Height, w[0], w[1])
		}
	}
	// The opaque white logo sits in the bottom-right corner of "branded".
	img := e.getImage(t, recs[0].Outputs[1].Key)
	if r, g, b, _ := img.At(395, 295).RGBA(); r>>8 < 235 || g>>8 < 235 || b>>8 < 235 {
		t.Errorf("branded: bottom-right pixel is %d,%d,%d, want the white logo", r>>8, g>>8, b>>8)
	}
}

func (e env) getImage(t *testing.T, key string) image.Image {
	t.Helper()
	out, err := e.clients.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	img, _, err := image.Decode(out.Body)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return img
}

// procStat is the fields of /proc/PID/stat after the parenthesised
// command name: the state first.
func procStat(pid int) ([]string, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	return strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:])), true
}

// cpuTicks is the CPU time a process has used, in clock ticks (utime and
// stime, the 14th and 15th fields of the whole line).
func cpuTicks(pid int) (int, bool) {
	f, ok := procStat(pid)
	if !ok {
		return 0, false
	}
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return utime + stime, true
}

// exited reports whether pid runs no more (gone, or a zombie nobody reaped).
func exited(pid int) bool {
	f, ok := procStat(pid)
	return !ok || f[0] == "Z" || f[0] == "X"
}

// TestKilledPluginJobIsRetried kills the thumbnail plugin with SIGKILL in
// the middle of a call (once it is burning CPU on a job): that job fails
// transiently, the plugin is restarted, the retried job succeeds and the
// daemon goes on.
func TestKilledPluginJobIsRetried(t *testing.T) {
	disruptedPluginJobIsRetried(t, 0, syscall.SIGKILL)
}

// TestHungPluginJobIsRetried stops the thumbnail plugin (SIGSTOP: a
// process that no longer answers, as a real hang) in the middle of a call:
// the per-call deadline fires, the job fails transiently, the hung process
// is replaced, and the retried job succeeds.
func TestHungPluginJobIsRetried(t *testing.T) {
	disruptedPluginJobIsRetried(t, 3*time.Second, syscall.SIGSTOP)
}

// disruptedPluginJobIsRetried sends sig to the thumbnail plugin mid-call,
// with the daemon's plugin_call_timeout set to callTimeout (0: the
// default), and checks that nothing is lost.
func disruptedPluginJobIsRetried(t *testing.T, callTimeout time.Duration, sig syscall.Signal) {
	if _, ok := cpuTicks(os.Getpid()); !ok {
		t.Skip("needs /proc to see when the plugin is busy")
	}
	e := embedded(t)
	if callTimeout > 0 {
		e.cfg.PluginCallTimeout = config.Duration(callTimeout)
	}
	writeRecipe(t, e, `name: photos
match: ["photos/**"]
outputs:
  - name: square
    steps:
      - thumbnail: {width: 200, height: 200, gravity: smart}
`)
	e.put(t, "photos/big.jpg", samples.JPEG(6000, 4000, 5, 85))
	var logs syncBuffer
	d, _ := startDaemon(t, e, &logs)
	pid := pluginPID(t, d, "thumbnail")
	idle, _ := cpuTicks(pid)
	e.send(t, s3Notification("ObjectCreated:Put", "photos/big.jpg"))
	deadline := time.Now().Add(60 * time.Second)
	for {
		busy, ok := cpuTicks(pid)
		if !ok || time.Now().After(deadline) {
			t.Fatalf("the thumbnail plugin never got to work; logs:\n%s", logs.String())
		}
		if busy >= idle+2 { // 20 ms of CPU at 100 Hz: mid-call
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	// A stopped process that outlived the test would hold its files.
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	recs := e.collect(t, 1, 120*time.Second, 0)
	if len(recs) != 1 || recs[0].Status != outbox.StatusProcessed {
		t.Fatalf("records %+v; logs:\n%s", recs, logs.String())
	}
	if !strings.Contains(logs.String(), "transient failure; the message will be retried") {
		t.Errorf("the job in the %v plugin did not fail transiently; logs:\n%s", sig, logs.String())
	}
	if d.Plugins().Restarts("thumbnail") < 1 || pluginPID(t, d, "thumbnail") == pid {
		t.Errorf("thumbnail was not restarted (restarts %d)", d.Plugins().Restarts("thumbnail"))
	}
	if sig == syscall.SIGSTOP && !exited(pid) {
		t.Errorf("the hung plugin process %d is still there", pid)
	}
	// Still running: a new upload is processed.
	e.put(t, "photos/after.jpg", samples.JPEG(600, 400, 99, 85))
	e.send(t, s3Notification("ObjectCreated:Put", "photos/after.jpg"))
	if recs := e.collect(t, 1, 60*time.Second, 0); len(recs) != 1 || recs[0].Status != outbox.StatusProcessed {
		t.Fatalf("after the restart: %+v", recs)
	}
}

// TestThirdPartyPlugin builds the example sepia plugin as its own binary,
// registers it by path and SHA-256, and uses it from a recipe.
func TestThirdPartyPlugin(t *testing.T) {
	e := embedded(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "sepia")
	if out, err := exec.Command("go", "build", "-o", bin, "../../plugins/examples/sepia").CombinedOutput(); err != nil {
		t.Fatalf("go build sepia: %v\n%s", err, out)
	}
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.PluginsDir = dir
	e.cfg.Plugins = config.Plugins{{Name: "sepia", Path: "sepia", SHA256: sum}}
	writeRecipe(t, e, `name: photos
match: ["photos/**"]
outputs:
  - name: old
    steps:
      - resize: {width: 100, height: 100, fit: cover}
      - sepia: {amount: 1}
    format: png
`)
	var logs syncBuffer
	startDaemon(t, e, &logs)
	src := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	for i := 0; i < len(src.Pix); i += 4 {
		copy(src.Pix[i:], []byte{40, 90, 200, 255}) // blue
	}
	var buf bytes.Buffer
	png.Encode(&buf, src)
	e.put(t, "photos/blue.png", buf.Bytes())
	e.send(t, s3Notification("ObjectCreated:Put", "photos/blue.png"))
	recs := e.collect(t, 1, 60*time.Second, 0)
	if len(recs) != 1 || recs[0].Status != outbox.StatusProcessed {
		t.Fatalf("records %+v; logs:\n%s", recs, logs.String())
	}
	c := color.NRGBAModel.Convert(e.getImage(t, recs[0].Outputs[0].Key).At(50, 50)).(color.NRGBA)
	if !(c.R > c.G && c.G > c.B) {
		t.Errorf("sepia output pixel %v is not warm-toned (want R > G > B)", c)
	}
}

// TestBadPluginChecksumRefusesToStart: a wrong SHA-256 stops the daemon
// before it takes any work.
func TestBadPluginChecksumRefusesToStart(t *testing.T) {
	e := embedded(t)
	bin := filepath.Join(t.TempDir(), "sepia")
	if out, err := exec.Command("go", "build", "-o", bin, "../../plugins/examples/sepia").CombinedOutput(); err != nil {
		t.Fatalf("go build sepia: %v\n%s", err, out)
	}
	e.cfg.Plugins = config.Plugins{{Name: "sepia", Path: bin, SHA256: strings.Repeat("0", 64)}}
	_, err := daemon.New(context.Background(), e.cfg, e.clients, hclog.NewNullLogger())
	if err == nil || !strings.Contains(err.Error(), "sepia") {
		t.Fatalf("daemon.New = %v, want a checksum error naming the plugin", err)
	}
}
