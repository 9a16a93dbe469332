package backfill

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/seed62486500/resizer/engine/outbox"
)

// SQS is the part of the SQS API the inbox sink uses.
type SQS interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Inbox is the Sink that sends each stale source to the inbox as a plain
// JSON message, {"bucket": ..., "key": ...}, for the daemons to process.
//
// Its MessageGroupId is the key (or a digest of a key SQS would refuse), so
// backfilled sources do not queue behind one another; its
// MessageDeduplicationId is derived from bucket, key, ETag and recipe
// digest, so two runs within SQS's five-minute window send a source once.
type Inbox struct {
	client   SQS
	queueURL string
}

// NewInbox returns the sink that sends to the FIFO queue at queueURL.
func NewInbox(client SQS, queueURL string) *Inbox {
	return &Inbox{client: client, queueURL: queueURL}
}

// Take implements Sink.
func (q *Inbox) Take(ctx context.Context, src Source) error {
	body, err := json.Marshal(struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	}{src.Bucket, src.Key})
	if err != nil {
		return fmt.Errorf("encode inbox message for %q: %w", src.Key, err)
	}
	digest := ""
	if src.Recipe != nil {
		digest = src.Recipe.Digest()
	}
	rec := outbox.Record{Source: outbox.Source{Bucket: src.Bucket, Key: src.Key}}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(q.queueURL),
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(outbox.GroupID("{key}", rec)),
		MessageDeduplicationId: aws.String(outbox.DedupID(src.Bucket, src.Key, src.ETag, digest)),
	})
	if err != nil {
		return fmt.Errorf("send %q to the inbox %s: %w", src.Key, q.queueURL, err)
	}
	return nil
}
