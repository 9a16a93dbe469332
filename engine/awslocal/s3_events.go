package awslocal

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/johannesboyne/gofakes3"
)

// objectCreatedEvent is the EventBridge "Object Created" event that S3
// sends when EventBridge notifications are on for a bucket.
type objectCreatedEvent struct {
	Version    string        `json:"version"`
	ID         string        `json:"id"`
	DetailType string        `json:"detail-type"`
	Source     string        `json:"source"`
	Account    string        `json:"account"`
	Time       string        `json:"time"`
	Region     string        `json:"region"`
	Resources  []string      `json:"resources"`
	Detail     createdDetail `json:"detail"`
}

type createdDetail struct {
	Version string `json:"version"`
	Bucket  struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object          createdObject `json:"object"`
	RequestID       string        `json:"request-id"`
	Requester       string        `json:"requester"`
	SourceIPAddress string        `json:"source-ip-address"`
	Reason          string        `json:"reason"`
}

type createdObject struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"etag"`
	VersionID string `json:"version-id,omitempty"`
	Sequencer string `json:"sequencer"`
}

// eventSink receives object-created events; *SQS is the real one.
type eventSink interface {
	Send(queueName, body, groupID, dedupID string) (string, error)
}

// eventBackend wraps a gofakes3 backend: it keeps objects on disk when a
// store is set, and turns every object written into the watched bucket
// (PutObject, CopyObject and multipart completion all end in PutObject)
// into an inbox event.
type eventBackend struct {
	gofakes3.Backend
	store *dirStore // nil = memory only
	log   hclog.Logger

	bucket        string
	excludePrefix string
	region        string
	inbox         string
	groupID       string
	sink          eventSink

	mu      sync.Mutex
	lastSeq uint64
}

func (b *eventBackend) CreateBucket(name string) error {
	if err := b.Backend.CreateBucket(name); err != nil {
		return err
	}
	return b.store.createBucket(name)
}

func (b *eventBackend) DeleteBucket(name string) error {
	if err := b.Backend.DeleteBucket(name); err != nil {
		return err
	}
	return b.store.deleteBucket(name)
}

func (b *eventBackend) ForceDeleteBucket(name string) error {
	if err := b.Backend.ForceDeleteBucket(name); err != nil {
		return err
	}
	return b.store.deleteBucket(name)
}

func (b *eventBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	// The memory backend reads the whole body anyway; holding it here lets us
	// hash it for the event and write it to disk.
	data, err := io.ReadAll(input)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if size >= 0 && int64(len(data)) != size {
		return gofakes3.PutObjectResult{}, gofakes3.ErrIncompleteBody
	}
	res, err := b.Backend.PutObject(bucket, key, meta, bytes.NewReader(data), int64(len(data)), conditions)
	if err != nil {
		return res, err
	}
	if err := b.store.putObject(bucket, key, meta, data); err != nil {
		b.log.Warn("object kept in memory only", "bucket", bucket, "key", key, "error", err)
	}
	sum := md5.Sum(data)
	b.emit(bucket, key, int64(len(data)), hex.EncodeToString(sum[:]), string(res.VersionID))
	return res, nil
}

// CopyObject goes through our PutObject so that copies persist and emit
// events too (the memory backend would call its own PutObject).
func (b *eventBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

func (b *eventBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	res, err := b.Backend.DeleteObject(bucket, key)
	if err == nil {
		b.store.deleteObject(bucket, key)
	}
	return res, err
}

func (b *eventBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	res, err := b.Backend.DeleteMulti(bucket, keys...)
	if err == nil {
		for _, d := range res.Deleted {
			b.store.deleteObject(bucket, d.Key)
		}
	}
	return res, err
}

// sequencer returns a strictly increasing hex string, as S3 sequencers
// are for successive writes.
func (b *eventBackend) sequencer() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	seq := uint64(time.Now().UnixNano())
	if seq <= b.lastSeq {
		seq = b.lastSeq + 1
	}
	b.lastSeq = seq
	return fmt.Sprintf("%018X", seq)
}

func (b *eventBackend) emit(bucket, key string, size int64, etag, versionID string) {
	if b.sink == nil || bucket != b.bucket {
		return
	}
	if b.excludePrefix != "" && strings.HasPrefix(key, b.excludePrefix) {
		return
	}
	ev := objectCreatedEvent{
		Version: "0", ID: newID(), DetailType: "Object Created", Source: "aws.s3",
		Account: AccountID, Time: time.Now().UTC().Format(time.RFC3339), Region: b.region,
		Resources: []string{"arn:aws:s3:::" + bucket},
	}
	ev.Detail = createdDetail{Version: "0", RequestID: strings.ToUpper(strings.ReplaceAll(newID(), "-", "")[:16]),
		Requester: AccountID, SourceIPAddress: "127.0.0.1", Reason: "PutObject",
		Object: createdObject{Key: key, Size: size, ETag: etag, VersionID: versionID, Sequencer: b.sequencer()}}
	ev.Detail.Bucket.Name = bucket
	body, err := json.Marshal(ev)
	if err != nil {
		b.log.Error("cannot encode object event", "key", key, "error", err)
		return
	}
	// EventBridge's FIFO target uses the event id as deduplication id.
	if _, err := b.sink.Send(b.inbox, string(body), b.groupID, ev.ID); err != nil {
		b.log.Error("cannot send object event", "queue", b.inbox, "key", key, "error", err)
		return
	}
	b.log.Debug("object event sent", "queue", b.inbox, "key", key, "size", size)
}
