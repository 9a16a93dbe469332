package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed62486500/resizer/engine/awslocal"
)

func newStore(t *testing.T, maxBytes int64) (*Store, *s3.Client, string) {
	t.Helper()
	srv, err := awslocal.Start(context.Background(), awslocal.Options{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	dir := filepath.Join(t.TempDir(), "tmp")
	store, err := New(client, dir, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return store, client, dir
}

func put(t *testing.T, c *s3.Client, key string, body []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestTempFilesArePrivateAndRemoved: downloads land in a 0700 directory as
// 0600 files with generated names, whatever the key, and are gone after
// Close and on every failure path.
func TestTempFilesArePrivateAndRemoved(t *testing.T) {
	store, client, dir := newStore(t, 1000)
	keys := []string{"../../etc/passwd", "a b/c+d é.jpg", "/abs/path.jpg", strings.Repeat("k/", 400) + "x.jpg"}
	for _, key := range keys {
		put(t, client, key, []byte("hello"))
		obj, err := store.Fetch(context.Background(), "b", key, "")
		if err != nil {
			t.Fatalf("%q: %v", key, err)
		}
		if filepath.Dir(obj.File.Name()) != dir || strings.Contains(obj.File.Name(), "passwd") || strings.Contains(obj.File.Name(), "é") {
			t.Errorf("%q downloaded to %s, want a generated name in %s", key, obj.File.Name(), dir)
		}
		fi, _ := obj.File.Stat()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("temp file mode %v, want 0600", fi.Mode().Perm())
		}
		if obj.Size != 5 {
			t.Errorf("size %d, want 5", obj.Size)
		}
		obj.Close()
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("temp dir mode %v, want 0700", di.Mode().Perm())
	}
	// Failure paths leave nothing either.
	put(t, client, "big", bytes.Repeat([]byte("x"), 2000))
	if _, err := store.Fetch(context.Background(), "b", "big", ""); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big object: %v, want ErrTooLarge", err)
	}
	if _, err := store.Fetch(context.Background(), "b", "missing", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing object: %v, want ErrNotFound", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("files left in the temp dir: %v", names)
	}
	// Nothing was written outside the temp dir for the hostile key.
	if _, err := os.Stat(filepath.Join(dir, "..", "..", "etc", "passwd")); err == nil {
		t.Error("a file appeared at the path the key names")
	}
}

func TestSweepRemovesOnlyDeadProcessesFiles(t *testing.T) {
	dir := t.TempDir()
	dead := tempPrefix(1<<22-1) + "123"     // no such pid: above the usual pid_max
	live := tempPrefix(os.Getpid()) + "456" // this process
	other := "notes.txt"                    // not ours
	for _, name := range []string{dead, live, other} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	sweepTemp(dir)
	got := strings.Join(dirEntries(t, dir), ",")
	if got != strings.Join([]string{other, live}, ",") && got != strings.Join([]string{live, other}, ",") {
		t.Fatalf("after the sweep: %s; want %s and %s", got, live, other)
	}
}
