package awslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/seed62486500/resizer/engine/internal/mototest"
)

func TestSQSConformanceEmbedded(t *testing.T) {
	srv, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	runSQSConformance(t, srv.URL(), sqsPeer{})
}

func TestSQSConformanceMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moto peer test skipped in -short mode")
	}
	runSQSConformance(t, mototest.Start(t), sqsPeer{moto: true})
}

// sqsPeer says which implementation runs, so that a subtest can skip
// where moto is known to differ from AWS.
type sqsPeer struct{ moto bool }

func (p sqsPeer) skipOnMoto(t *testing.T, deviation string) {
	t.Helper()
	if p.moto {
		t.Skip("moto deviates from AWS: " + deviation)
	}
}

func newSQSClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

var queueCounter atomic.Int64

// uniqueQueue makes a queue name per subtest so that subtests can share a
// server (and run in parallel) without seeing each other's messages.
func uniqueQueue(t *testing.T, fifo bool) string {
	base := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "-")
	if len(base) > 50 {
		base = base[len(base)-50:]
	}
	name := fmt.Sprintf("%s-%d", strings.Trim(base, "-"), queueCounter.Add(1))
	if fifo {
		name += ".fifo"
	}
	return name
}

type sqsFixture struct {
	t   *testing.T
	ctx context.Context
	c   *sqs.Client
}

func (f sqsFixture) createQueue(name string, attrs map[string]string) string {
	f.t.Helper()
	out, err := f.c.CreateQueue(f.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		f.t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func (f sqsFixture) fifoQueue(attrs map[string]string) string {
	f.t.Helper()
	all := map[string]string{"FifoQueue": "true"}
	for k, v := range attrs {
		all[k] = v
	}
	return f.createQueue(uniqueQueue(f.t, true), all)
}

func (f sqsFixture) arn(url string) string {
	f.t.Helper()
	out, err := f.c.GetQueueAttributes(f.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		f.t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes["QueueArn"]
}

func (f sqsFixture) send(url, body, group, dedup string) *sqs.SendMessageOutput {
	f.t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
	if group != "" {
		in.MessageGroupId = aws.String(group)
	}
	if dedup != "" {
		in.MessageDeduplicationId = aws.String(dedup)
	}
	out, err := f.c.SendMessage(f.ctx, in)
	if err != nil {
		f.t.Fatalf("SendMessage %q: %v", body, err)
	}
	return out
}

// receive calls ReceiveMessage. The SDK leaves a zero VisibilityTimeout
// out of the request, so a visibility of 0 needs a queue attribute instead.
func (f sqsFixture) receive(url string, max, wait int32, visibility *int32) []types.Message {
	f.t.Helper()
	out, err := f.c.ReceiveMessage(f.ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: max, WaitTimeSeconds: wait,
		VisibilityTimeout:           aws.ToInt32(visibility),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		f.t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func (f sqsFixture) del(url string, m types.Message) {
	f.t.Helper()
	if _, err := f.c.DeleteMessage(f.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		f.t.Fatalf("DeleteMessage: %v", err)
	}
}

func (f sqsFixture) count(url string, attr types.QueueAttributeName) int {
	f.t.Helper()
	out, err := f.c.GetQueueAttributes(f.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{attr}})
	if err != nil {
		f.t.Fatalf("GetQueueAttributes: %v", err)
	}
	n, err := strconv.Atoi(out.Attributes[string(attr)])
	if err != nil {
		f.t.Fatalf("attribute %s = %q: %v", attr, out.Attributes[string(attr)], err)
	}
	return n
}

func bodies(msgs []types.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, aws.ToString(m.Body))
	}
	return out
}

func wantAPIError[T error](t *testing.T, err error, what string) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("%s: got %T %v, want %T", what, err, err, target)
	}
	return target
}

func wantErrorCode(t *testing.T, err error, code, what string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("%s: got %T %v, want an API error %s", what, err, err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, apiErr.ErrorCode(), err, code)
	}
}

