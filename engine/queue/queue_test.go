package queue_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/internal/mototest"
	"github.com/seed62486500/resizer/engine/queue"
)

func TestBackoff(t *testing.T) {
	base, capd := 5*time.Second, time.Minute
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 5 * time.Second}, {1, 5 * time.Second}, {2, 10 * time.Second},
		{3, 20 * time.Second}, {4, 40 * time.Second}, {5, time.Minute}, {50, time.Minute},
	}
	for _, tt := range tests {
		if got := queue.Backoff(tt.n, base, capd); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

// peers runs fn against the embedded SQS and against moto_server.
func peers(t *testing.T, fn func(t *testing.T, client *sqs.Client)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		srv, err := awslocal.Start(context.Background(), awslocal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		fn(t, newClient(srv.URL()))
	})
	t.Run("moto", func(t *testing.T) {
		t.Parallel()
		fn(t, newClient(mototest.Start(t)))
	})
}

func newClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

var queueSeq atomic.Int64

func createFIFO(t *testing.T, client *sqs.Client, visibility int) string {
	t.Helper()
	name := fmt.Sprintf("q%d-%d.fifo", time.Now().UnixNano()%1e6, queueSeq.Add(1))
	out, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			"FifoQueue":         "true",
			"VisibilityTimeout": strconv.Itoa(visibility),
		},
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return aws.ToString(out.QueueUrl)
}

func send(t *testing.T, client *sqs.Client, url, group, body string) {
	t.Helper()
	_, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String(body),
		MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(body),
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
}

func depth(t *testing.T, client *sqs.Client, url string) (visible, inFlight int) {
	t.Helper()
	out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatalf("attributes: %v", err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inFlight
}

// runUntil runs the consumer until done reports true, then stops it.
func runUntil(t *testing.T, c *queue.Consumer, h queue.Handler, timeout time.Duration, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx, h) }()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			<-errc
			t.Fatalf("condition not reached within %v", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestConsumerHandlesEveryMessageOnce(t *testing.T) {
	peers(t, func(t *testing.T, client *sqs.Client) {
		url := createFIFO(t, client, 30)
		const n = 12
		for i := range n {
			send(t, client, url, "g"+strconv.Itoa(i%3), "m"+strconv.Itoa(i))
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var maxInFlight, inFlight atomic.Int32
		h := queue.HandlerFunc(func(ctx context.Context, m queue.Message) queue.Action {
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				old := maxInFlight.Load()
				if cur <= old || maxInFlight.CompareAndSwap(old, cur) {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
			mu.Lock()
			seen[m.Body]++
			mu.Unlock()
			return queue.Delete
		})
		c := queue.New(client, queue.Options{QueueURL: url, Workers: 4, WaitTime: time.Second})
		runUntil(t, c, h, 30*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == n
		})
		for body, count := range seen {
			if count != 1 {
				t.Errorf("%s handled %d times", body, count)
			}
		}
		if m := maxInFlight.Load(); m > 4 {
			t.Errorf("%d jobs in flight at once, want at most 4 workers", m)
		}
		if v, f := depth(t, client, url); v+f != 0 {
			t.Errorf("queue still holds %d visible and %d in-flight messages", v, f)
		}
	})
}

func TestSlowJobOutlivesVisibilityTimeout(t *testing.T) {
	peers(t, func(t *testing.T, client *sqs.Client) {
		url := createFIFO(t, client, 2)
		send(t, client, url, "g", "slow")
		send(t, client, url, "h", "other")
		var calls atomic.Int32
		var slowDone atomic.Bool
		h := queue.HandlerFunc(func(ctx context.Context, m queue.Message) queue.Action {
			if m.Body == "slow" {
				calls.Add(1)
				time.Sleep(5 * time.Second) // 2.5 visibility timeouts
				slowDone.Store(true)
			}
			return queue.Delete
		})
		// Two consumers compete: without the heartbeat the second would get
		// the slow message once its first lease ran out.
		c1 := queue.New(client, queue.Options{QueueURL: url, Workers: 2, WaitTime: time.Second})
		c2 := queue.New(client, queue.Options{QueueURL: url, Workers: 2, WaitTime: time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go c2.Run(ctx, h)
		runUntil(t, c1, h, 30*time.Second, slowDone.Load)
		time.Sleep(3 * time.Second) // past one more lease
		cancel()
		if n := calls.Load(); n != 1 {
			t.Fatalf("slow job ran %d times, want 1", n)
		}
		if v, f := depth(t, client, url); v+f != 0 {
			t.Errorf("queue still holds %d visible and %d in-flight messages", v, f)
		}
	})
}

func TestRetryComesBackAfterBackoff(t *testing.T) {
	peers(t, func(t *testing.T, client *sqs.Client) {
		url := createFIFO(t, client, 30)
		send(t, client, url, "g", "flaky")
		var mu sync.Mutex
		var attempts []queue.Message
		var when []time.Time
		h := queue.HandlerFunc(func(ctx context.Context, m queue.Message) queue.Action {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, m)
			when = append(when, time.Now())
			if len(attempts) == 1 {
				return queue.Retry
			}
			return queue.Delete
		})
		c := queue.New(client, queue.Options{QueueURL: url, WaitTime: time.Second, RetryBase: 2 * time.Second})
		runUntil(t, c, h, 30*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(attempts) == 2
		})
		if attempts[0].ReceiveCount != 1 || attempts[1].ReceiveCount != 2 {
			t.Errorf("receive counts %d, %d; want 1, 2", attempts[0].ReceiveCount, attempts[1].ReceiveCount)
		}
		if gap := when[1].Sub(when[0]); gap < 1500*time.Millisecond {
			t.Errorf("retried after %v, want about the 2s backoff", gap)
		}
	})
}

func TestShutdownReleasesUnfinishedJobs(t *testing.T) {
	peers(t, func(t *testing.T, client *sqs.Client) {
		url := createFIFO(t, client, 60)
		send(t, client, url, "g", "stuck")
		started := make(chan struct{})
		var sawCancel atomic.Bool
		h := queue.HandlerFunc(func(ctx context.Context, m queue.Message) queue.Action {
			close(started)
			<-ctx.Done() // a job that only ends when cancelled
			sawCancel.Store(true)
			return queue.Retry
		})
		c := queue.New(client, queue.Options{QueueURL: url, WaitTime: time.Second, Grace: 500 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx, h) }()
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			t.Fatal("job never started")
		}
		stop := time.Now()
		cancel()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if took := time.Since(stop); took > 10*time.Second {
			t.Errorf("shutdown took %v with a 500ms grace", took)
		}
		if !sawCancel.Load() {
			t.Error("the job's context was not cancelled after the grace period")
		}
		// Released, not left to its 60 s lease: it is receivable at once.
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), WaitTimeSeconds: 2,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "stuck" {
			t.Fatalf("released message not receivable: got %d messages", len(out.Messages))
		}
	})
}

