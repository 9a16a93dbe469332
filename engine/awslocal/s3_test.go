package awslocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	testBucket = "uploads"
	testInbox  = "inbox_sqs_image_resizer.fifo"
	testOutbox = "outbox_sqs_image_resizer.fifo"
)

func startLocal(t *testing.T, dataDir string) *Server {
	t.Helper()
	srv, err := Start(context.Background(), Options{Bucket: testBucket, InboxQueue: testInbox, OutboxQueue: testOutbox, DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func newS3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		UsePathStyle: true,
	})
}

// receiveEvent takes one inbox message (waiting up to wait seconds),
// deletes it and decodes it.
func receiveEvent(t *testing.T, c *sqs.Client, url string, wait int32) (*objectCreatedEvent, types.Message) {
	t.Helper()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) == 0 {
		return nil, types.Message{}
	}
	m := out.Messages[0]
	if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	var ev objectCreatedEvent
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
		t.Fatalf("inbox body %q: %v", aws.ToString(m.Body), err)
	}
	return &ev, m
}

// onlyReader hides Seek, as a pipe or network body would.
type onlyReader struct{ io.Reader }

func TestS3PutEmitsEvent(t *testing.T) {
	srv := startLocal(t, "")
	ctx := context.Background()
	s3c, sqsc := newS3Client(srv.URL()), newSQSClient(srv.URL())
	inbox := srv.QueueURL(testInbox)

	cases := []struct {
		name     string
		key      string
		body     io.Reader
		data     []byte
		wantSent bool
	}{
		{name: "plain", key: "photos/cat.jpg", data: []byte("jpeg bytes"), wantSent: true},
		{name: "space", key: "photos/my cat.jpg", data: []byte("a b c"), wantSent: true},
		{name: "plus", key: "photos/a+b.jpg", data: []byte("plus"), wantSent: true},
		{name: "unicode", key: "фото/猫 ü.jpg", data: []byte("unicode"), wantSent: true},
		{name: "binary", key: "raw.bin", data: bytes.Repeat([]byte{0, 255, '\r', '\n'}, 40000), wantSent: true},
		{name: "unseekable", key: "stream.jpg", data: []byte("streamed body"), wantSent: true},
		{name: "excluded", key: "processed/cat-640.jpg", data: []byte("output"), wantSent: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tc.data)
			var opts []func(*s3.Options)
			if tc.name == "unseekable" {
				body = onlyReader{bytes.NewReader(tc.data)}
				// Over plain HTTP the SDK hashes the payload, which needs a
				// seekable body; an unseekable one must go unsigned.
				opts = append(opts, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
			}
			put, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(tc.key), Body: body,
				ContentLength: aws.Int64(int64(len(tc.data)))}, opts...)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(tc.key)})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			stored, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if !bytes.Equal(stored, tc.data) {
				t.Fatalf("stored %d bytes %q..., want %d bytes", len(stored), stored[:min(len(stored), 32)], len(tc.data))
			}
			ev, msg := receiveEvent(t, sqsc, inbox, 0)
			if !tc.wantSent {
				if ev != nil {
					t.Fatalf("event for excluded key: %+v", ev)
				}
				return
			}
			if ev == nil {
				t.Fatal("no inbox event")
			}
			o := ev.Detail.Object
			if ev.DetailType != "Object Created" || ev.Source != "aws.s3" || ev.Detail.Bucket.Name != testBucket ||
				ev.Detail.Reason != "PutObject" || o.Sequencer == "" || len(ev.Resources) != 1 {
				t.Fatalf("event %+v", ev)
			}
			if o.Key != tc.key || o.Size != int64(len(tc.data)) || o.ETag != strings.Trim(aws.ToString(put.ETag), `"`) {
				t.Fatalf("event object %+v, want key %q size %d etag %s", o, tc.key, len(tc.data), aws.ToString(put.ETag))
			}
			if msg.Attributes["MessageGroupId"] != defaultEventGroupID || msg.Attributes["MessageDeduplicationId"] != ev.ID {
				t.Fatalf("message attributes %v", msg.Attributes)
			}
		})
	}

	t.Run("CopyObject", func(t *testing.T) {
		if _, err := s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("copies/cat.jpg"),
			CopySource: aws.String(testBucket + "/photos/cat.jpg")}); err != nil {
			t.Fatal(err)
		}
		ev, _ := receiveEvent(t, sqsc, inbox, 0)
		if ev == nil || ev.Detail.Object.Key != "copies/cat.jpg" || ev.Detail.Object.Size != int64(len("jpeg bytes")) {
			t.Fatalf("copy event %+v", ev)
		}
	})

	t.Run("HeadAndNoSuchKey", func(t *testing.T) {
		head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("photos/my cat.jpg")})
		if err != nil || aws.ToInt64(head.ContentLength) != 5 {
			t.Fatalf("HeadObject = %+v, %v", head, err)
		}
		_, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("missing.jpg")})
		var noKey *s3types.NoSuchKey
		if !errors.As(err, &noKey) {
			t.Fatalf("GetObject of a missing key: %T %v", err, err)
		}
	})

	t.Run("MultipartUpload", func(t *testing.T) {
		part := bytes.Repeat([]byte("p"), 5<<20)
		key := "big/multi part.bin"
		up, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		var parts []s3types.CompletedPart
		for i := int32(1); i <= 2; i++ {
			p, err := s3c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: up.UploadId,
				PartNumber: aws.Int32(i), Body: bytes.NewReader(part)})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, s3types.CompletedPart{ETag: p.ETag, PartNumber: aws.Int32(i)})
		}
		if _, err := s3c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(key),
			UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			t.Fatal(err)
		}
		ev, _ := receiveEvent(t, sqsc, inbox, 0)
		if ev == nil || ev.Detail.Object.Key != key || ev.Detail.Object.Size != int64(2*len(part)) {
			t.Fatalf("multipart event %+v", ev)
		}
	})
}

func TestOtherBucketsEmitNothing(t *testing.T) {
	srv := startLocal(t, "")
	ctx := context.Background()
	s3c := newS3Client(srv.URL())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("elsewhere")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("elsewhere"), Key: aws.String("a.jpg"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if ev, _ := receiveEvent(t, newSQSClient(srv.URL()), srv.QueueURL(testInbox), 0); ev != nil {
		t.Fatalf("event from another bucket: %+v", ev)
	}
}

func TestDataDirSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first := startLocal(t, dir)
	s3c := newS3Client(first.URL())
	for key, body := range map[string]string{"keep/a b.jpg": "one", "processed/keep/a b-640.jpg": "two"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(body),
			ContentType: aws.String("image/jpeg")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := startLocal(t, dir)
	s3c = newS3Client(second.URL())
	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("keep/a b.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(data) != "one" || aws.ToString(got.ContentType) != "image/jpeg" {
		t.Fatalf("restored %q (%s)", data, aws.ToString(got.ContentType))
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil || len(list.Contents) != 2 {
		t.Fatalf("ListObjectsV2 = %+v, %v", list, err)
	}
	// Restoring is not uploading: no events.
	if ev, _ := receiveEvent(t, newSQSClient(second.URL()), second.QueueURL(testInbox), 0); ev != nil {
		t.Fatalf("restore emitted %+v", ev)
	}
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("keep/a b.jpg")}); err != nil {
		t.Fatal(err)
	}
}
