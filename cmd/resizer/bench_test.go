package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/engine/bench"
)

// TestBenchJSON runs a tiny bench (two small images, one worker) through
// local mode and reads its JSON report.
func TestBenchJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench", "--images", "2", "--size", "480x360", "--workers", "1", "--rounds", "1",
		"--recipes", filepath.Join("..", "..", "recipes"), "--json"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout.String())
	}
	if rep.Inputs.Count != 2 || len(rep.Workers) != 1 || rep.Workers[0].Workers != 1 {
		t.Fatalf("report: %+v", rep)
	}
	w := rep.Workers[0]
	if w.ImagesPerSecond.Median <= 0 || w.Stage("total").N != 2 || w.Stage("total").P50 > w.Stage("total").Max {
		t.Errorf("figures: %+v", w)
	}
	if !strings.Contains(stderr.String(), "bench: round 1/1, 1 worker: 2 images") {
		t.Errorf("no progress line on stderr:\n%s", stderr.String())
	}
}

// TestBenchCompareVipsWithoutVips: without vipsthumbnail, --compare vips
// fails at once, saying how to install it.
func TestBenchCompareVipsWithoutVips(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench", "--compare", "vips"}, &stdout, &stderr)
	if code != exitFailure {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitFailure, stderr.String())
	}
	msg := strings.TrimRight(stderr.String(), "\n")
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "vipsthumbnail") ||
		!strings.Contains(msg, "sudo apt-get install libvips-tools") {
		t.Errorf("want one line naming vipsthumbnail and how to install it, got:\n%s", msg)
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout: %s", stdout.String())
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"workers", []string{"--workers", "1,0"}, "worker counts"},
		{"size", []string{"--size", "4000"}, "WIDTHxHEIGHT"},
		{"compare", []string{"--compare", "imagemagick"}, "only comparison is vips"},
		{"rounds", []string{"--rounds", "0"}, "at least 1"},
		{"argument", []string{"photos/"}, "unexpected argument"},
		{"recipes", []string{"--recipes", "no-such-dir"}, "no recipes directory no-such-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"bench"}, tt.args...), &stdout, &stderr); code != exitUsage {
				t.Fatalf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}