func TestGracefulShutdownFinishesJobs(t *testing.T) {
	peers(t, func(t *testing.T, client *sqs.Client) {
		url := createFIFO(t, client, 60)
		send(t, client, url, "g", "finish-me")
		started := make(chan struct{})
		var finished atomic.Bool
		h := queue.HandlerFunc(func(ctx context.Context, m queue.Message) queue.Action {
			close(started)
			time.Sleep(time.Second)
			finished.Store(ctx.Err() == nil)
			return queue.Delete
		})
		c := queue.New(client, queue.Options{QueueURL: url, WaitTime: time.Second, Grace: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx, h) }()
		<-started
		cancel()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !finished.Load() {
			t.Fatal("the job in flight did not finish within the grace period")
		}
		if v, f := depth(t, client, url); v+f != 0 {
			t.Errorf("queue still holds %d visible and %d in-flight messages", v, f)
		}
	})
}

func TestPanicIsRetried(t *testing.T) {
	peers(t, func(t *testing.T, client *sqs.Client) {
		url := createFIFO(t, client, 30)
		send(t, client, url, "g", "boom")
		var calls atomic.Int32
		h := queue.HandlerFunc(func(ctx context.Context, m queue.Message) queue.Action {
			if calls.Add(1) == 1 {
				panic("plugin exploded")
			}
			return queue.Delete
		})
		c := queue.New(client, queue.Options{QueueURL: url, WaitTime: time.Second, RetryBase: time.Second})
		runUntil(t, c, h, 30*time.Second, func() bool { return calls.Load() == 2 })
	})
}

func TestMissingQueueIsFatal(t *testing.T) {
	srv, err := awslocal.Start(context.Background(), awslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := queue.New(newClient(srv.URL()), queue.Options{QueueURL: srv.QueueURL("nope.fifo"), Visibility: 30 * time.Second, WaitTime: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Run(ctx, queue.HandlerFunc(func(context.Context, queue.Message) queue.Action { return queue.Delete })); err == nil {
		t.Fatal("Run on a missing queue returned nil")
	}
}
