package pluginhost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/plugins/resize"
	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// testPlugin is testdata/testplugin, built once by TestMain.
var testPlugin struct{ path, sum string }

// helperEnv makes the test binary run helperMain instead of the tests: a
// daemon stand-in that a test can kill with SIGKILL.
const helperEnv = "PLUGINHOST_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	dir, err := os.MkdirTemp("", "pluginhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "testplugin")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/testplugin").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the test plugin: %v\n%s", err, out)
		os.Exit(1)
	}
	testPlugin.path = bin
	if testPlugin.sum, err = FileSHA256(bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects log output from many goroutines.
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

func testExternal(name string) External {
	e := External{Name: name, Path: testPlugin.path, SHA256: testPlugin.sum}
	if name != "testplugin" {
		e.Args = []string{name}
	}
	return e
}

// startHost starts a host with opts (the test plugin when opts has no
// plugins), logging JSON into the returned buffer, shown if the test fails.
func startHost(t *testing.T, opts Options) (*Host, *syncBuffer) {
	t.Helper()
	if len(opts.External) == 0 && len(opts.Builtin) == 0 {
		opts.External = []External{testExternal("testplugin")}
	}
	logs := &syncBuffer{}
	opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "host", Output: logs, JSONFormat: true, Level: hclog.Debug})
	h, err := New(t.Context(), opts)
	if err != nil {
		t.Fatalf("New: %v\nlogs:\n%s", err, logs)
	}
	t.Cleanup(func() {
		_ = h.Close()
		if t.Failed() {
			t.Logf("host logs:\n%s", logs)
		}
	})
	return h, logs
}

func pidOf(t *testing.T, h *Host, name string) int {
	t.Helper()
	for _, p := range h.Plugins() {
		if p.Name == name {
			return p.PID
		}
	}
	t.Fatalf("no plugin %q", name)
	return 0
}

// processGone reports whether pid has exited (a zombie counts: it runs no
// more code, and a container's init may never reap it).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func identity(ctx context.Context, h *Host) error {
	in := sdktest.Gradient(32, 24)
	out, err := h.Transform(ctx, sdk.Request{Operation: "identity", Image: in})
	if err != nil {
		return err
	}
	if d := sdktest.Diff(in, out); d != "" {
		return fmt.Errorf("identity changed the image: %s", d)
	}
	return nil
}

// waitHealthy waits until identity works again after a failure.
func waitHealthy(t *testing.T, h *Host) {
	t.Helper()
	var last error
	eventually(t, 10*time.Second, "the plugin answers again", func() bool {
		last = identity(t.Context(), h)
		return last == nil
	})
	_ = last
}

