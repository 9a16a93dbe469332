package daemon_test

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// engineGoroutines lists the goroutines running code of the engine's own
// packages (the test's goroutines aside).
func engineGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "resizer/engine/") && !strings.Contains(g, "_test.") && !strings.Contains(g, "engine/awslocal") {
			found = append(found, g)
		}
	}
	return found
}

// TestFaultsLoseNothing processes a batch of images while the S3 and SQS
// endpoints fail a share of requests in every way the fault injector knows,
// then checks the invariants: every source has exactly its outputs, all
// decodable; the outbox shows one record per source; the inbox is empty; no
// temp file and no engine goroutine is left.
func TestFaultsLoseNothing(t *testing.T) {
	faults := awslocal.NewFaults(7,
		awslocal.FaultRule{Service: "s3", Op: "HeadObject", Rate: 0.15, Kind: awslocal.FaultThrottle},
		awslocal.FaultRule{Service: "s3", Op: "GetObject", Rate: 0.15, Kind: awslocal.FaultInternal},
		awslocal.FaultRule{Service: "s3", Op: "GetObject", Rate: 0.15, Kind: awslocal.FaultReset},
		awslocal.FaultRule{Service: "s3", Op: "GetObject", Rate: 0.2, Kind: awslocal.FaultLatency, Latency: 300 * time.Millisecond},
		awslocal.FaultRule{Service: "s3", Op: "PutObject", Rate: 0.15, Kind: awslocal.FaultResetAfter},
		awslocal.FaultRule{Service: "s3", Op: "PutObject", Rate: 0.1, Kind: awslocal.FaultUnavailable},
		awslocal.FaultRule{Service: "sqs", Op: "ReceiveMessage", Rate: 0.15, Kind: awslocal.FaultThrottle},
		awslocal.FaultRule{Service: "sqs", Op: "SendMessage", Rate: 0.2, Kind: awslocal.FaultResetAfter},
		awslocal.FaultRule{Service: "sqs", Op: "SendMessage", Rate: 0.1, Kind: awslocal.FaultInternal},
		awslocal.FaultRule{Service: "sqs", Op: "DeleteMessage", Rate: 0.2, Kind: awslocal.FaultResetAfter},
		awslocal.FaultRule{Service: "sqs", Op: "DeleteMessage", Rate: 0.1, Kind: awslocal.FaultUnavailable},
		awslocal.FaultRule{Service: "sqs", Op: "ChangeMessageVisibility", Rate: 0.2, Kind: awslocal.FaultInternal},
	)
	faults.SetEnabled(false)
	srv, err := awslocal.Start(context.Background(), awslocal.Options{Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := newEnv(t, srv.URL())
	e.cfg.Workers = 3

	const n = 12
	var keys []string
	for i := range n {
		key := fmt.Sprintf("photos/fault-%02d.jpg", i)
		keys = append(keys, key)
		e.put(t, key, samples.JPEG(640+16*i, 480, uint64(i), 85))
		e.send(t, s3Notification("ObjectCreated:Put", key))
	}
	before := len(engineGoroutines())

	faults.SetEnabled(true)
	var logs syncBuffer
	_, stop := startDaemon(t, e, &logs)
	deadline := time.Now().Add(3 * time.Minute)
	for e.inboxDepth(t) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("inbox not drained in time; faults %v", faults.Counts())
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	faults.SetEnabled(false)
	t.Logf("faults injected: %v", faults.Counts())
	if len(faults.Counts()) < 6 {
		t.Errorf("only %d kinds of fault fired; the run proved little", len(faults.Counts()))
	}

	// The outbox as a consumer sees it: one record per source.
	recs := e.collect(t, n, 30*time.Second, 2*time.Second)
	perKey := map[string]int{}
	for _, r := range recs {
		perKey[r.Source.Key]++
		if r.Status != outbox.StatusProcessed {
			t.Errorf("%s: %s %+v", r.Source.Key, r.Status, r.Error)
		}
	}
	for _, k := range keys {
		if perKey[k] != 1 {
			t.Errorf("%s: %d outbox records, want exactly 1", k, perKey[k])
		}
	}
	// Exactly the expected outputs, each complete.
	list, err := e.clients.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("processed/")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range list.Contents {
		got = append(got, aws.ToString(o.Key))
	}
	var want []string
	for _, k := range keys {
		want = append(want, "processed/"+k+"/large.jpg", "processed/"+k+"/thumb.png")
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("outputs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, k := range got {
		b := e.getImage(t, k).Bounds()
		if b.Dx() == 0 || b.Dy() == 0 {
			t.Errorf("%s decodes empty", k)
		}
	}
	if left := tempFiles(t, e); left != 0 {
		t.Errorf("%d temp files left", left)
	}
	var leaked []string
	for wait := time.Now().Add(5 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
		if leaked = engineGoroutines(); len(leaked) <= before {
			break
		}
	}
	if len(leaked) > before {
		t.Errorf("%d engine goroutines still running after the daemon stopped:\n%s", len(leaked)-before, strings.Join(leaked, "\n\n"))
	}
}
