package daemon_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/daemon"
)

// TestReadiness follows /readyz through a daemon's life: not ready before
// Run, ready while it consumes, not ready when the inbox is gone.
func TestReadiness(t *testing.T) {
	e := embedded(t)
	e.cfg.MetricsAddr = "127.0.0.1:0"
	d, err := daemon.New(context.Background(), e.cfg, e.clients, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	readyz := func() (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + d.MetricsAddr() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	waitFor := func(what string, ok func(int, string) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, body := readyz()
			if ok(code, body) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz never %s; last %d:\n%s", what, code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	code, body := readyz()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "consumer: not receiving") ||
		!strings.Contains(body, "inbox: ok") || !strings.Contains(body, "recipes: ok") || !strings.Contains(body, "plugins: ok") {
		t.Errorf("before Run: %d\n%s", code, body)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor("ready", func(code int, _ string) bool { return code == http.StatusOK })

	// The inbox disappears: the consumer stops, and /readyz names the inbox.
	if _, err := e.clients.SQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(e.cfg.InboxURL)}); err != nil {
		t.Fatal(err)
	}
	waitFor("names the missing inbox", func(code int, body string) bool {
		return code == http.StatusServiceUnavailable && strings.Contains(body, "inbox: inbox "+e.cfg.InboxURL)
	})
	cancel()
	<-done
}
