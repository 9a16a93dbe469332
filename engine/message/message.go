// Package message decodes the bodies of inbox SQS messages into object events.
//
// The inbox accepts several shapes (DESIGN.md section 4): S3 event
// notifications, s3:TestEvent, either of them wrapped in an SNS envelope,
// EventBridge "aws.s3" events (raw or wrapped in SNS), a plain JSON object
// naming a bucket and key, and a bare key as text. Keys are decoded here, once,
// according to the format they came in, so that the rest of the engine only
// ever sees real object keys.
//
// Every body is untrusted. Anything that is not one of the known shapes, or
// that names an unusable key, is reported as a *DecodeError, which callers
// treat as a permanent failure for that message.
package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxBodyBytes is the largest body Decode looks at: the SQS message size limit.
const MaxBodyBytes = 1 << 20

// MaxKeyBytes is the S3 limit on the length of an object key, in bytes of UTF-8.
const MaxKeyBytes = 1024

// Kind says what happened to an object.
type Kind int

// The kinds of event. Only KindCreated is work; the others are acknowledged.
const (
	KindOther   Kind = iota // an event the daemon does not act on (restore, tagging, ...)
	KindCreated             // an object was written
	KindRemoved             // an object was deleted
	KindTest                // s3:TestEvent, sent when a notification configuration is saved
)

// String returns a short lower-case name for logs.
func (k Kind) String() string {
	switch k {
	case KindCreated:
		return "created"
	case KindRemoved:
		return "removed"
	case KindTest:
		return "test"
	default:
		return "other"
	}
}

// Shape names the format a body arrived in.
type Shape string

// The shapes Decode recognises. SNS-wrapped shapes carry an "sns/" prefix.
const (
	ShapeS3             Shape = "s3"
	ShapeS3Test         Shape = "s3-test"
	ShapeSNSS3          Shape = "sns/s3"
	ShapeSNSS3Test      Shape = "sns/s3-test"
	ShapeEventBridge    Shape = "eventbridge"
	ShapeSNSEventBridge Shape = "sns/eventbridge"
	ShapeJSON           Shape = "json"
	ShapeKey            Shape = "key"
)

// Event is one object event taken from a body.
type Event struct {
	Kind      Kind
	Name      string // as the source spelled it: "ObjectCreated:Put", "Object Created", "s3:TestEvent"; empty for our own shapes
	Bucket    string
	Key       string // the real object key, already decoded
	VersionID string
	ETag      string // without quotes
	Size      int64  // -1 when the body does not say
	Sequencer string
	Time      time.Time // zero when the body does not say (or says something unparsable)
}

// Body is a decoded message body: its shape and its events, in the order the
// body lists them.
type Body struct {
	Shape  Shape
	Events []Event
}

// ErrMalformed is matched by every error Decode returns:
// errors.Is(err, ErrMalformed) is true for a *DecodeError.
var ErrMalformed = errors.New("malformed message body")

// DecodeError says why a body was refused. Reason is a single line and never
// quotes the body at length.
type DecodeError struct {
	Reason string
}

func (e *DecodeError) Error() string { return "malformed message body: " + e.Reason }

// Unwrap lets errors.Is(err, ErrMalformed) match.
func (e *DecodeError) Unwrap() error { return ErrMalformed }

func malformed(format string, args ...any) *DecodeError {
	return &DecodeError{Reason: fmt.Sprintf(format, args...)}
}

// Decode reads one SQS message body. defaultBucket is used for the shapes that
// may leave the bucket out (a plain JSON object without "bucket", a bare key).
// On error the returned Body is empty and the error is a *DecodeError.
func Decode(body string, defaultBucket string) (Body, error) {
	if len(body) > MaxBodyBytes {
		return Body{}, malformed("body is %d bytes, more than the %d allowed", len(body), MaxBodyBytes)
	}
	// SQS only carries valid Unicode, and encoding/json would quietly turn
	// invalid bytes into U+FFFD, so refuse them before anything else.
	if !utf8.ValidString(body) {
		return Body{}, malformed("body is not valid UTF-8")
	}
	text := strings.TrimSpace(body)
	if text == "" {
		return Body{}, malformed("body is empty")
	}
	var (
		b   Body
		err error
	)
	switch text[0] {
	case '{':
		b, err = decodeObject([]byte(text), defaultBucket, false)
	case '[':
		err = malformed("body is a JSON array, not one of the accepted shapes")
	default:
		b, err = decodeBareKey(text, defaultBucket)
	}
	if err != nil {
		return Body{}, err
	}
	return b, nil
}

