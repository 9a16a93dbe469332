package daemon_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/internal/mototest"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
	"github.com/seed62486500/resizer/plugins/bundle"
)

const bucket = "bucket-image-resizer-storage"

func TestMain(m *testing.M) {
	// The daemon starts its bundled plugins from its own executable, which
	// here is this test binary.
	bundle.ServeIfRequested(os.Args[1:])
	os.Exit(m.Run())
}

const testRecipe = `name: photos
match: ["photos/**"]
outputs:
  - name: large
    width: 400
    height: 400
    format: jpeg
    quality: 80
  - name: thumb
    width: 64
    height: 64
    format: png
`

// env is one S3+SQS peer with the bucket and queues provisioned through
// the SDK, and a daemon configuration pointing at it.
type env struct {
	cfg     config.Config
	clients daemon.Clients
}

func newEnv(t *testing.T, endpoint string) env {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.Endpoint = endpoint
	cfg.Bucket = bucket
	cfg.AllowedBuckets = []string{bucket}
	cfg.TempDir = filepath.Join(t.TempDir(), "tmp")
	cfg.RecipesDir = t.TempDir()
	cfg.WaitTime = config.Duration(time.Second)
	cfg.RetryBase = config.Duration(time.Second)
	cfg.ShutdownGrace = config.Duration(20 * time.Second)
	if err := os.WriteFile(filepath.Join(cfg.RecipesDir, "photos.yaml"), []byte(testRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	clients, err := daemon.NewClients(ctx, cfg, local.StaticCredentials())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	mk := func(name string) string {
		out, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{
			QueueName:  aws.String(name),
			Attributes: map[string]string{"FifoQueue": "true", "VisibilityTimeout": "30"},
		})
		if err != nil {
			t.Fatalf("create queue %s: %v", name, err)
		}
		return aws.ToString(out.QueueUrl)
	}
	cfg.InboxURL = mk("inbox_sqs_image_resizer.fifo")
	cfg.OutboxURL = mk("outbox_sqs_image_resizer.fifo")
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	return env{cfg: cfg, clients: clients}
}

func embedded(t *testing.T) env {
	srv, err := awslocal.Start(context.Background(), awslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return newEnv(t, srv.URL())
}

func moto(t *testing.T) env { return newEnv(t, mototest.Start(t)) }

func (e env) put(t *testing.T, key string, body []byte) {
	t.Helper()
	_, err := e.clients.S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

var dedup int

func (e env) send(t *testing.T, body string) {
	t.Helper()
	dedup++
	_, err := e.clients.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:               aws.String(e.cfg.InboxURL),
		MessageBody:            aws.String(body),
		MessageGroupId:         aws.String("s3-object-created"),
		MessageDeduplicationId: aws.String("m" + strconv.Itoa(dedup)),
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
}

// start runs a daemon until the test ends or stop is called.
func (e env) start(t *testing.T) (stop func()) {
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Name: "resizer", Level: hclog.Info, Output: testWriter{t}})
	d, err := daemon.New(context.Background(), e.cfg, e.clients, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// collect reads outbox records until want have arrived, then keeps
// reading for settle to catch any extra.
func (e env) collect(t *testing.T, want int, timeout, settle time.Duration) []outbox.Record {
	t.Helper()
	ctx := context.Background()
	var recs []outbox.Record
	deadline := time.Now().Add(timeout)
	for len(recs) < want && time.Now().Before(deadline) {
		got, err := local.ReadOutbox(ctx, e.clients.SQS, e.cfg.OutboxURL, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, got...)
	}
	for end := time.Now().Add(settle); time.Now().Before(end); {
		got, err := local.ReadOutbox(ctx, e.clients.SQS, e.cfg.OutboxURL, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, got...)
	}
	return recs
}

func (e env) inFlight(t *testing.T) int {
	t.Helper()
	out, err := e.clients.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(e.cfg.InboxURL),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return n
}

func (e env) inboxDepth(t *testing.T) int {
	t.Helper()
	out, err := e.clients.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(e.cfg.InboxURL),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	f, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return v + f
}

// tempFiles counts the files left in the daemon's temp dir.
func tempFiles(t *testing.T, e env) int {
	t.Helper()
	left, err := os.ReadDir(e.cfg.TempDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(left)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// s3Notification builds an S3 event notification body; keys are given
// decoded and encoded here the way S3 does (form encoding).
func s3Notification(event string, keys ...string) string {
	type obj struct {
		Key       string `json:"key"`
		Size      int    `json:"size"`
		ETag      string `json:"eTag"`
		Sequencer string `json:"sequencer"`
	}
	type rec struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		AWSRegion    string `json:"awsRegion"`
		EventTime    string `json:"eventTime"`
		EventName    string `json:"eventName"`
		S3           struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object obj `json:"object"`
		} `json:"s3"`
	}
	var body struct {
		Records []rec `json:"Records"`
	}
	for i, k := range keys {
		var r rec
		r.EventVersion, r.EventSource, r.AWSRegion = "2.1", "aws:s3", "us-east-1"
		r.EventTime, r.EventName = "2026-12-03T10:00:00.000Z", event
		r.S3.Bucket.Name = bucket
		r.S3.Object = obj{Key: url.QueryEscape(k), Size: 1, Sequencer: fmt.Sprintf("00656%011X", i+1)}
		r.S3.Object.Key = strings.ReplaceAll(r.S3.Object.Key, "%2F", "/")
		body.Records = append(body.Records, r)
	}
	b, _ := json.Marshal(body)
	return string(b)
}

func eventBridge(key string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "75012ec5-af4a-7e39-2dd4-a28b7bb8cde4", "detail-type": "Object Created",
		"source": "aws.s3", "account": "533267249214", "time": "2026-12-03T10:00:00Z", "region": "us-east-1",
		"resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]any{"name": bucket},
			"object": map[string]any{"key": key, "size": 1, "etag": "x", "sequencer": "0066030E82E2A48DFE"},
			"reason": "PutObject",
		},
	})
	return string(b)
}