func runSQSConformance(t *testing.T, endpoint string, peer sqsPeer) {
	client := newSQSClient(endpoint)
	fixture := func(t *testing.T) sqsFixture {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		t.Cleanup(cancel)
		return sqsFixture{t: t, ctx: ctx, c: client}
	}

	t.Run("CreateFIFOWithDLQ", func(t *testing.T) {
		f := fixture(t)
		dlq := f.fifoQueue(nil)
		dlqArn := f.arn(dlq)
		if !strings.HasPrefix(dlqArn, "arn:aws:sqs:us-east-1:") {
			t.Fatalf("QueueArn %q", dlqArn)
		}
		name := uniqueQueue(t, true)
		attrs := map[string]string{
			"FifoQueue":         "true",
			"VisibilityTimeout": "45",
			"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":"%s","maxReceiveCount":5}`, dlqArn),
		}
		url := f.createQueue(name, attrs)
		if !strings.HasSuffix(url, "/"+name) {
			t.Fatalf("QueueUrl %q does not end in the name", url)
		}
		if again := f.createQueue(name, attrs); again != url {
			t.Fatalf("idempotent CreateQueue gave %q, want %q", again, url)
		}
		_, err := f.c.CreateQueue(f.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
			Attributes: map[string]string{"FifoQueue": "true", "VisibilityTimeout": "46"}})
		wantAPIError[*types.QueueNameExists](t, err, "CreateQueue with other attributes")

		got, err := f.c.GetQueueUrl(f.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil || aws.ToString(got.QueueUrl) != url {
			t.Fatalf("GetQueueUrl = %v, %v", got, err)
		}
		out, err := f.c.GetQueueAttributes(f.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		a := out.Attributes
		var redrive struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(a["RedrivePolicy"]), &redrive); err != nil {
			t.Fatalf("RedrivePolicy %q: %v", a["RedrivePolicy"], err)
		}
		if a["FifoQueue"] != "true" || a["VisibilityTimeout"] != "45" || a["ApproximateNumberOfMessages"] != "0" ||
			redrive.DeadLetterTargetArn != dlqArn || redrive.MaxReceiveCount != 5 {
			t.Fatalf("attributes %v", a)
		}
		list, err := f.c.ListQueues(f.ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(name)})
		if err != nil || len(list.QueueUrls) != 1 || list.QueueUrls[0] != url {
			t.Fatalf("ListQueues = %v, %v", list, err)
		}
		_, err = f.c.CreateQueue(f.ctx, &sqs.CreateQueueInput{QueueName: aws.String(uniqueQueue(t, false)),
			Attributes: map[string]string{"FifoQueue": "true"}})
		wantErrorCode(t, err, "InvalidParameterValue", "FIFO queue without .fifo")
	})

	t.Run("OrderWithinGroup", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		var want []string
		for i := range 6 {
			body := fmt.Sprintf("m%d", i)
			want = append(want, body)
			f.send(url, body, "g", body)
		}
		var got []string
		for len(got) < len(want) {
			msgs := f.receive(url, 4, 1, nil)
			if len(msgs) == 0 {
				t.Fatalf("queue ran dry after %v", got)
			}
			for _, m := range msgs {
				got = append(got, aws.ToString(m.Body))
				f.del(url, m)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("order %v, want %v", got, want)
		}
	})

	t.Run("GroupHeldWhileInFlight", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		f.send(url, "a1", "A", "a1")
		f.send(url, "a2", "A", "a2")
		f.send(url, "b1", "B", "b1")
		first := f.receive(url, 1, 0, nil)
		if len(first) != 1 || aws.ToString(first[0].Body) != "a1" {
			t.Fatalf("first receive %v", bodies(first))
		}
		second := f.receive(url, 10, 0, nil)
		if strings.Join(bodies(second), ",") != "b1" {
			t.Fatalf("while a1 is in flight got %v, want only b1", bodies(second))
		}
		if again := f.receive(url, 10, 0, nil); len(again) != 0 {
			t.Fatalf("both groups in flight, still got %v", bodies(again))
		}
		f.del(url, first[0])
		third := f.receive(url, 10, 1, nil)
		if strings.Join(bodies(third), ",") != "a2" {
			t.Fatalf("after deleting a1 got %v, want a2", bodies(third))
		}
	})

	t.Run("DeduplicationID", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		one := f.send(url, "first", "g", "same-id")
		two := f.send(url, "second", "g", "same-id")
		// AWS answers a duplicate with the original message id; moto makes up a new one.
		if !peer.moto && aws.ToString(one.MessageId) != aws.ToString(two.MessageId) {
			t.Fatalf("duplicate got a new message id: %s vs %s", aws.ToString(one.MessageId), aws.ToString(two.MessageId))
		}
		if aws.ToString(one.SequenceNumber) == "" {
			t.Fatal("FIFO send returned no SequenceNumber")
		}
		msgs := f.receive(url, 10, 0, nil)
		if strings.Join(bodies(msgs), ",") != "first" {
			t.Fatalf("received %v, want only the first body", bodies(msgs))
		}
		a := msgs[0].Attributes
		if a["MessageDeduplicationId"] != "same-id" || a["MessageGroupId"] != "g" || a["SequenceNumber"] != aws.ToString(one.SequenceNumber) {
			t.Fatalf("system attributes %v", a)
		}
	})

	t.Run("ContentBasedDeduplication", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(map[string]string{"ContentBasedDeduplication": "true"})
		one := f.send(url, "payload", "g", "")
		two := f.send(url, "payload", "g", "")
		f.send(url, "other", "g", "")
		if !peer.moto && aws.ToString(one.MessageId) != aws.ToString(two.MessageId) {
			t.Fatal("same body got two message ids")
		}
		if got := bodies(f.receive(url, 10, 0, nil)); strings.Join(got, ",") != "payload,other" {
			t.Fatalf("received %v", got)
		}
	})

	t.Run("VisibilityExpiry", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(map[string]string{"VisibilityTimeout": "1"})
		f.send(url, "x", "g", "x")
		first := f.receive(url, 1, 0, nil)
		if len(first) != 1 || first[0].Attributes["ApproximateReceiveCount"] != "1" {
			t.Fatalf("first receive %+v", first)
		}
		if f.count(url, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible) != 1 {
			t.Fatal("in-flight count is not 1")
		}
		second := f.receive(url, 1, 5, nil)
		if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
			t.Fatalf("after expiry got %+v", second)
		}
		if aws.ToString(second[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle) {
			t.Fatal("receipt handle did not change on the second receive")
		}
		f.del(url, second[0])
		if n := f.count(url, types.QueueAttributeNameApproximateNumberOfMessages) +
			f.count(url, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible); n != 0 {
			t.Fatalf("%d messages left after delete", n)
		}
	})

	t.Run("StaleReceiptHandleOnFIFO", func(t *testing.T) {
		peer.skipOnMoto(t, "moto accepts a superseded receipt handle on a FIFO queue")
		f := fixture(t)
		url := f.fifoQueue(map[string]string{"VisibilityTimeout": "0"})
		f.send(url, "x", "g", "x")
		first := f.receive(url, 1, 0, nil)
		second := f.receive(url, 1, 0, aws.Int32(30))
		if len(first) != 1 || len(second) != 1 {
			t.Fatalf("receives %d, %d", len(first), len(second))
		}
		_, err := f.c.DeleteMessage(f.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle})
		wantAPIError[*types.ReceiptHandleIsInvalid](t, err, "delete with superseded handle")
		f.del(url, second[0])
	})

	t.Run("ChangeVisibilityZeroReleases", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		f.send(url, "x", "g", "x")
		first := f.receive(url, 1, 0, aws.Int32(60))
		if len(first) != 1 {
			t.Fatal("nothing received")
		}
		if got := f.receive(url, 1, 0, nil); len(got) != 0 {
			t.Fatal("message visible while in flight")
		}
		if _, err := f.c.ChangeMessageVisibility(f.ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url),
			ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
		again := f.receive(url, 1, 1, nil)
		if len(again) != 1 || again[0].Attributes["ApproximateReceiveCount"] != "2" {
			t.Fatalf("after release got %+v", again)
		}
	})

	t.Run("SendBatchPerEntryFailure", func(t *testing.T) {
		peer.skipOnMoto(t, "moto fails the whole SendMessageBatch with MissingParameter when one FIFO entry lacks MessageGroupId")
		f := fixture(t)
		url := f.fifoQueue(nil)
		sent, err := f.c.SendMessageBatch(f.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("A"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("a")},
			{Id: aws.String("nogroup"), MessageBody: aws.String("N"), MessageDeduplicationId: aws.String("n")},
			{Id: aws.String("b"), MessageBody: aws.String("B"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("b")},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(sent.Successful) != 2 || len(sent.Failed) != 1 || aws.ToString(sent.Failed[0].Id) != "nogroup" ||
			!sent.Failed[0].SenderFault || aws.ToString(sent.Failed[0].Code) != "MissingParameter" {
			t.Fatalf("SendMessageBatch successful=%d failed=%+v", len(sent.Successful), sent.Failed)
		}
	})

	t.Run("Batches", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		sent, err := f.c.SendMessageBatch(f.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("A"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("a")},
			{Id: aws.String("b"), MessageBody: aws.String("B"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("b")},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(sent.Successful) != 2 || len(sent.Failed) != 0 || aws.ToString(sent.Successful[1].SequenceNumber) == "" {
			t.Fatalf("SendMessageBatch %+v", sent)
		}
		msgs := f.receive(url, 10, 1, nil)
		if strings.Join(bodies(msgs), ",") != "A,B" {
			t.Fatalf("received %v", bodies(msgs))
		}
		changed, err := f.c.ChangeMessageVisibilityBatch(f.ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url),
			Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
				{Id: aws.String("a"), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 60},
				{Id: aws.String("bad"), ReceiptHandle: aws.String("not-a-receipt-handle"), VisibilityTimeout: 60},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if len(changed.Successful) != 1 || len(changed.Failed) != 1 || aws.ToString(changed.Failed[0].Id) != "bad" {
			t.Fatalf("ChangeMessageVisibilityBatch %+v", changed)
		}
		deleted, err := f.c.DeleteMessageBatch(f.ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url),
			Entries: []types.DeleteMessageBatchRequestEntry{
				{Id: aws.String("a"), ReceiptHandle: msgs[0].ReceiptHandle},
				{Id: aws.String("b"), ReceiptHandle: msgs[1].ReceiptHandle},
				{Id: aws.String("bad"), ReceiptHandle: aws.String("not-a-receipt-handle")},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if len(deleted.Successful) != 2 || len(deleted.Failed) != 1 || aws.ToString(deleted.Failed[0].Code) != "ReceiptHandleIsInvalid" {
			t.Fatalf("DeleteMessageBatch ok=%d failed=%+v", len(deleted.Successful), deleted.Failed)
		}
		_, err = f.c.DeleteMessageBatch(f.ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url),
			Entries: []types.DeleteMessageBatchRequestEntry{
				{Id: aws.String("x"), ReceiptHandle: aws.String("h")}, {Id: aws.String("x"), ReceiptHandle: aws.String("h")},
			}})
		wantAPIError[*types.BatchEntryIdsNotDistinct](t, err, "repeated batch ids")
	})

	t.Run("RedriveToDLQ", func(t *testing.T) {
		f := fixture(t)
		dlq := f.fifoQueue(nil)
		url := f.fifoQueue(map[string]string{
			"VisibilityTimeout": "0",
			"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":"%s","maxReceiveCount":2}`, f.arn(dlq)),
		})
		f.send(url, "poison", "g", "p")
		f.send(url, "next", "g", "n")
		for i := 1; i <= 2; i++ {
			msgs := f.receive(url, 1, 1, nil)
			if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "poison" {
				t.Fatalf("receive %d: %v", i, bodies(msgs))
			}
		}
		// The third attempt moves the message away and the group goes on.
		msgs := f.receive(url, 1, 1, aws.Int32(60))
		if strings.Join(bodies(msgs), ",") != "next" {
			t.Fatalf("after redrive got %v, want next", bodies(msgs))
		}
		dead := f.receive(dlq, 1, 2, nil)
		if strings.Join(bodies(dead), ",") != "poison" {
			t.Fatalf("DLQ holds %v", bodies(dead))
		}
		if dead[0].Attributes["MessageGroupId"] != "g" {
			t.Fatalf("DLQ message attributes %v", dead[0].Attributes)
		}
	})

	t.Run("LongPollReturnsEarly", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		go func() {
			time.Sleep(500 * time.Millisecond)
			_, _ = f.c.SendMessage(f.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("late"),
				MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("late")})
		}()
		start := time.Now()
		msgs := f.receive(url, 1, 10, nil)
		if len(msgs) != 1 {
			t.Fatalf("long poll returned %d messages", len(msgs))
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("long poll took %v", took)
		}
	})

	t.Run("LongPollEndsWithContext", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("cancelled long poll: err=%v after %v", err, time.Since(start))
		}
	})

	t.Run("Purge", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		for i := range 3 {
			f.send(url, fmt.Sprint(i), "g", fmt.Sprint(i))
		}
		if _, err := f.c.PurgeQueue(f.ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(url, types.QueueAttributeNameApproximateNumberOfMessages); n != 0 {
			t.Fatalf("%d messages after purge", n)
		}
		if msgs := f.receive(url, 10, 0, nil); len(msgs) != 0 {
			t.Fatalf("received %v after purge", bodies(msgs))
		}
	})

	t.Run("StandardQueueDelayAndAttributes", func(t *testing.T) {
		f := fixture(t)
		url := f.createQueue(uniqueQueue(t, false), nil)
		sent, err := f.c.SendMessage(f.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("later"),
			DelaySeconds: 1, MessageAttributes: map[string]types.MessageAttributeValue{
				"kind":  {DataType: aws.String("String"), StringValue: aws.String("thumb")},
				"width": {DataType: aws.String("Number"), StringValue: aws.String("640")},
				"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.receive(url, 1, 0, nil); len(got) != 0 {
			t.Fatal("delayed message delivered at once")
		}
		msgs := f.receive(url, 1, 5, nil)
		if len(msgs) != 1 {
			t.Fatal("delayed message never arrived")
		}
		m := msgs[0]
		if aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) || aws.ToString(sent.MD5OfMessageAttributes) == "" {
			t.Fatalf("MD5OfMessageAttributes send %q receive %q", aws.ToString(sent.MD5OfMessageAttributes), aws.ToString(m.MD5OfMessageAttributes))
		}
		if aws.ToString(m.MessageAttributes["kind"].StringValue) != "thumb" || string(m.MessageAttributes["blob"].BinaryValue) != "\x00\x01\x02\xff" {
			t.Fatalf("message attributes %+v", m.MessageAttributes)
		}
	})

	t.Run("TypedErrors", func(t *testing.T) {
		f := fixture(t)
		url := f.fifoQueue(nil)
		_, err := f.c.GetQueueUrl(f.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("no-such-queue-here")})
		wantAPIError[*types.QueueDoesNotExist](t, err, "GetQueueUrl of a missing queue")
		_, err = f.c.SendMessage(f.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(strings.TrimSuffix(url, ".fifo") + "-gone.fifo"),
			MessageBody: aws.String("x"), MessageGroupId: aws.String("g")})
		wantAPIError[*types.QueueDoesNotExist](t, err, "SendMessage to a missing queue")
		_, err = f.c.DeleteMessage(f.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("not-a-receipt-handle")})
		wantAPIError[*types.ReceiptHandleIsInvalid](t, err, "DeleteMessage with a bad handle")
		_, err = f.c.SendMessage(f.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"),
			MessageDeduplicationId: aws.String("d")})
		wantErrorCode(t, err, "MissingParameter", "FIFO send without MessageGroupId")
		_, err = f.c.SendMessage(f.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"),
			MessageGroupId: aws.String("g")})
		wantErrorCode(t, err, "InvalidParameterValue", "FIFO send without any deduplication id")
	})
}
