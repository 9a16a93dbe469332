package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// DemoImage is one generated upload of the demo.
type DemoImage struct {
	Key         string
	ContentType string
	Body        []byte
}

// DemoImages returns the demo's uploads: photo-like JPEGs in landscape and
// portrait, and a PNG with transparency.
func DemoImages() []DemoImage {
	jpg := func(key string, w, h int, seed uint64) DemoImage {
		return DemoImage{Key: key, ContentType: "image/jpeg", Body: samples.JPEG(w, h, seed, 90)}
	}
	return []DemoImage{
		jpg("uploads/demo/harbour.jpg", 3000, 2000, 1),
		jpg("uploads/demo/portrait.jpg", 1600, 2400, 2),
		jpg("uploads/demo/wide panorama.jpg", 4000, 1200, 3),
		jpg("uploads/demo/café+terrace.jpg", 2400, 1600, 4),
		jpg("uploads/demo/small.jpg", 640, 480, 5),
		{Key: "uploads/demo/badge.png", ContentType: "image/png", Body: samples.PNGWithAlpha(1200, 1200, 6)},
	}
}

// DemoResult is what the demo saw.
type DemoResult struct {
	Records []outbox.Record
	Elapsed time.Duration // first upload to last outbox record
}

// ImagesPerSecond is the demo's throughput.
func (r DemoResult) ImagesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Records)) / r.Elapsed.Seconds()
}

// Demo uploads images through the S3 endpoint, waits until the outbox holds a
// record for each, and returns them. The daemon must be running.
func (l *Local) Demo(ctx context.Context, images []DemoImage, timeout time.Duration) (DemoResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	for _, img := range images {
		_, err := l.Clients.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(l.Config.Bucket),
			Key:         aws.String(img.Key),
			Body:        bytes.NewReader(img.Body),
			ContentType: aws.String(img.ContentType),
		})
		if err != nil {
			return DemoResult{}, fmt.Errorf("upload %s: %w", img.Key, err)
		}
	}
	want := make(map[string]bool, len(images))
	for _, img := range images {
		want[img.Key] = true
	}
	got := make(map[string]outbox.Record, len(images))
	for len(got) < len(want) {
		recs, err := ReadOutbox(ctx, l.Clients.SQS, l.Config.OutboxURL, 2*time.Second)
		if err != nil {
			return DemoResult{}, fmt.Errorf("waiting for outbox records (%d of %d so far): %w", len(got), len(want), err)
		}
		for _, r := range recs {
			if want[r.Source.Key] {
				got[r.Source.Key] = r
			}
		}
	}
	res := DemoResult{Elapsed: time.Since(start)}
	for _, img := range images {
		res.Records = append(res.Records, got[img.Key])
	}
	return res, nil
}

// ReadOutbox receives (and deletes) whatever outbox records arrive within
// one long poll of wait.
func ReadOutbox(ctx context.Context, client *sqs.Client, queueURL string, wait time.Duration) ([]outbox.Record, error) {
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(queueURL),
		MaxNumberOfMessages: 10,
		WaitTimeSeconds:     int32(wait / time.Second),
	})
	if err != nil {
		return nil, err
	}
	var recs []outbox.Record
	for _, m := range out.Messages {
		var r outbox.Record
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &r); err != nil {
			return nil, fmt.Errorf("outbox message %s is not a record: %w", aws.ToString(m.MessageId), err)
		}
		recs = append(recs, r)
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
			QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle,
		}); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// PrintTable writes one line per output (or per failed source).
func PrintTable(w io.Writer, recs []outbox.Record) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSIZE\tSTATUS\tOUTPUT\tSIZE\tBYTES\tKEY")
	for _, r := range recs {
		src := fmt.Sprintf("%dx%d", r.Source.Width, r.Source.Height)
		if len(r.Outputs) == 0 {
			reason := ""
			if r.Error != nil {
				reason = r.Error.Code + ": " + r.Error.Message
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t%s\n", r.Source.Key, src, r.Status, reason)
			continue
		}
		for i, o := range r.Outputs {
			key, size, status := r.Source.Key, src, r.Status
			if i > 0 {
				key, size, status = "", "", ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%dx%d\t%d\t%s\n", key, size, status, o.Name, o.Width, o.Height, o.Bytes, o.Key)
		}
	}
	return tw.Flush()
}

// CLIHints returns the AWS CLI commands that work against the endpoints.
func (l *Local) CLIHints() string {
	var b strings.Builder
	e := l.Config.Endpoint
	fmt.Fprintf(&b, "  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s\n", AccessKey, SecretKey, l.Config.Region)
	fmt.Fprintf(&b, "  aws --endpoint-url %s s3 cp photo.jpg s3://%s/uploads/photo.jpg\n", e, l.Config.Bucket)
	fmt.Fprintf(&b, "  aws --endpoint-url %s sqs receive-message --queue-url %s --wait-time-seconds 20\n", e, l.Config.OutboxURL)
	fmt.Fprintf(&b, "  aws --endpoint-url %s s3 ls --recursive s3://%s/%s\n", e, l.Config.Bucket, l.Config.OutputPrefix)
	return b.String()
}