// decodeObject recognises a JSON object by the members it has. The top-level
// members are read into a map, not a struct, because encoding/json matches
// struct fields case-insensitively and "Event" must not be taken for "event".
func decodeObject(data []byte, defaultBucket string, inSNS bool) (Body, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Body{}, jsonError(err)
	}
	switch {
	case has(top, "Records"):
		return decodeS3Notification(top["Records"])
	case isString(top, "Type", "Notification") && has(top, "Message"):
		if inSNS {
			return Body{}, malformed("SNS notification inside an SNS notification")
		}
		return decodeSNS(top["Message"])
	case has(top, "Event") && has(top, "Service"):
		return decodeS3Test(data)
	case has(top, "detail-type") && has(top, "source"):
		return decodeEventBridge(data)
	case has(top, "key") && !inSNS:
		return decodePlain(data, defaultBucket)
	}
	return Body{}, malformed("JSON object of unknown shape (%s)", describeMembers(top))
}

func has(m map[string]json.RawMessage, name string) bool {
	_, ok := m[name]
	return ok
}

func isString(m map[string]json.RawMessage, name, want string) bool {
	var s string
	return json.Unmarshal(m[name], &s) == nil && s == want
}

// describeMembers lists a few member names so that an operator can tell what
// arrived without the log carrying the body itself.
func describeMembers(m map[string]json.RawMessage) string {
	if len(m) == 0 {
		return "no members"
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	const maxNames = 6
	more := ""
	if len(names) > maxNames {
		more = fmt.Sprintf(" and %d more", len(names)-maxNames)
		names = names[:maxNames]
	}
	for i, n := range names {
		names[i] = clip(n, 40)
	}
	return fmt.Sprintf("members %q%s", names, more)
}

// jsonError turns a decoding error into a DecodeError that names the problem
// and its offset without quoting the input.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return malformed("invalid JSON at byte %d: %s", syntax.Offset, oneLine(syntax.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "value"
		}
		return malformed("JSON %s is a %s, want %s", clip(field, 80), typ.Value, typ.Type)
	default:
		return malformed("invalid JSON: %s", clip(oneLine(err.Error()), 200))
	}
}

// --- S3 event notification -------------------------------------------------

