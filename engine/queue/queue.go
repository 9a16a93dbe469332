// Package queue consumes the SQS inbox: long polling, a bounded pool of
// workers, a visibility heartbeat per message, and the acknowledgement that
// follows each job (delete, retry later, or release at once).
package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/go-hclog"
)

// Message is one received inbox message.
type Message struct {
	ID            string
	Body          string
	ReceiptHandle string
	ReceiveCount  int
	GroupID       string
	SentAt        time.Time
}

// Action says what the consumer does with a message once its job ends.
type Action int

const (
	// Delete acknowledges the message: every effect of the job is written.
	Delete Action = iota
	// Retry makes the message visible again after a backoff that grows
	// with its receive count (a transient failure).
	Retry
	// Release makes the message visible again at once (shutdown).
	Release
)

func (a Action) String() string {
	switch a {
	case Delete:
		return "delete"
	case Retry:
		return "retry"
	case Release:
		return "release"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Handler runs one job. ctx is cancelled when the shutdown grace period
// ends; a handler that sees that should return Release.
type Handler interface {
	Handle(ctx context.Context, m Message) Action
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m Message) Action

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, m Message) Action { return f(ctx, m) }

// Options configure a Consumer.
type Options struct {
	QueueURL    string
	Workers     int           // jobs in flight at most
	MaxMessages int           // per ReceiveMessage, 1..10
	WaitTime    time.Duration // long poll, at most 20s
	// Visibility is the lease requested on receive and renewed by the
	// heartbeat. Zero means: read the queue's VisibilityTimeout.
	Visibility time.Duration
	// HeartbeatFraction of Visibility between two renewals (0.5 default).
	HeartbeatFraction float64
	RetryBase         time.Duration // backoff after the first failed receive
	RetryMax          time.Duration // cap of the backoff
	// Grace is how long in-flight jobs may run on after Run's context is
	// cancelled before their contexts are cancelled too.
	Grace  time.Duration
	Logger hclog.Logger
	// LogFields, when set, gives the fields (such as the object key) that
	// every log line about a message carries besides its id.
	LogFields func(Message) []any
}

// Consumer receives inbox messages and runs a Handler on each.
type Consumer struct {
	client *sqs.Client
	opts   Options
	log    hclog.Logger
}

// New returns a Consumer. Defaults fill zero options.
func New(client *sqs.Client, opts Options) *Consumer {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.MaxMessages < 1 || opts.MaxMessages > 10 {
		opts.MaxMessages = 10
	}
	if opts.WaitTime <= 0 || opts.WaitTime > 20*time.Second {
		opts.WaitTime = 20 * time.Second
	}
	if opts.HeartbeatFraction <= 0 || opts.HeartbeatFraction >= 1 {
		opts.HeartbeatFraction = 0.5
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 5 * time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 15 * time.Minute
	}
	if opts.RetryMax > 12*time.Hour {
		opts.RetryMax = 12 * time.Hour
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Consumer{client: client, opts: opts, log: log}
}

// Backoff is the visibility delay before the next attempt of a message
// that has been received n times: base·2^(n-1), capped.
func Backoff(n int, base, max time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// Run receives and handles messages until ctx is cancelled, then stops
// receiving, lets in-flight jobs finish within the grace period, cancels
// and releases the rest, and returns. It returns an error only when the
// queue cannot be used at all (for example it does not exist).
func (c *Consumer) Run(ctx context.Context, h Handler) error {
	vis, err := c.visibility(ctx)
	if err != nil {
		return err
	}
	c.log.Info("consuming inbox", "queue", c.opts.QueueURL, "workers", c.opts.Workers,
		"visibility", vis.String(), "wait", c.opts.WaitTime.String())

	// Jobs outlive ctx by the grace period: jobCtx is cancelled only when
	// the grace period after ctx's cancellation has passed.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	go func() {
		select {
		case <-ctx.Done():
		case <-jobCtx.Done():
			return
		}
		t := time.NewTimer(c.opts.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			c.log.Warn("shutdown grace period over: cancelling jobs still running", "grace", c.opts.Grace)
			cancelJobs()
		case <-jobCtx.Done():
		}
	}()

	slots := make(chan struct{}, c.opts.Workers)
	var wg sync.WaitGroup
	var fatal error
	pause := time.Duration(0)
receive:
	for ctx.Err() == nil {
		// Ask only for as many messages as there are free workers, so no
		// received message waits unattended.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break receive
		}
		n := 1
	more:
		for n < c.opts.MaxMessages {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		msgs, err := c.receive(ctx, n, vis)
		for i := len(msgs); i < n; i++ {
			<-slots
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var missing *types.QueueDoesNotExist
			if errors.As(err, &missing) {
				fatal = fmt.Errorf("inbox %s: %w", c.opts.QueueURL, err)
				break
			}
			pause = min(max(2*pause, time.Second), 30*time.Second)
			c.log.Error("receive failed; pausing", "error", err, "pause", pause)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
			}
			continue
		}
		pause = 0
		for _, m := range msgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				c.process(jobCtx, h, m, vis)
			}()
		}
	}
	c.log.Info("stopped receiving; waiting for jobs in flight", "grace", c.opts.Grace)
	wg.Wait()
	c.log.Info("consumer stopped")
	return fatal
}

