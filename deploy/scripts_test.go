package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceUnit checks the systemd unit's hardening and restart settings,
// and has systemd-analyze verify it where systemd is installed.
func TestServiceUnit(t *testing.T) {
	data, err := os.ReadFile("resizer.service")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			got[k] = v
		}
	}
	for k, want := range map[string]string{
		"User":            "resizer",
		"Restart":         "on-failure",
		"NoNewPrivileges": "yes",
		"ProtectSystem":   "strict",
		"PrivateTmp":      "yes",
		"ReadWritePaths":  "/var/lib/resizer",
		"MemoryMax":       "85%",
		"KillMode":        "mixed",
		"ExecStart":       "/usr/local/bin/resizer run --config /etc/resizer/config.yaml",
	} {
		if got[k] != want {
			t.Errorf("%s=%q, want %q", k, got[k], want)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not on PATH: unit not verified by systemd")
		return
	}
	// verify wants the executable to exist: point it at one that does.
	dir := t.TempDir()
	unit := filepath.Join(dir, "resizer.service")
	text := strings.ReplaceAll(string(data), "/usr/local/bin/resizer run", "/bin/true run")
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestInstallScript runs deploy/install.sh into a staging root the way the
// launch template's user data calls it, twice, and checks the layout.
func TestInstallScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not on PATH")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	binary := filepath.Join(dir, "resizer")
	if err := os.WriteFile(binary, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte("metrics_addr: \":9464\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	install := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bash, append([]string{"install.sh", "--root", root, "--binary", binary}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("install.sh %v: %v\n%s", args, err, out)
		}
	}
	install("--config", config, "--recipes", filepath.Join("..", "recipes"))
	// Again without --config: the installed configuration stays.
	install()

	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{"usr/local/bin/resizer", 0o755},
		{"etc/resizer/config.yaml", 0o640},
		{"etc/resizer/resizer.example.yaml", 0o644},
		{"etc/resizer/recipes/default.yaml", 0o644},
		{"etc/systemd/system/resizer.service", 0o644},
		{"var/lib/resizer/tmp", os.ModeDir | 0o700},
		{"usr/lib/resizer/plugins", os.ModeDir | 0o755},
	} {
		info, err := os.Stat(filepath.Join(root, f.path))
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		if info.Mode() != f.mode {
			t.Errorf("%s: mode %v, want %v", f.path, info.Mode(), f.mode)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc/resizer/config.yaml")); string(data) != "metrics_addr: \":9464\"\n" {
		t.Errorf("config.yaml was replaced by a run without --config: %q", data)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/bin/resizer.new")); !os.IsNotExist(err) {
		t.Errorf("resizer.new left behind: %v", err)
	}

	cmd := exec.Command(bash, "install.sh", "--root", root)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--binary is required") {
		t.Errorf("install.sh without --binary: %v\n%s", err, out)
	}
}