type s3Record struct {
	EventName string `json:"eventName"`
	EventTime string `json:"eventTime"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       *string `json:"key"`
			Size      *int64  `json:"size"`
			ETag      string  `json:"eTag"`
			VersionID string  `json:"versionId"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

func decodeS3Notification(raw json.RawMessage) (Body, error) {
	if isNull(raw) {
		return Body{}, malformed("Records is null")
	}
	var records []s3Record
	if err := json.Unmarshal(raw, &records); err != nil {
		return Body{}, jsonError(err)
	}
	if len(records) == 0 {
		return Body{}, malformed("Records is empty")
	}
	b := Body{Shape: ShapeS3, Events: make([]Event, 0, len(records))}
	for i, r := range records {
		ev, err := s3Event(r)
		if err != nil {
			return Body{}, malformed("Records[%d]: %s", i, err.Reason)
		}
		b.Events = append(b.Events, ev)
	}
	return b, nil
}

func s3Event(r s3Record) (Event, *DecodeError) {
	if r.EventName == "" {
		return Event{}, malformed("missing eventName")
	}
	if r.S3.Bucket.Name == "" {
		return Event{}, malformed("missing s3.bucket.name")
	}
	if err := checkBucket(r.S3.Bucket.Name); err != nil {
		return Event{}, err
	}
	if r.S3.Object.Key == nil {
		return Event{}, malformed("missing s3.object.key")
	}
	// S3 form-encodes keys in notifications: "+" is a space, "%2B" a plus.
	key, err := url.QueryUnescape(*r.S3.Object.Key)
	if err != nil {
		return Event{}, malformed("s3.object.key is not valid form encoding")
	}
	if err := checkKey(key); err != nil {
		return Event{}, err
	}
	size := int64(-1)
	if r.S3.Object.Size != nil {
		if *r.S3.Object.Size < 0 {
			return Event{}, malformed("s3.object.size is negative")
		}
		size = *r.S3.Object.Size
	}
	return Event{
		Kind:      s3Kind(r.EventName),
		Name:      r.EventName,
		Bucket:    r.S3.Bucket.Name,
		Key:       key,
		VersionID: r.S3.Object.VersionID,
		ETag:      strings.Trim(r.S3.Object.ETag, `"`),
		Size:      size,
		Sequencer: r.S3.Object.Sequencer,
		Time:      parseTime(r.EventTime),
	}, nil
}

func s3Kind(name string) Kind {
	name = strings.TrimPrefix(name, "s3:")
	switch {
	case strings.HasPrefix(name, "ObjectCreated:"):
		return KindCreated
	case strings.HasPrefix(name, "ObjectRemoved:"):
		return KindRemoved
	default:
		return KindOther
	}
}

// --- s3:TestEvent ------------------------------------------------------------

func decodeS3Test(data []byte) (Body, error) {
	// Read through a map again to keep member names case-sensitive.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return Body{}, jsonError(err)
	}
	var event, bucket, when string
	if err := stringMember(m, "Event", &event); err != nil {
		return Body{}, err
	}
	if event != "s3:TestEvent" {
		return Body{}, malformed("unknown S3 service event %q", clip(event, 60))
	}
	if err := stringMember(m, "Bucket", &bucket); err != nil {
		return Body{}, err
	}
	if err := stringMember(m, "Time", &when); err != nil {
		return Body{}, err
	}
	return Body{Shape: ShapeS3Test, Events: []Event{{
		Kind:   KindTest,
		Name:   event,
		Bucket: bucket,
		Size:   -1,
		Time:   parseTime(when),
	}}}, nil
}

// stringMember reads an optional string member; a member of another type is an error.
func stringMember(m map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := m[name]
	if !ok || isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return malformed("%s is not a string", name)
	}
	return nil
}

// --- SNS envelope ------------------------------------------------------------

func decodeSNS(raw json.RawMessage) (Body, error) {
	var inner string
	if err := json.Unmarshal(raw, &inner); err != nil {
		return Body{}, malformed("SNS Message is not a string")
	}
	inner = strings.TrimSpace(inner)
	if inner == "" || inner[0] != '{' {
		return Body{}, malformed("SNS Message is not a JSON object")
	}
	b, err := decodeObject([]byte(inner), "", true)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return Body{}, malformed("SNS Message: %s", de.Reason)
		}
		return Body{}, err
	}
	b.Shape = "sns/" + b.Shape
	return b, nil
}

// --- EventBridge -------------------------------------------------------------