func sns(inner string) string {
	b, _ := json.Marshal(map[string]any{
		"Type": "Notification", "MessageId": "1", "TopicArn": "arn:aws:sns:us-east-1:533267249214:uploads",
		"Subject": "Amazon S3 Notification", "Message": inner, "Timestamp": "2026-12-03T10:00:00.000Z",
	})
	return string(b)
}

// hugePNG is a PNG whose header declares 60000×60000 pixels.
func hugePNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 60000)
	binary.BigEndian.PutUint32(ihdr[4:], 60000)
	ihdr[8], ihdr[9] = 8, 6
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

type expect struct {
	status string
	code   string // error code for failed and skipped
	w, h   int    // source size when processed
}

// scenario uploads sources, sends every supported message shape and checks
// the outbox, the outputs and the inbox afterwards.
func scenario(t *testing.T, e env) {
	jpg := samples.JPEG(900, 600, 1, 85)
	e.put(t, "photos/a.jpg", jpg)
	e.put(t, "photos/b c.jpg", samples.JPEG(600, 900, 2, 85))
	e.put(t, "photos/plus+sign.jpg", jpg)
	e.put(t, "photos/café.jpg", jpg)
	e.put(t, "photos/sns.jpg", jpg)
	e.put(t, "photos/sns-eb.jpg", jpg)
	e.put(t, "photos/eb.jpg", jpg)
	e.put(t, "photos/json.jpg", jpg)
	e.put(t, "photos/bare.jpg", jpg)
	e.put(t, "photos/alpha.png", samples.PNGWithAlpha(300, 200, 3))
	e.put(t, "photos/truncated.jpg", jpg[:len(jpg)/2])
	e.put(t, "photos/text.jpg", []byte("this is not an image, just text named .jpg\n"))
	e.put(t, "photos/huge.png", hugePNG())
	e.put(t, "other/none.jpg", jpg)
	e.put(t, "processed/photos/a.jpg/large.jpg", jpg)

	e.send(t, s3Notification("ObjectCreated:Put", "photos/a.jpg", "photos/b c.jpg")) // two records
	e.send(t, s3Notification("ObjectCreated:Put", "photos/plus+sign.jpg", "photos/café.jpg"))
	e.send(t, sns(s3Notification("ObjectCreated:CompleteMultipartUpload", "photos/sns.jpg")))
	e.send(t, sns(eventBridge("photos/sns-eb.jpg")))
	e.send(t, eventBridge("photos/eb.jpg"))
	e.send(t, `{"bucket":"`+bucket+`","key":"photos/json.jpg"}`)
	e.send(t, "photos/bare.jpg")
	e.send(t, s3Notification("ObjectCreated:Copy", "photos/alpha.png"))
	e.send(t, `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-03T10:00:00.000Z","Bucket":"`+bucket+`","RequestId":"1","HostId":"2"}`)
	e.send(t, s3Notification("ObjectRemoved:Delete", "photos/a.jpg"))
	e.send(t, s3Notification("ObjectCreated:Put", "processed/photos/a.jpg/large.jpg")) // loop guard
	e.send(t, s3Notification("ObjectCreated:Put", "photos/missing.jpg"))
	e.send(t, s3Notification("ObjectCreated:Put", "photos/truncated.jpg", "photos/text.jpg", "photos/huge.png"))
	e.send(t, `{"bucket":"someone-elses-bucket","key":"photos/a.jpg"}`)
	e.send(t, "{this is not json")
	e.send(t, s3Notification("ObjectCreated:Put", "other/none.jpg"))

	want := map[string]expect{
		"photos/a.jpg":         {outbox.StatusProcessed, "", 900, 600},
		"photos/b c.jpg":       {outbox.StatusProcessed, "", 600, 900},
		"photos/plus+sign.jpg": {outbox.StatusProcessed, "", 900, 600},
		"photos/café.jpg":      {outbox.StatusProcessed, "", 900, 600},
		"photos/sns.jpg":       {outbox.StatusProcessed, "", 900, 600},
		"photos/sns-eb.jpg":    {outbox.StatusProcessed, "", 900, 600},
		"photos/eb.jpg":        {outbox.StatusProcessed, "", 900, 600},
		"photos/json.jpg":      {outbox.StatusProcessed, "", 900, 600},
		"photos/bare.jpg":      {outbox.StatusProcessed, "", 900, 600},
		"photos/alpha.png":     {outbox.StatusProcessed, "", 300, 200},
		"photos/missing.jpg":   {outbox.StatusSkipped, "not_found", 0, 0},
		"photos/truncated.jpg": {outbox.StatusFailed, "corrupt_image", 0, 0},
		"photos/text.jpg":      {outbox.StatusFailed, "unsupported_format", 0, 0},
		"photos/huge.png":      {outbox.StatusFailed, "image_too_large", 0, 0},
		"other/none.jpg":       {outbox.StatusSkipped, "no_recipe", 0, 0},
	}
	const extra = 2 // the foreign bucket and the malformed body

	stop := e.start(t)
	recs := e.collect(t, len(want)+extra, 90*time.Second, 3*time.Second)
	stop()

	byKey := map[string]outbox.Record{}
	var foreign, malformed int
	for _, r := range recs {
		switch {
		case r.Error != nil && r.Error.Code == "malformed_message":
			malformed++
			if r.MessageID == "" || !strings.Contains(r.Error.Message, "malformed") {
				t.Errorf("malformed record lacks its message id or reason: %+v", r)
			}
		case r.Source.Bucket == "someone-elses-bucket":
			foreign++
			if r.Status != outbox.StatusFailed || r.Error.Code != "bucket_not_allowed" {
				t.Errorf("foreign bucket record: %+v", r)
			}
		default:
			if _, dup := byKey[r.Source.Key]; dup {
				t.Errorf("two outbox records for %q", r.Source.Key)
			}
			byKey[r.Source.Key] = r
		}
	}
	if malformed != 1 || foreign != 1 {
		t.Errorf("got %d malformed and %d foreign-bucket records, want 1 and 1", malformed, foreign)
	}
	for key, w := range want {
		r, ok := byKey[key]
		if !ok {
			t.Errorf("%s: no outbox record", key)
			continue
		}
		delete(byKey, key)
		if r.Status != w.status {
			t.Errorf("%s: status %s (%+v), want %s", key, r.Status, r.Error, w.status)
			continue
		}
		if w.code != "" {
			if r.Error == nil || r.Error.Code != w.code {
				t.Errorf("%s: error %+v, want code %s", key, r.Error, w.code)
			} else if strings.TrimSpace(r.Error.Message) == "" {
				t.Errorf("%s: empty reason", key)
			}
			continue
		}
		checkProcessed(t, e, r, w)
	}
	for key, r := range byKey {
		t.Errorf("unexpected outbox record for %q: %s %+v", key, r.Status, r.Error)
	}
	if n := e.inboxDepth(t); n != 0 {
		t.Errorf("inbox still holds %d messages", n)
	}
	if left := tempFiles(t, e); left != 0 {
		t.Errorf("temp files left behind: %d", left)
	}
}

