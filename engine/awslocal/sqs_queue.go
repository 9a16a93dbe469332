package awslocal

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	dedupWindow      = 5 * time.Minute
	maxVisibility    = 43200
	defaultMaxSize   = 1048576              // the AWS default since the 1 MiB limit
	sequenceBase     = 10000000000000000000 // 20 digits, like AWS sequence numbers
	maxBatchEntries  = 10
	maxReceiveBatch  = 10
	maxWaitSeconds   = 20
	maxQueueNameSize = 80
)

// queueConfig holds the attributes a client can set.
type queueConfig struct {
	fifo         bool
	contentDedup bool
	visibility   int
	retention    int
	wait         int
	delay        int
	maxSize      int
	redrive      *redrivePolicy
	// extra keeps attributes that are accepted and echoed but have no effect
	// here (Policy, KMS settings, FIFO throughput knobs ...).
	extra map[string]string
}

type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

func defaultQueueConfig() queueConfig {
	return queueConfig{visibility: 30, retention: 345600, maxSize: defaultMaxSize, extra: map[string]string{}}
}

// passiveAttributes are accepted and stored without changing behaviour.
var passiveAttributes = map[string]bool{
	"Policy": true, "KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true,
	"SqsManagedSseEnabled": true, "RedriveAllowPolicy": true,
	"DeduplicationScope": true, "FifoThroughputLimit": true,
}

// apply validates attrs and writes them into c. creating allows FifoQueue.
func (c *queueConfig) apply(attrs map[string]string, creating bool) *APIError {
	intAttr := func(name, v string, lo, hi int) (int, *APIError) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return 0, errInvalidAttributeValue("Invalid value for the parameter %s.", name)
		}
		return n, nil
	}
	var apiErr *APIError
	for name, v := range attrs {
		switch name {
		case "FifoQueue":
			if !creating {
				return errInvalidAttributeName(name)
			}
			c.fifo = v == "true"
		case "ContentBasedDeduplication":
			c.contentDedup = v == "true"
		case "VisibilityTimeout":
			c.visibility, apiErr = intAttr(name, v, 0, maxVisibility)
		case "MessageRetentionPeriod":
			c.retention, apiErr = intAttr(name, v, 60, 1209600)
		case "ReceiveMessageWaitTimeSeconds":
			c.wait, apiErr = intAttr(name, v, 0, maxWaitSeconds)
		case "DelaySeconds":
			c.delay, apiErr = intAttr(name, v, 0, 900)
		case "MaximumMessageSize":
			c.maxSize, apiErr = intAttr(name, v, 1024, 1048576)
		case "RedrivePolicy":
			c.redrive, apiErr = parseRedrivePolicy(v)
		default:
			if !passiveAttributes[name] {
				return errInvalidAttributeName(name)
			}
			c.extra[name] = v
		}
		if apiErr != nil {
			return apiErr
		}
	}
	if c.contentDedup && !c.fifo {
		return errInvalidAttributeName("ContentBasedDeduplication")
	}
	return nil
}

// parseRedrivePolicy accepts maxReceiveCount as a number or a string: both
// reach AWS from real clients. An empty value removes the policy.
func parseRedrivePolicy(v string) (*redrivePolicy, *APIError) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var raw struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	invalid := errInvalidAttributeValue("Value %s for parameter RedrivePolicy is invalid.", v)
	if err := json.Unmarshal([]byte(v), &raw); err != nil || raw.DeadLetterTargetArn == "" {
		return nil, invalid
	}
	count, err := strconv.Atoi(strings.Trim(string(raw.MaxReceiveCount), `"`))
	if err != nil || count < 1 || count > 1000 {
		return nil, invalid
	}
	return &redrivePolicy{DeadLetterTargetArn: raw.DeadLetterTargetArn, MaxReceiveCount: count}, nil
}