type eventBridge struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Time       string `json:"time"`
	Detail     *struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       *string `json:"key"`
			Size      *int64  `json:"size"`
			ETag      string  `json:"etag"`
			VersionID string  `json:"version-id"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	} `json:"detail"`
}

func decodeEventBridge(data []byte) (Body, error) {
	var e eventBridge
	if err := json.Unmarshal(data, &e); err != nil {
		return Body{}, jsonError(err)
	}
	if e.Source != "aws.s3" {
		return Body{}, malformed("EventBridge event from source %q, want \"aws.s3\"", clip(e.Source, 60))
	}
	if e.Detail == nil {
		return Body{}, malformed("EventBridge event without detail")
	}
	d := e.Detail
	if d.Bucket.Name == "" {
		return Body{}, malformed("missing detail.bucket.name")
	}
	if err := checkBucket(d.Bucket.Name); err != nil {
		return Body{}, err
	}
	if d.Object.Key == nil {
		return Body{}, malformed("missing detail.object.key")
	}
	// EventBridge keys are taken as they are: no capture shows them encoded.
	key := *d.Object.Key
	if err := checkKey(key); err != nil {
		return Body{}, err
	}
	size := int64(-1)
	if d.Object.Size != nil {
		if *d.Object.Size < 0 {
			return Body{}, malformed("detail.object.size is negative")
		}
		size = *d.Object.Size
	}
	kind := KindOther
	switch e.DetailType {
	case "Object Created":
		kind = KindCreated
	case "Object Deleted":
		kind = KindRemoved
	}
	return Body{Shape: ShapeEventBridge, Events: []Event{{
		Kind:      kind,
		Name:      e.DetailType,
		Bucket:    d.Bucket.Name,
		Key:       key,
		VersionID: d.Object.VersionID,
		ETag:      strings.Trim(d.Object.ETag, `"`),
		Size:      size,
		Sequencer: d.Object.Sequencer,
		Time:      parseTime(e.Time),
	}}}, nil
}

// --- our own shapes ------------------------------------------------------------

type plainObject struct {
	Bucket    *string `json:"bucket"`
	Key       *string `json:"key"`
	VersionID string  `json:"version_id"`
}

func decodePlain(data []byte, defaultBucket string) (Body, error) {
	var p plainObject
	if err := json.Unmarshal(data, &p); err != nil {
		return Body{}, jsonError(err)
	}
	bucket := defaultBucket
	if p.Bucket != nil {
		bucket = *p.Bucket
	}
	if bucket == "" {
		return Body{}, malformed("no bucket in the body and no default bucket")
	}
	if err := checkBucket(bucket); err != nil {
		return Body{}, err
	}
	if p.Key == nil {
		return Body{}, malformed("key is null")
	}
	if err := checkKey(*p.Key); err != nil {
		return Body{}, err
	}
	return Body{Shape: ShapeJSON, Events: []Event{{
		Kind:      KindCreated,
		Bucket:    bucket,
		Key:       *p.Key,
		VersionID: p.VersionID,
		Size:      -1,
	}}}, nil
}

func decodeBareKey(text, defaultBucket string) (Body, error) {
	if strings.ContainsAny(text, "\r\n") {
		return Body{}, malformed("text body has more than one line; a bare key is a single line")
	}
	if err := checkKey(text); err != nil {
		return Body{}, err
	}
	if strings.IndexFunc(text, unicode.IsControl) >= 0 {
		return Body{}, malformed("bare key contains control characters")
	}
	if defaultBucket == "" {
		return Body{}, malformed("bare key but no default bucket")
	}
	return Body{Shape: ShapeKey, Events: []Event{{
		Kind:   KindCreated,
		Bucket: defaultBucket,
		Key:    text,
		Size:   -1,
	}}}, nil
}

// --- checks ------------------------------------------------------------------

// checkKey applies the S3 rules that hold for every key, after decoding.
func checkKey(key string) *DecodeError {
	switch {
	case key == "":
		return malformed("key is empty")
	case len(key) > MaxKeyBytes:
		return malformed("key is %d bytes, more than the %d S3 allows", len(key), MaxKeyBytes)
	case !utf8.ValidString(key):
		return malformed("key is not valid UTF-8")
	}
	return nil
}

// checkBucket refuses bucket names no S3 would hand out. Naming rules differ
// between AWS and compatible stores, so only the plainly impossible is refused.
func checkBucket(bucket string) *DecodeError {
	switch {
	case len(bucket) > 255:
		return malformed("bucket name is %d bytes long", len(bucket))
	case !utf8.ValidString(bucket):
		return malformed("bucket name is not valid UTF-8")
	case strings.IndexFunc(bucket, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || r == '/' }) >= 0:
		return malformed("bucket name contains a space, a slash or a control character")
	}
	return nil
}

// parseTime reads an RFC 3339 timestamp. Event times are informative only, so
// an unparsable one (some emulators send placeholders) gives the zero time
// instead of failing the message.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s for an error message and keeps it one printable line.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