func TestCatalog(t *testing.T) {
	h, _ := startHost(t, Options{
		External: []External{testExternal("testplugin")},
		Builtin:  map[string]sdk.Transformer{"resize": resize.Transformer{}},
	})
	plugins := h.Plugins()
	if len(plugins) != 2 || plugins[0].Name != "resize" || plugins[1].Name != "testplugin" {
		t.Fatalf("Plugins() = %+v", plugins)
	}
	if p := plugins[0]; p.Kind != KindBuiltin || p.PID != 0 || p.Path != "" || p.Version != resize.Version {
		t.Errorf("resize = %+v", p)
	}
	if p := plugins[1]; p.Kind != KindExternal || p.PID <= 0 || p.Path != testPlugin.path || p.Version != "0.1.0" || len(p.Operations) == 0 {
		t.Errorf("testplugin = %+v", p)
	}
	for op, owner := range map[string]string{"resize": "resize", "identity": "testplugin", "hang": "testplugin"} {
		spec, got, ok := h.Operation(op)
		if !ok || got != owner || spec.Name != op {
			t.Errorf("Operation(%q) = %v, %q, %v; want owner %q", op, spec.Name, got, ok, owner)
		}
	}
	if _, _, ok := h.Operation("nope"); ok {
		t.Errorf("Operation(nope) found")
	}
	if err := identity(t.Context(), h); err != nil {
		t.Errorf("identity over gRPC: %v", err)
	}
	_, err := h.Transform(t.Context(), sdk.Request{Operation: "nope", Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, sdk.ErrInvalidParams) || !strings.Contains(err.Error(), "identity") {
		t.Errorf("unknown operation: %v, want ErrInvalidParams listing the known ones", err)
	}
}

// TestBuiltin: a built-in runs through the same catalog, with its params
// resolved by the host, and a panic stays inside the call.
func TestBuiltin(t *testing.T) {
	h, _ := startHost(t, Options{Builtin: map[string]sdk.Transformer{
		"resize": resize.Transformer{},
		"boom":   panicker{},
	}})
	// "fit" and the others are left to their declared defaults.
	out, err := h.Transform(t.Context(), sdk.Request{Operation: "resize", Params: sdk.Params{"width": 16}, Image: sdktest.Gradient(64, 48)})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Rect.Size(); got != image.Pt(16, 12) {
		t.Errorf("resize to width 16: %v", got)
	}
	err = h.Validate(t.Context(), "resize", sdk.Params{"fit": "cover"})
	var pe *sdk.ParamsError
	if !errors.As(err, &pe) || pe.Fields[0].Field != "width" {
		t.Errorf("Validate without width or height = %v, want the plugin's own ParamsError on width", err)
	}
	if err := h.Validate(t.Context(), "resize", sdk.Params{"width": 0}); !errors.Is(err, sdk.ErrInvalidParams) {
		t.Errorf("Validate width 0 = %v", err)
	}
	_, err = h.Transform(t.Context(), sdk.Request{Operation: "boom", Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, sdk.ErrInternal) || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("panicking built-in: %v, want ErrInternal", err)
	}
}

type panicker struct{}

func (panicker) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "boom", Version: "1.0.0", Operations: []sdk.Operation{{Name: "boom", Doc: "Panic."}}}, nil
}
func (panicker) Validate(context.Context, string, sdk.Params) error { return nil }
func (panicker) Transform(context.Context, sdk.Request) (*image.NRGBA, error) {
	panic("boom")
}

// TestTypedErrorsPassThrough: the plugin's invalid-params and
// unsupported-input errors reach the caller unchanged, not as
// ErrUnavailable, and do not restart the plugin.
func TestTypedErrorsPassThrough(t *testing.T) {
	h, _ := startHost(t, Options{})
	pid := pidOf(t, h, "testplugin")

	err := h.Validate(t.Context(), "identity", sdk.Params{"level": 11})
	var pe *sdk.ParamsError
	if !errors.As(err, &pe) || pe.Fields[0].Field != "level" || errors.Is(err, ErrUnavailable) {
		t.Errorf("Validate level 11 = %v, want a ParamsError on level", err)
	}
	if err := h.Validate(t.Context(), "identity", sdk.Params{"level": 3}); err != nil {
		t.Errorf("Validate level 3 = %v", err)
	}
	_, err = h.Transform(t.Context(), sdk.Request{Operation: "identity", Params: sdk.Params{"level": "x"}, Image: sdktest.Gradient(8, 8)})
	if !errors.Is(err, sdk.ErrInvalidParams) {
		t.Errorf("Transform with a bad level = %v", err)
	}
	_, err = h.Transform(t.Context(), sdk.Request{Operation: "identity", Params: sdk.Params{"max_width": 4}, Image: sdktest.Gradient(8, 8)})
	if !errors.Is(err, sdk.ErrUnsupportedInput) || errors.Is(err, ErrUnavailable) {
		t.Errorf("Transform of a too wide image = %v, want ErrUnsupportedInput", err)
	}
	if got := pidOf(t, h, "testplugin"); got != pid || h.Restarts("testplugin") != 0 {
		t.Errorf("plugin restarted (pid %d -> %d, %d restarts)", pid, got, h.Restarts("testplugin"))
	}
}

// TestNoDaemonEnvironment: the plugin process sees none of the daemon's
// environment, only go-plugin's handshake variables and the log level.
func TestNoDaemonEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	t.Setenv("RESIZER_BUCKET", "photos")
	t.Setenv("PLUGINHOST_TEST_CANARY", "1")
	h, _ := startHost(t, Options{})
	_, err := h.Transform(t.Context(), sdk.Request{Operation: "env", Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, sdk.ErrUnsupportedInput) {
		t.Fatalf("env: %v", err)
	}
	_, list, ok := strings.Cut(err.Error(), "env: ")
	if !ok {
		t.Fatalf("env: %v", err)
	}
	allowed := []string{
		sdk.LogLevelEnv, sdk.Handshake.MagicCookieKey,
		"PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT", "PLUGIN_PROTOCOL_VERSIONS", "PLUGIN_CLIENT_CERT",
	}
	names := strings.Split(list, ",")
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			t.Errorf("the plugin sees %s", name)
		}
	}
	if !slices.Contains(names, "PLUGIN_CLIENT_CERT") {
		t.Errorf("no PLUGIN_CLIENT_CERT: AutoMTLS is off (plugin sees %s)", list)
	}
}