// settable renders the configurable attributes as AWS reports them.
func (c *queueConfig) settable() map[string]string {
	m := map[string]string{
		"VisibilityTimeout":             strconv.Itoa(c.visibility),
		"MessageRetentionPeriod":        strconv.Itoa(c.retention),
		"ReceiveMessageWaitTimeSeconds": strconv.Itoa(c.wait),
		"DelaySeconds":                  strconv.Itoa(c.delay),
		"MaximumMessageSize":            strconv.Itoa(c.maxSize),
		"SqsManagedSseEnabled":          "true",
	}
	if c.fifo {
		m["FifoQueue"] = "true"
		m["ContentBasedDeduplication"] = strconv.FormatBool(c.contentDedup)
		m["DeduplicationScope"] = "queue"
		m["FifoThroughputLimit"] = "perQueue"
	}
	if c.redrive != nil {
		b, _ := json.Marshal(c.redrive)
		m["RedrivePolicy"] = string(b)
	}
	for k, v := range c.extra {
		m[k] = v
	}
	return m
}

type messageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

type message struct {
	id       string
	body     string
	md5Body  string
	attrs    map[string]messageAttribute
	md5Attrs string
	groupID  string
	dedupID  string
	seq      string
	sent     time.Time
	// visibleAt is when the message can next be received: the end of a
	// delay before the first receive, the end of the lease afterwards.
	visibleAt    time.Time
	receiveCount int
	firstReceive time.Time
	handle       string // receipt handle of the latest receive
	deadLetterOf string // ARN of the source queue after a redrive
}

func (m *message) inFlight(now time.Time) bool {
	return m.receiveCount > 0 && m.visibleAt.After(now)
}

type dedupRecord struct {
	id      string
	seq     string
	expires time.Time
}

type queue struct {
	name     string
	arn      string
	cfg      queueConfig
	created  time.Time
	modified time.Time
	msgs     []*message // in send order
	dedup    map[string]dedupRecord
	nextSeq  uint64
	// wake is closed (and replaced) whenever a receiver may find something new.
	wake chan struct{}
}

func newQueue(name, arn string, cfg queueConfig, now time.Time) *queue {
	return &queue{name: name, arn: arn, cfg: cfg, created: now, modified: now,
		dedup: map[string]dedupRecord{}, wake: make(chan struct{})}
}

func (q *queue) signal() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// expire drops messages past the retention period and stale dedup records.
func (q *queue) expire(now time.Time) {
	keep := q.msgs[:0]
	for _, m := range q.msgs {
		if now.Sub(m.sent) < time.Duration(q.cfg.retention)*time.Second {
			keep = append(keep, m)
		}
	}
	clear(q.msgs[len(keep):])
	q.msgs = keep
	for k, d := range q.dedup {
		if now.After(d.expires) {
			delete(q.dedup, k)
		}
	}
}

func (q *queue) find(id string) (int, *message) {
	for i, m := range q.msgs {
		if m.id == id {
			return i, m
		}
	}
	return -1, nil
}

func (q *queue) remove(i int) {
	q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
}

// nextWake is the earliest future moment at which a message becomes
// visible, or the zero time.
func (q *queue) nextWake(now time.Time) time.Time {
	var next time.Time
	for _, m := range q.msgs {
		if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
			next = m.visibleAt
		}
	}
	return next
}

func (q *queue) counts(now time.Time) (visible, inFlight, delayed int) {
	for _, m := range q.msgs {
		switch {
		case !m.visibleAt.After(now):
			visible++
		case m.receiveCount > 0:
			inFlight++
		default:
			delayed++
		}
	}
	return
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes follows the SQS recipe: attributes sorted by name, each
// as length-prefixed name, length-prefixed type, a transport byte (1 string,
// 2 binary) and the length-prefixed value.
func md5OfAttributes(attrs map[string]messageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Receipt handles name the queue and message and carry a nonce, so that
// every receive hands out a new one and stale ones can be told apart.
func newReceiptHandle(queueName, msgID string) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	raw := queueName + "\n" + msgID + "\n" + hex.EncodeToString(nonce[:])
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseReceiptHandle(h string) (queueName, msgID string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func validQueueName(name string) bool {
	base := strings.TrimSuffix(name, ".fifo")
	if base == "" || len(name) > maxQueueNameSize {
		return false
	}
	for _, r := range base {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// validBody reports whether s only holds the characters SQS accepts.
func validBody(s string) bool {
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

func validBatchID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func formatSeq(n uint64) string {
	return fmt.Sprintf("%020d", uint64(sequenceBase)+n)
}

func millis(t time.Time) string {
	return strconv.FormatInt(t.UnixMilli(), 10)
}
