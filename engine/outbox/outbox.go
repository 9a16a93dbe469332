// Package outbox defines the record resizer publishes for every source image
// and sends it to the outbox FIFO queue.
package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SchemaVersion is the value of Record.Version. It changes only when a field
// changes meaning or disappears; new optional fields keep the version.
const SchemaVersion = 1

// Status values of a record.
const (
	StatusProcessed = "processed"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
)

// Record is one outbox message: what happened to one source image.
type Record struct {
	Version   int        `json:"version"`
	Status    string     `json:"status"`
	MessageID string     `json:"message_id,omitempty"`
	Source    Source     `json:"source"`
	Recipe    *RecipeRef `json:"recipe,omitempty"`
	Outputs   []Output   `json:"outputs"`
	Error     *Error     `json:"error,omitempty"`
	Timings   Timings    `json:"timings_ms"`
	Time      time.Time  `json:"time"`
}

// Source describes the uploaded object the record is about.
type Source struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
	ETag      string `json:"etag,omitempty"`
	Bytes     int64  `json:"bytes,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	Format    string `json:"format,omitempty"`
}

// RecipeRef names the recipe used and the digest of its content.
type RecipeRef struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Output is one written object.
type Output struct {
	Name        string `json:"name"`
	Key         string `json:"key"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Format      string `json:"format"`
	ContentType string `json:"content_type"`
	Bytes       int64  `json:"bytes"`
}

// Error explains a failed or skipped record. Code is a stable,
// machine-readable word; Message is for people.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Timings are stage durations in milliseconds.
type Timings struct {
	Download  float64 `json:"download"`
	Decode    float64 `json:"decode"`
	Transform float64 `json:"transform"`
	Encode    float64 `json:"encode"`
	Upload    float64 `json:"upload"`
	Total     float64 `json:"total"`
}

// Millis converts a duration to fractional milliseconds, rounded to 0.1 ms.
func Millis(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}

// DedupID is the FIFO MessageDeduplicationId of a record: a digest of the
// bucket, the key, the object version (or ETag) and the recipe digest, so a
// redelivered inbox message produces no second outbox message.
func DedupID(bucket, key, versionOrETag, recipeDigest string) string {
	h := sha256.New()
	for _, part := range []string{bucket, key, versionOrETag, recipeDigest} {
		// Length-prefix every part so that ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// GroupID renders the MessageGroupId template for a record. "{key}" and
// "{bucket}" are replaced; the result is made valid for SQS (at most 128
// characters of printable ASCII) by replacing it with a digest when needed.
func GroupID(template string, rec Record) string {
	id := strings.NewReplacer("{key}", rec.Source.Key, "{bucket}", rec.Source.Bucket).Replace(template)
	if id == "" {
		id = "resizer"
	}
	if validGroupID(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256-" + hex.EncodeToString(sum[:])
}

func validGroupID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		// SQS accepts alphanumerics and punctuation, nothing else (no spaces).
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// Sender writes records to the outbox queue.
type Sender struct {
	client        *sqs.Client
	queueURL      string
	groupTemplate string
}

// NewSender returns a Sender for the FIFO queue at queueURL. groupTemplate
// is the MessageGroupId template (see GroupID); "" means "{key}".
func NewSender(client *sqs.Client, queueURL, groupTemplate string) *Sender {
	if groupTemplate == "" {
		groupTemplate = "{key}"
	}
	return &Sender{client: client, queueURL: queueURL, groupTemplate: groupTemplate}
}

// Send publishes rec with the given deduplication id.
func (s *Sender) Send(ctx context.Context, rec Record, dedupID string) error {
	rec.Version = SchemaVersion
	if rec.Outputs == nil {
		rec.Outputs = []Output{}
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode outbox record for %q: %w", rec.Source.Key, err)
	}
	_, err = s.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(s.queueURL),
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(GroupID(s.groupTemplate, rec)),
		MessageDeduplicationId: aws.String(dedupID),
	})
	if err != nil {
		return fmt.Errorf("send outbox record for %q: %w", rec.Source.Key, err)
	}
	return nil
}
