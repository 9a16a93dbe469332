package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// TestLocalModeWithAWSCLI runs `resizer local` and the AWS CLI commands it
// prints, as the README tells a new user to.
func TestLocalModeWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not on PATH")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "photo.jpg"), samples.JPEG(1200, 900, 3, 85), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	cmd := exec.Command(bin, "local", "--addr", "127.0.0.1:0", "--set", "recipes_dir="+filepath.Join(wd, "..", "..", "recipes"),
		"--set", "temp_dir="+filepath.Join(dir, "tmp"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitTimeout(cmd, 30*time.Second); err != nil {
			t.Errorf("resizer local after SIGTERM: %v", err)
		}
	}()

	// Read the banner up to the commands it prints.
	var env []string
	var commands []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			env = append(env, strings.Fields(rest)...)
		}
		if strings.HasPrefix(line, "aws ") {
			commands = append(commands, line)
		}
		if len(commands) == 3 {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if len(commands) != 3 || len(env) != 3 {
		t.Fatalf("banner gave %d commands and %d variables; logs:\n%s", len(commands), len(env), logs.String())
	}
	runAWS := func(line string) string {
		t.Helper()
		args := strings.Fields(line)
		c := exec.Command(args[0], args[1:]...)
		c.Dir = dir
		c.Env = append(os.Environ(), env...)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return string(out)
	}

	runAWS(commands[0])        // s3 cp photo.jpg
	out := runAWS(commands[1]) // sqs receive-message on the outbox
	var resp struct {
		Messages []struct{ Body string }
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.Messages) != 1 {
		t.Fatalf("receive-message printed %q (%v); logs:\n%s", out, err, logs.String())
	}
	var rec outbox.Record
	if err := json.Unmarshal([]byte(resp.Messages[0].Body), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != outbox.StatusProcessed || rec.Source.Key != "uploads/photo.jpg" || len(rec.Outputs) == 0 {
		t.Fatalf("outbox record: %+v", rec)
	}
	listing := runAWS(commands[2]) // s3 ls processed/
	for _, o := range rec.Outputs {
		if !strings.Contains(listing, o.Key) {
			t.Errorf("s3 ls does not show %s:\n%s", o.Key, listing)
		}
	}
}