func checkProcessed(t *testing.T, e env, r outbox.Record, w expect) {
	t.Helper()
	if r.Source.Width != w.w || r.Source.Height != w.h || r.Source.ETag == "" || r.Source.Bytes == 0 {
		t.Errorf("%s: source %+v, want %dx%d with an ETag and a size", r.Source.Key, r.Source, w.w, w.h)
	}
	if r.Version != outbox.SchemaVersion || r.Recipe == nil || r.Recipe.Name != "photos" || r.Recipe.Digest == "" {
		t.Errorf("%s: version %d recipe %+v", r.Source.Key, r.Version, r.Recipe)
	}
	if len(r.Outputs) != 2 {
		t.Fatalf("%s: %d outputs, want 2", r.Source.Key, len(r.Outputs))
	}
	for _, o := range r.Outputs {
		wantKey := "processed/" + r.Source.Key + "/" + o.Name + "." + map[string]string{"large": "jpg", "thumb": "png"}[o.Name]
		if o.Key != wantKey {
			t.Errorf("%s: output key %q, want %q", r.Source.Key, o.Key, wantKey)
		}
		box := map[string]int{"large": 400, "thumb": 64}[o.Name]
		ww, wh := imaging.Fit(w.w, w.h, box, box)
		if o.Width != ww || o.Height != wh {
			t.Errorf("%s: %s is %dx%d, want %dx%d", r.Source.Key, o.Name, o.Width, o.Height, ww, wh)
		}
		obj, err := e.clients.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key)})
		if err != nil {
			t.Errorf("%s: get %s: %v", r.Source.Key, o.Key, err)
			continue
		}
		var buf bytes.Buffer
		buf.ReadFrom(obj.Body)
		obj.Body.Close()
		cfg, format, err := image.DecodeConfig(bytes.NewReader(buf.Bytes()))
		if err != nil || cfg.Width != o.Width || cfg.Height != o.Height || format != o.Format {
			t.Errorf("%s: stored %s decodes as %s %dx%d (%v), want %s %dx%d", r.Source.Key, o.Key, format, cfg.Width, cfg.Height, err, o.Format, o.Width, o.Height)
		}
		if int64(buf.Len()) != o.Bytes {
			t.Errorf("%s: %s has %d bytes, record says %d", r.Source.Key, o.Key, buf.Len(), o.Bytes)
		}
		if got := aws.ToString(obj.ContentType); got != o.ContentType {
			t.Errorf("%s: content type %q, want %q", o.Key, got, o.ContentType)
		}
		if got := aws.ToString(obj.CacheControl); got != e.cfg.CacheControl {
			t.Errorf("%s: cache control %q, want %q", o.Key, got, e.cfg.CacheControl)
		}
		if got, _ := url.QueryUnescape(obj.Metadata["source-key"]); got != r.Source.Key {
			t.Errorf("%s: metadata source-key %q, want %q", o.Key, got, r.Source.Key)
		}
		if obj.Metadata["recipe"] != "photos" || obj.Metadata["source-etag"] != r.Source.ETag {
			t.Errorf("%s: metadata %v", o.Key, obj.Metadata)
		}
	}
}