// TestLogsFlowIntoTheHostLogger: the plugin's JSON logs on stderr (the
// SDK's panic report) and its stdout land in the host's logger under the
// plugin's name.
func TestLogsFlowIntoTheHostLogger(t *testing.T) {
	h, logs := startHost(t, Options{})
	_, err := h.Transform(t.Context(), sdk.Request{Operation: "panic", Params: sdk.Params{"marker": "m-4711"}, Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, sdk.ErrInternal) {
		t.Fatalf("panic: %v", err)
	}
	if err := identityWith(t.Context(), h, sdk.Params{"marker": "m-0815"}); err != nil {
		t.Fatal(err)
	}
	find := func(marker string) func() bool {
		return func() bool {
			sc := bufio.NewScanner(strings.NewReader(logs.String()))
			for sc.Scan() {
				var entry map[string]any
				if json.Unmarshal(sc.Bytes(), &entry) != nil || !strings.Contains(sc.Text(), marker) {
					continue
				}
				if entry["@module"] == "host.testplugin" {
					return true
				}
			}
			return false
		}
	}
	eventually(t, 5*time.Second, "the plugin's panic log under host.testplugin", find("m-4711"))
	eventually(t, 5*time.Second, "the plugin's stdout under host.testplugin", find("m-0815"))
}

func identityWith(ctx context.Context, h *Host, p sdk.Params) error {
	_, err := h.Transform(ctx, sdk.Request{Operation: "identity", Params: p, Image: sdktest.Gradient(4, 4)})
	return err
}

func TestChecksumMismatchAtStart(t *testing.T) {
	e := testExternal("testplugin")
	e.SHA256 = strings.Repeat("ab", 32)
	_, err := New(t.Context(), Options{External: []External{e}})
	if err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), testPlugin.sum) {
		t.Fatalf("New with a wrong checksum = %v, want a refusal naming the actual SHA-256", err)
	}
}

