package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/engine/pluginhost"
	"github.com/seed62486500/resizer/plugins/resize"
	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// The tests start this test binary as a self-served plugin, the way the
// daemon starts the resizer binary: "plugin serve NAME". The plugin gets
// no environment from the host, so the arguments alone must say so.
func init() {
	if len(os.Args) == 4 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// TestStepsDocIsCurrent keeps recipes/STEPS.md equal to what the plugins
// declare.
func TestStepsDocIsCurrent(t *testing.T) {
	want, err := stepsDoc(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", stepsDocFile))
	if err != nil {
		t.Fatalf("%v; run `go run ./cmd/resizer plugins docs -o %s`", err, stepsDocFile)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date; run `go run ./cmd/resizer plugins docs -o %s`", stepsDocFile, stepsDocFile)
	}
}

// TestSelfServedPlugin runs a plugin of this binary in its own process,
// as the daemon does with thumbnail and watermark.
func TestSelfServedPlugin(t *testing.T) {
	ext, err := pluginhost.SelfServed("resize")
	if err != nil {
		t.Fatal(err)
	}
	h, err := pluginhost.New(t.Context(), pluginhost.Options{External: ext})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p := h.Plugins()[0]
	if p.Kind != pluginhost.KindExternal || p.PID <= 0 || p.PID == os.Getpid() {
		t.Errorf("plugin %+v does not run in a process of its own", p)
	}
	out, err := h.Transform(t.Context(), sdk.Request{Operation: "resize", Params: sdk.Params{"width": 20}, Image: sdktest.Gradient(40, 30)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Rect.Dx() != 20 || out.Rect.Dy() != 15 {
		t.Errorf("resize over gRPC: %v", out.Rect)
	}
}

func TestPluginsCheck(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pluginhost.FileSHA256(exe)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"plugins", "check", exe, "plugin", "serve", "resize"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	for _, want := range []string{
		"sha256: " + sum,
		"ok   handshake and describe: plugin resize " + resize.Version + ", operations: 1",
		"ok   description is well formed",
		"ok   resize: an unknown parameter is refused",
		"skip resize: with default parameters",
		"sha256: " + sum + "\n",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &stdout)
		}
	}

	stdout.Reset()
	if code := run([]string{"plugins", "check", filepath.Join(t.TempDir(), "absent")}, &stdout, &stderr); code != exitFailure {
		t.Errorf("check of a missing file: exit %d", code)
	}
}

func TestPluginsList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plugins", "list"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	if !strings.Contains(stdout.String(), "resize") || !strings.Contains(stdout.String(), "built in") {
		t.Errorf("list:\n%s", &stdout)
	}

	// A configured plugin whose checksum does not match is refused.
	exe, _ := os.Executable()
	file := filepath.Join(t.TempDir(), "config.yaml")
	cfg := "plugins:\n  - {name: other, path: " + exe + ", sha256: " + strings.Repeat("0", 64) + ", args: [plugin, serve, resize]}\n"
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"plugins", "list", "--config", file}, &stdout, &stderr); code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(stderr.String(), "SHA-256") {
		t.Errorf("stderr: %s", &stderr)
	}
}

func TestPluginServeUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plugin", "serve", "nope"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("unknown plugin: exit %d", code)
	}
	if code := run([]string{"plugins", "frobnicate"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("unknown plugins command: exit %d", code)
	}
}