func (c *Consumer) receive(ctx context.Context, n int, vis time.Duration) ([]Message, error) {
	out, err := c.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(c.opts.QueueURL),
		MaxNumberOfMessages: int32(n),
		WaitTimeSeconds:     int32(c.opts.WaitTime / time.Second),
		VisibilityTimeout:   int32(vis / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
			types.MessageSystemAttributeNameMessageGroupId,
		},
	})
	if err != nil {
		return nil, err
	}
	msgs := make([]Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := Message{
			ID:            aws.ToString(m.MessageId),
			Body:          aws.ToString(m.Body),
			ReceiptHandle: aws.ToString(m.ReceiptHandle),
			GroupID:       m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)],
		}
		msg.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			msg.SentAt = time.UnixMilli(ms)
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// process runs one job under a visibility heartbeat and acknowledges it.
func (c *Consumer) process(ctx context.Context, h Handler, m Message, vis time.Duration) {
	log := c.log.With("msg_id", m.ID)
	if c.opts.LogFields != nil {
		log = log.With(c.opts.LogFields(m)...)
	}
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	var hb sync.WaitGroup
	hb.Add(1)
	go func() {
		defer hb.Done()
		c.heartbeat(hbCtx, log, m, vis)
	}()

	action := c.handle(ctx, log, h, m)
	stopHeartbeat()
	hb.Wait()
	if ctx.Err() != nil && action != Delete {
		action = Release
	}

	// Acknowledge even when ctx is cancelled: an unacknowledged success
	// would be processed again, a forgotten release would wait a lease.
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	var err error
	switch action {
	case Delete:
		err = c.retryCall(ackCtx, func(ctx context.Context) error {
			_, err := c.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl: aws.String(c.opts.QueueURL), ReceiptHandle: aws.String(m.ReceiptHandle),
			})
			return err
		})
	case Retry:
		delay := Backoff(m.ReceiveCount, c.opts.RetryBase, c.opts.RetryMax)
		log.Info("job will be retried", "receive_count", m.ReceiveCount, "after", delay)
		err = c.setVisibility(ackCtx, m, delay)
	case Release:
		log.Info("releasing message for another worker")
		err = c.setVisibility(ackCtx, m, 0)
	}
	if err != nil {
		log.Error("acknowledging message failed", "action", action, "error", err)
	}
}

func (c *Consumer) handle(ctx context.Context, log hclog.Logger, h Handler, m Message) (action Action) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("job panicked; it will be retried", "panic", fmt.Sprint(r))
			action = Retry
		}
	}()
	return h.Handle(ctx, m)
}

func (c *Consumer) heartbeat(ctx context.Context, log hclog.Logger, m Message, vis time.Duration) {
	every := time.Duration(float64(vis) * c.opts.HeartbeatFraction)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.setVisibility(ctx, m, vis); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("visibility heartbeat failed", "error", err)
			continue
		}
		log.Debug("visibility extended", "by", vis)
	}
}

func (c *Consumer) setVisibility(ctx context.Context, m Message, d time.Duration) error {
	return c.retryCall(ctx, func(ctx context.Context) error {
		_, err := c.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl:          aws.String(c.opts.QueueURL),
			ReceiptHandle:     aws.String(m.ReceiptHandle),
			VisibilityTimeout: int32(d / time.Second),
		})
		return err
	})
}

// retryCall retries an acknowledgement a few times on errors that may pass;
// the SDK already retries throttling and 5xx, this covers a longer blip.
func (c *Consumer) retryCall(ctx context.Context, call func(context.Context) error) error {
	var err error
	for attempt := range 3 {
		if err = call(ctx); err == nil || !retryable(err) {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
	return err
}

func retryable(err error) bool {
	var invalid *types.ReceiptHandleIsInvalid
	var notInFlight *types.MessageNotInflight
	var missing *types.QueueDoesNotExist
	return !errors.As(err, &invalid) && !errors.As(err, &notInFlight) && !errors.As(err, &missing)
}

// visibility resolves the lease to use.
func (c *Consumer) visibility(ctx context.Context) (time.Duration, error) {
	if c.opts.Visibility > 0 {
		return c.opts.Visibility, nil
	}
	out, err := c.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(c.opts.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout},
	})
	if err != nil {
		return 0, fmt.Errorf("read visibility timeout of %s: %w", c.opts.QueueURL, err)
	}
	secs, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	if err != nil || secs < 1 {
		// A zero lease would hand every message to everyone; use SQS's default.
		secs = 30
	}
	return time.Duration(secs) * time.Second, nil
}