// TestChecksumMismatchAtRestart: the executable is replaced while the
// plugin runs, then the plugin dies; the restart is refused and calls fail
// with ErrUnavailable saying why.
func TestChecksumMismatchAtRestart(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "plugin")
	copyFile(t, testPlugin.path, bin)
	e := testExternal("testplugin")
	e.Path = bin
	h, _ := startHost(t, Options{External: []External{e}})
	pid := pidOf(t, h, "testplugin")

	// Replace the file the way an attacker or a careless deploy would.
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin+".new", append(data, "tampered"...), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var last error
	eventually(t, 10*time.Second, "a call refused for the checksum", func() bool {
		last = identity(t.Context(), h)
		return last != nil && strings.Contains(last.Error(), "SHA-256")
	})
	if !errors.Is(last, ErrUnavailable) {
		t.Errorf("error %v does not match ErrUnavailable", last)
	}
	t.Logf("restart refused: %v", last)
	if got := pidOf(t, h, "testplugin"); got != 0 {
		t.Errorf("a plugin runs with pid %d", got)
	}
	if h.Restarts("testplugin") == 0 {
		t.Errorf("no restart counted")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestCrash: a plugin that exits in the middle of a call fails that call
// with ErrUnavailable and is restarted; later calls succeed.
func TestCrash(t *testing.T) {
	h, _ := startHost(t, Options{})
	pid := pidOf(t, h, "testplugin")
	_, err := h.Transform(t.Context(), sdk.Request{Operation: "crash", Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("crash: %v, want ErrUnavailable", err)
	}
	t.Logf("crash: %v", err)
	waitHealthy(t, h)
	if got := pidOf(t, h, "testplugin"); got == pid || got == 0 {
		t.Errorf("pid %d after the crash, was %d", got, pid)
	}
	if n := h.Restarts("testplugin"); n != 1 {
		t.Errorf("Restarts = %d, want 1", n)
	}
}

// TestKilledMidCall: SIGKILL during a call fails that call with
// ErrUnavailable; the replacement answers.
func TestKilledMidCall(t *testing.T) {
	h, _ := startHost(t, Options{})
	pid := pidOf(t, h, "testplugin")
	time.AfterFunc(200*time.Millisecond, func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	_, err := h.Transform(t.Context(), sdk.Request{Operation: "sleep", Params: sdk.Params{"ms": 10_000}, Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("call during SIGKILL: %v, want ErrUnavailable", err)
	}
	t.Logf("killed mid-call: %v", err)
	if err := identity(t.Context(), h); err != nil {
		t.Errorf("the call after the crash: %v (it should wait for the restart)", err)
	}
	if got := pidOf(t, h, "testplugin"); got == pid {
		t.Errorf("still pid %d", got)
	}
}

// TestKilledBetweenCalls: a plugin killed while idle is noticed and
// replaced without any call failing.
func TestKilledBetweenCalls(t *testing.T) {
	h, _ := startHost(t, Options{})
	pid := pidOf(t, h, "testplugin")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "a new plugin process", func() bool {
		got := pidOf(t, h, "testplugin")
		return got != 0 && got != pid
	})
	if err := identity(t.Context(), h); err != nil {
		t.Errorf("after the restart: %v", err)
	}
}

// TestHang: a call that misses the deadline fails with ErrUnavailable, the
// hung process is killed and a new one answers.
func TestHang(t *testing.T) {
	h, _ := startHost(t, Options{CallTimeout: 500 * time.Millisecond})
	pid := pidOf(t, h, "testplugin")
	start := time.Now()
	_, err := h.Transform(t.Context(), sdk.Request{Operation: "hang", Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("hang: %v, want ErrUnavailable", err)
	}
	t.Logf("hang: %v", err)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hang returned after %v, deadline 500ms", d)
	}
	eventually(t, 5*time.Second, "the hung process is killed", func() bool { return processGone(pid) })
	waitHealthy(t, h)
}

// TestCallerCancels: the caller's own cancellation is not the plugin's
// fault: context.Canceled, no restart.
func TestCallerCancels(t *testing.T) {
	h, _ := startHost(t, Options{})
	pid := pidOf(t, h, "testplugin")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := h.Transform(ctx, sdk.Request{Operation: "sleep", Params: sdk.Params{"ms": 10_000}, Image: sdktest.Gradient(4, 4)})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("cancelled call: %v, want context.DeadlineExceeded", err)
	}
	time.Sleep(3 * exitPoll)
	if got := pidOf(t, h, "testplugin"); got != pid || h.Restarts("testplugin") != 0 {
		t.Errorf("plugin replaced after the caller's cancellation")
	}
}

func TestStartTimeout(t *testing.T) {
	e := testExternal("testplugin")
	e.Args = []string{"--no-handshake"}
	start := time.Now()
	_, err := New(t.Context(), Options{External: []External{e}, StartTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("New = %v, want a start timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestOperationNamesAreUnique(t *testing.T) {
	_, err := New(t.Context(), Options{External: []External{testExternal("testplugin"), testExternal("other")}})
	if err == nil || !strings.Contains(err.Error(), `"testplugin"`) || !strings.Contains(err.Error(), `"other"`) {
		t.Errorf("two plugins with the same operations: %v, want an error naming both", err)
	}
	_, err = New(t.Context(), Options{Builtin: map[string]sdk.Transformer{"resize": resize.Transformer{}, "resize2": renamed{resize.Transformer{}, "resize2"}}})
	if err == nil || !strings.Contains(err.Error(), `operation "resize" is offered by both plugin "resize" and plugin "resize2"`) {
		t.Errorf("two built-ins with one operation: %v", err)
	}
}

type renamed struct {
	sdk.Transformer
	name string
}

func (r renamed) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := r.Transformer.Describe(ctx)
	info.Name = r.name
	return info, err
}

func TestOptionsChecked(t *testing.T) {
	good := testExternal("testplugin")
	tests := []struct {
		name string
		ext  []External
		want string
	}{
		{"no name", []External{{Path: good.Path, SHA256: good.SHA256}}, "has no name"},
		{"no path", []External{{Name: "x", SHA256: good.SHA256}}, `plugin "x" has no path`},
		{"short sum", []External{{Name: "x", Path: good.Path, SHA256: "abc"}}, "64 hexadecimal digits"},
		{"name twice", []External{good, good}, `"testplugin" is used twice`},
		{"builtin's name", []External{{Name: "resize", Path: good.Path, SHA256: good.SHA256}}, `"resize" is used twice`},
		{"wrong self-description", []External{{Name: "x", Path: good.Path, SHA256: good.SHA256}}, `plugin "x" describes itself as "testplugin"`},
		{"missing file", []External{{Name: "x", Path: "nope", SHA256: good.SHA256}}, "/nonexistent/plugins/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), Options{Dir: "/nonexistent/plugins", External: tt.ext, Builtin: map[string]sdk.Transformer{"resize": resize.Transformer{}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestClose: every plugin process is gone after Close, and calls then fail
// with ErrUnavailable.
func TestClose(t *testing.T) {
	h, _ := startHost(t, Options{External: []External{testExternal("testplugin")}})
	pid := pidOf(t, h, "testplugin")
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if !processGone(pid) {
		t.Errorf("plugin %d still running after Close", pid)
	}
	if err := identity(t.Context(), h); !errors.Is(err, ErrUnavailable) {
		t.Errorf("call after Close: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestStartedFromAnExitingThread: the kernel's parent-death signal follows
// the thread that forked the plugin. New called from a goroutine whose
// locked thread then exits must not take the plugins with it.
func TestStartedFromAnExitingThread(t *testing.T) {
	type result struct {
		h   *Host
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		h, err := New(t.Context(), Options{External: []External{testExternal("testplugin")}})
		done <- result{h, err}
		// Returning while locked ends this OS thread.
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.h.Close()
	pid := pidOf(t, r.h, "testplugin")
	time.Sleep(500 * time.Millisecond)
	if processGone(pid) {
		t.Fatalf("the plugin died with the thread that called New")
	}
	if err := identity(t.Context(), r.h); err != nil {
		t.Fatal(err)
	}
}

func TestSelfServed(t *testing.T) {
	got, err := SelfServed("thumbnail", "watermark")
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	sum, _ := FileSHA256(exe)
	for i, name := range []string{"thumbnail", "watermark"} {
		want := External{Name: name, Path: exe, SHA256: sum, Args: []string{"plugin", "serve", name}}
		if g := got[i]; g.Name != want.Name || g.Path != want.Path || g.SHA256 != want.SHA256 || !slices.Equal(g.Args, want.Args) {
			t.Errorf("SelfServed[%d] = %+v, want %+v", i, g, want)
		}
	}
}

// TestNoPluginOutlivesAKilledHost: a host process killed with SIGKILL
// takes its plugins with it, through the kernel's parent-death signal and,
// without it, through the plugin's own watch of its parent.
func TestNoPluginOutlivesAKilledHost(t *testing.T) {
	for _, tt := range []struct {
		name   string
		env    string
		within time.Duration
	}{
		{"parent-death signal", "pdeathsig", 2 * time.Second},
		{"parent watch alone", "watch", 3 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+tt.env,
				"PLUGINHOST_TEST_PLUGIN="+testPlugin.path, "PLUGINHOST_TEST_SUM="+testPlugin.sum)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, stderr.String())
			}
			pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "plugin pid ")))
			if err != nil {
				t.Fatalf("helper said %q: %v\n%s", line, err, stderr.String())
			}
			if processGone(pid) {
				t.Fatalf("plugin %d is not running", pid)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			killed := time.Now()
			eventually(t, tt.within, fmt.Sprintf("plugin %d exits after its host was killed", pid), func() bool { return processGone(pid) })
			t.Logf("plugin gone %v after the host", time.Since(killed).Round(time.Millisecond))
		})
	}
}

// helperMain is the killed host of TestNoPluginOutlivesAKilledHost: it
// starts the test plugin, prints its pid and waits to be killed.
func helperMain() int {
	withoutParentDeathSignal = os.Getenv(helperEnv) == "watch"
	h, err := New(context.Background(), Options{External: []External{{
		Name: "testplugin", Path: os.Getenv("PLUGINHOST_TEST_PLUGIN"), SHA256: os.Getenv("PLUGINHOST_TEST_SUM"),
	}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("plugin pid %d\n", h.Plugins()[0].PID)
	time.Sleep(time.Minute)
	return 1
}
