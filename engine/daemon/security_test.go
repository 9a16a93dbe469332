package daemon_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/samples"
)

// TestNoCredentialsInLogsOrOutbox runs jobs, good and bad, with credentials
// from the environment (as the default chain finds them) and debug logging,
// and checks that neither the logs nor the outbox records carry them.
func TestNoCredentialsInLogsOrOutbox(t *testing.T) {
	const keyID, secret, token = "AKIACANARYKEYID00042", "canary/Secret+Access+Key+Value+0042", "canary-session-token-0042"
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", token)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	e := embedded(t)
	clients, err := daemon.NewClients(context.Background(), e.cfg) // the default chain: the environment
	if err != nil {
		t.Fatal(err)
	}
	e.clients = clients

	var logs syncBuffer
	log := hclog.New(&hclog.LoggerOptions{Name: "resizer", Level: hclog.Trace, Output: &logs})
	d, err := daemon.New(context.Background(), e.cfg, e.clients, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	e.put(t, "photos/ok.jpg", samples.JPEG(300, 200, 1, 85))
	e.put(t, "photos/bad.jpg", []byte("not an image"))
	e.send(t, s3Notification("ObjectCreated:Put", "photos/ok.jpg", "photos/bad.jpg", "photos/missing.jpg"))
	e.send(t, "{broken")
	recs := e.collect(t, 4, time.Minute, 0)
	cancel()
	<-done

	all, _ := json.Marshal(recs)
	outboxText := string(all)
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4:\n%s", len(recs), outboxText)
	}
	for _, s := range []string{keyID, secret, token, "Secret+Access"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the logs contain %q", s)
		}
		if strings.Contains(outboxText, s) {
			t.Errorf("an outbox record contains %q", s)
		}
	}
	if !strings.Contains(logs.String(), "photos/bad.jpg") {
		t.Error("the logs did not record the jobs at all; the check proved nothing")
	}
}