func TestEndToEndEmbedded(t *testing.T) { scenario(t, embedded(t)) }

func TestEndToEndMoto(t *testing.T) { scenario(t, moto(t)) }

// TestRedeliveryWritesNothingTwice sends the same upload twice, as
// at-least-once delivery may: the outputs are rewritten identically and the
// outbox shows one record.
func TestRedeliveryWritesNothingTwice(t *testing.T) {
	e := embedded(t)
	e.put(t, "photos/twice.jpg", samples.JPEG(500, 500, 9, 85))
	e.send(t, s3Notification("ObjectCreated:Put", "photos/twice.jpg"))
	e.send(t, s3Notification("ObjectCreated:Put", "photos/twice.jpg"))
	e.start(t)
	recs := e.collect(t, 1, 20*time.Second, 3*time.Second)
	if len(recs) != 1 || recs[0].Status != outbox.StatusProcessed {
		t.Fatalf("got %d outbox records, want 1 processed", len(recs))
	}
}

func TestMissingInboxStopsTheDaemon(t *testing.T) {
	e := embedded(t)
	e.cfg.InboxURL = strings.Replace(e.cfg.InboxURL, "inbox_sqs", "nope", 1)
	d, err := daemon.New(context.Background(), e.cfg, e.clients, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = d.Run(ctx)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want a queue error", err)
	}
}
