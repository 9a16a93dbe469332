package awslocal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// AccountID is the account every local queue and bucket belongs to.
const AccountID = "000000000000"

// FaultFunc is the fault-injection hook. It is called before every SQS
// operation with the operation name ("ReceiveMessage", ...); a non-nil
// error fails the call: an *APIError is sent as that AWS error, anything
// else as a 500 InternalFailure.
type FaultFunc func(op string) error

// SQSOptions configures an SQS handler.
type SQSOptions struct {
	Region string // default "us-east-1"
	// BaseURL is the scheme and authority used in queue URLs, e.g.
	// "http://127.0.0.1:4566". Empty means the Host header of each request.
	BaseURL string
	Fault   FaultFunc
	Logger  hclog.Logger
}

// SQS is an in-memory SQS speaking the AWS JSON 1.0 protocol.
type SQS struct {
	region  string
	baseURL string
	fault   FaultFunc
	log     hclog.Logger
	now     func() time.Time

	mu     sync.Mutex
	queues map[string]*queue
}

// NewSQS returns an empty SQS handler.
func NewSQS(opts SQSOptions) *SQS {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &SQS{region: opts.Region, baseURL: strings.TrimSuffix(opts.BaseURL, "/"), fault: opts.Fault,
		log: opts.Logger, now: time.Now, queues: map[string]*queue{}}
}

func (s *SQS) queueArn(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.region, AccountID, name)
}

// QueueURL is the URL of the named queue as clients see it.
func (s *SQS) QueueURL(base, name string) string {
	if s.baseURL != "" {
		base = s.baseURL
	}
	return base + "/" + AccountID + "/" + name
}

// queueNameFromURL accepts a full queue URL (any host, so that clients may
// address the server by another name) or a bare queue name.
func queueNameFromURL(u string) string {
	u = strings.TrimSuffix(u, "/")
	if i := strings.LastIndex(u, "/"); i >= 0 {
		return u[i+1:]
	}
	return u
}

// lookup must be called with s.mu held.
func (s *SQS) lookup(queueURL string) (*queue, *APIError) {
	if queueURL == "" {
		return nil, errMissingParameter("QueueUrl")
	}
	q, ok := s.queues[queueNameFromURL(queueURL)]
	if !ok {
		return nil, errQueueDoesNotExist()
	}
	q.expire(s.now())
	return q, nil
}

// checkRedrive makes sure a dead-letter target exists and matches the
// source queue's type. Called with s.mu held.
func (s *SQS) checkRedrive(cfg queueConfig) *APIError {
	if cfg.redrive == nil {
		return nil
	}
	arn := cfg.redrive.DeadLetterTargetArn
	dlq, ok := s.queues[arn[strings.LastIndex(arn, ":")+1:]]
	if !ok || dlq.arn != arn {
		return errInvalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target does not exist.", arn)
	}
	if dlq.cfg.fifo != cfg.fifo {
		return errInvalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source.", arn)
	}
	return nil
}

// CreateQueue creates a queue or returns the existing one when the given
// attributes agree with it. It returns the queue name.
func (s *SQS) createQueue(name string, attrs map[string]string) *APIError {
	if name == "" {
		return errMissingParameter("QueueName")
	}
	if !validQueueName(name) {
		return errInvalidParameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	cfg := defaultQueueConfig()
	if err := cfg.apply(attrs, true); err != nil {
		return err
	}
	isFifoName := strings.HasSuffix(name, ".fifo")
	if cfg.fifo != isFifoName {
		return errInvalidParameter("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.queues[name]; ok {
		want, have := cfg.settable(), q.cfg.settable()
		for k := range attrs {
			if want[k] != have[k] {
				return errQueueNameExists(name)
			}
		}
		return nil
	}
	if err := s.checkRedrive(cfg); err != nil {
		return err
	}
	s.queues[name] = newQueue(name, s.queueArn(name), cfg, s.now())
	return nil
}

// CreateQueue creates a queue from Go code, with the same rules as the
// API call. Attribute names and values are those of the SQS API.
func (s *SQS) CreateQueue(name string, attrs map[string]string) error {
	if err := s.createQueue(name, attrs); err != nil {
		return err
	}
	return nil
}

type sendInput struct {
	Body            string
	DelaySeconds    *int32
	Attributes      map[string]messageAttribute
	GroupID         string
	DeduplicationID string
}

type sendResult struct {
	MessageID      string
	MD5OfBody      string
	MD5OfAttrs     string
	SequenceNumber string
}

// send is called with s.mu held.
func (s *SQS) send(q *queue, in sendInput, hasBody bool) (sendResult, *APIError) {
	now := s.now()
	if !hasBody {
		return sendResult{}, errMissingParameter("MessageBody")
	}
	if in.Body == "" {
		return sendResult{}, errInvalidParameter("The request must contain a non-empty message body.")
	}
	if !validBody(in.Body) {
		return sendResult{}, &APIError{Shape: "InvalidMessageContents", Message: "Invalid characters found in the message body."}
	}
	size := len(in.Body)
	for name, a := range in.Attributes {
		if err := checkAttribute(name, a); err != nil {
			return sendResult{}, err
		}
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	if size > q.cfg.maxSize {
		return sendResult{}, errInvalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.cfg.maxSize)
	}
	delay := q.cfg.delay
	if in.DelaySeconds != nil {
		if q.cfg.fifo {
			return sendResult{}, errInvalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *in.DelaySeconds)
		}
		if *in.DelaySeconds < 0 || *in.DelaySeconds > 900 {
			return sendResult{}, errInvalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900.", *in.DelaySeconds)
		}
		delay = int(*in.DelaySeconds)
	}
	m := &message{id: newID(), body: in.Body, md5Body: md5Hex(in.Body), attrs: in.Attributes,
		md5Attrs: md5OfAttributes(in.Attributes), groupID: in.GroupID, sent: now,
		visibleAt: now.Add(time.Duration(delay) * time.Second)}
	if q.cfg.fifo {
		if in.GroupID == "" {
			return sendResult{}, errMissingParameter("MessageGroupId")
		}
		dedup := in.DeduplicationID
		if dedup == "" {
			if !q.cfg.contentDedup {
				return sendResult{}, errInvalidParameter("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			dedup = sha256Hex(in.Body)
		}
		if rec, ok := q.dedup[dedup]; ok && now.Before(rec.expires) {
			return sendResult{MessageID: rec.id, MD5OfBody: m.md5Body, MD5OfAttrs: m.md5Attrs, SequenceNumber: rec.seq}, nil
		}
		q.nextSeq++
		m.dedupID, m.seq = dedup, formatSeq(q.nextSeq)
		q.dedup[dedup] = dedupRecord{id: m.id, seq: m.seq, expires: now.Add(dedupWindow)}
	} else if in.DeduplicationID != "" {
		return sendResult{}, errInvalidParameter("The request include parameter MessageDeduplicationId that is not valid for this queue type")
	}
	q.msgs = append(q.msgs, m)
	q.signal()
	return sendResult{MessageID: m.id, MD5OfBody: m.md5Body, MD5OfAttrs: m.md5Attrs, SequenceNumber: m.seq}, nil
}

func checkAttribute(name string, a messageAttribute) *APIError {
	if name == "" || len(name) > 256 {
		return errInvalidParameter("Message attribute name %q is invalid.", name)
	}
	switch {
	case strings.HasPrefix(a.DataType, "String"), strings.HasPrefix(a.DataType, "Number"):
		if a.StringValue == "" {
			return errInvalidParameter("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, a.DataType)
		}
		if strings.HasPrefix(a.DataType, "Number") {
			if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
				return errInvalidParameter("Could not cast message attribute '%s' value to number.", name)
			}
		}
	case strings.HasPrefix(a.DataType, "Binary"):
		if len(a.BinaryValue) == 0 {
			return errInvalidParameter("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
		}
	default:
		return errInvalidParameter("The type of message (user) attribute '%s' is invalid.", name)
	}
	return nil
}

// Send puts a message on a queue from Go code (the S3 event producer).
func (s *SQS) Send(queueName, body, groupID, dedupID string) (messageID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, apiErr := s.lookup(queueName)
	if apiErr != nil {
		return "", apiErr
	}
	res, apiErr := s.send(q, sendInput{Body: body, GroupID: groupID, DeduplicationID: dedupID}, true)
	if apiErr != nil {
		return "", apiErr
	}
	return res.MessageID, nil
}

type receiveInput struct {
	QueueURL          string
	MaxMessages       *int32
	VisibilityTimeout *int32
	WaitTimeSeconds   *int32
	AttributeNames    []string
	MessageAttributes []string
}

type receivedMessage struct {
	MessageId              string                      `json:"MessageId"`
	ReceiptHandle          string                      `json:"ReceiptHandle"`
	MD5OfBody              string                      `json:"MD5OfBody"`
	Body                   string                      `json:"Body"`
	Attributes             map[string]string           `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                      `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]messageAttribute `json:"MessageAttributes,omitempty"`
}

// receive long-polls until a message is available, the wait time is up or
// ctx is done.
func (s *SQS) receive(ctx context.Context, in receiveInput) ([]receivedMessage, *APIError) {
	max := 1
	if in.MaxMessages != nil {
		if *in.MaxMessages < 1 || *in.MaxMessages > maxReceiveBatch {
			return nil, errInvalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", *in.MaxMessages)
		}
		max = int(*in.MaxMessages)
	}
	if in.VisibilityTimeout != nil && (*in.VisibilityTimeout < 0 || *in.VisibilityTimeout > maxVisibility) {
		return nil, errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", *in.VisibilityTimeout)
	}
	if in.WaitTimeSeconds != nil && (*in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > maxWaitSeconds) {
		return nil, errInvalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *in.WaitTimeSeconds)
	}

	s.mu.Lock()
	q, apiErr := s.lookup(in.QueueURL)
	if apiErr != nil {
		s.mu.Unlock()
		return nil, apiErr
	}
	wait := q.cfg.wait
	if in.WaitTimeSeconds != nil {
		wait = int(*in.WaitTimeSeconds)
	}
	deadline := s.now().Add(time.Duration(wait) * time.Second)
	for {
		now := s.now()
		out := s.take(q, now, max, in)
		if len(out) > 0 || !now.Before(deadline) {
			s.mu.Unlock()
			return out, nil
		}
		wake, until := q.wake, deadline
		if next := q.nextWake(now); !next.IsZero() && next.Before(until) {
			until = next
		}
		s.mu.Unlock()
		timer := time.NewTimer(until.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
		s.mu.Lock()
		if s.queues[q.name] != q { // deleted while we waited
			s.mu.Unlock()
			return nil, nil
		}
		q.expire(s.now())
	}
}

// take hands out up to max messages. In a FIFO queue a message group is
// skipped while any of its messages is in flight, and a group stops at its
// first message that cannot be delivered, so order within a group holds.
// Called with s.mu held.
func (s *SQS) take(q *queue, now time.Time, max int, in receiveInput) []receivedMessage {
	blocked := map[string]bool{}
	if q.cfg.fifo {
		for _, m := range q.msgs {
			if m.inFlight(now) {
				blocked[m.groupID] = true
			}
		}
	}
	visibility := q.cfg.visibility
	if in.VisibilityTimeout != nil {
		visibility = int(*in.VisibilityTimeout)
	}
	var out []receivedMessage
	for i := 0; i < len(q.msgs) && len(out) < max; i++ {
		m := q.msgs[i]
		if q.cfg.fifo && blocked[m.groupID] {
			continue
		}
		if m.visibleAt.After(now) {
			if q.cfg.fifo {
				blocked[m.groupID] = true
			}
			continue
		}
		if s.redrive(q, m, now) {
			q.remove(i)
			i--
			continue
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(time.Duration(visibility) * time.Second)
		m.handle = newReceiptHandle(q.name, m.id)
		out = append(out, s.render(q, m, in))
	}
	return out
}

// redrive moves m to the dead-letter queue when it has been received
// maxReceiveCount times already. Called with s.mu held.
func (s *SQS) redrive(q *queue, m *message, now time.Time) bool {
	rp := q.cfg.redrive
	if rp == nil || m.receiveCount < rp.MaxReceiveCount {
		return false
	}
	arn := rp.DeadLetterTargetArn
	dlq, ok := s.queues[arn[strings.LastIndex(arn, ":")+1:]]
	if !ok || dlq == q {
		return false
	}
	moved := *m
	moved.receiveCount, moved.firstReceive, moved.handle = 0, time.Time{}, ""
	moved.visibleAt = now
	moved.deadLetterOf = q.arn
	if dlq.cfg.fifo {
		dlq.nextSeq++
		moved.seq = formatSeq(dlq.nextSeq)
	}
	dlq.msgs = append(dlq.msgs, &moved)
	dlq.signal()
	s.log.Debug("message moved to dead-letter queue", "queue", q.name, "dlq", dlq.name, "msg_id", m.id)
	return true
}

func (s *SQS) render(q *queue, m *message, in receiveInput) receivedMessage {
	r := receivedMessage{MessageId: m.id, ReceiptHandle: m.handle, MD5OfBody: m.md5Body, Body: m.body}
	all := map[string]string{
		"SenderId":                         AccountID,
		"SentTimestamp":                    millis(m.sent),
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"ApproximateFirstReceiveTimestamp": millis(m.firstReceive),
	}
	if m.groupID != "" {
		all["MessageGroupId"] = m.groupID
	}
	if q.cfg.fifo {
		all["MessageDeduplicationId"] = m.dedupID
		all["SequenceNumber"] = m.seq
	}
	if m.deadLetterOf != "" {
		all["DeadLetterQueueSourceArn"] = m.deadLetterOf
	}
	for _, name := range in.AttributeNames {
		if name == "All" {
			r.Attributes = all
			break
		}
		if v, ok := all[name]; ok {
			if r.Attributes == nil {
				r.Attributes = map[string]string{}
			}
			r.Attributes[name] = v
		}
	}
	for name, a := range m.attrs {
		if attributeWanted(name, in.MessageAttributes) {
			if r.MessageAttributes == nil {
				r.MessageAttributes = map[string]messageAttribute{}
			}
			r.MessageAttributes[name] = a
		}
	}
	r.MD5OfMessageAttributes = md5OfAttributes(r.MessageAttributes)
	return r
}

func attributeWanted(name string, patterns []string) bool {
	for _, p := range patterns {
		switch {
		case p == "All" || p == ".*":
			return true
		case strings.HasSuffix(p, ".*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*")):
			return true
		case p == name:
			return true
		}
	}
	return false
}

// resolveHandle finds the message a receipt handle refers to. It returns
// a nil message (and no error) when the message is gone. stale reports a
// handle from an earlier receive. Called with s.mu held.
func (s *SQS) resolveHandle(q *queue, handle string) (m *message, idx int, stale bool, apiErr *APIError) {
	if handle == "" {
		return nil, -1, false, errMissingParameter("ReceiptHandle")
	}
	qname, id, ok := parseReceiptHandle(handle)
	if !ok || qname != q.name {
		return nil, -1, false, errInvalidReceiptHandle(fmt.Sprintf("The input receipt handle \"%s\" is not a valid receipt handle.", handle))
	}
	idx, m = q.find(id)
	if m == nil {
		return nil, -1, false, nil
	}
	return m, idx, m.handle != handle, nil
}

// deleteMessage is called with s.mu held. Deleting a message that is gone
// succeeds, as in AWS. A FIFO queue rejects a handle whose lease is over
// (expired or superseded by a later receive); a standard queue accepts it.
func (s *SQS) deleteMessage(q *queue, handle string) *APIError {
	m, idx, stale, apiErr := s.resolveHandle(q, handle)
	if apiErr != nil || m == nil {
		return apiErr
	}
	if q.cfg.fifo && (stale || !m.inFlight(s.now())) {
		return errInvalidReceiptHandle("The receipt handle has expired.")
	}
	q.remove(idx)
	q.signal() // may release the rest of a FIFO group
	return nil
}

// changeVisibility is called with s.mu held.
func (s *SQS) changeVisibility(q *queue, handle string, timeout *int32) *APIError {
	if timeout == nil {
		return errMissingParameter("VisibilityTimeout")
	}
	if *timeout < 0 || *timeout > maxVisibility {
		return errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", *timeout)
	}
	m, _, stale, apiErr := s.resolveHandle(q, handle)
	if apiErr != nil {
		return apiErr
	}
	if m == nil {
		return errInvalidParameter("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", handle)
	}
	if q.cfg.fifo && stale {
		return errInvalidReceiptHandle("The receipt handle has expired.")
	}
	now := s.now()
	if !m.inFlight(now) {
		return errMessageNotInflight()
	}
	m.visibleAt = now.Add(time.Duration(*timeout) * time.Second)
	q.signal()
	return nil
}

var readOnlyAttributes = []string{
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
}

func (s *SQS) attributes(q *queue, names []string) (map[string]string, *APIError) {
	now := s.now()
	all := q.cfg.settable()
	visible, inFlight, delayed := q.counts(now)
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(inFlight)
	all["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(delayed)
	all["CreatedTimestamp"] = strconv.FormatInt(q.created.Unix(), 10)
	all["LastModifiedTimestamp"] = strconv.FormatInt(q.modified.Unix(), 10)
	all["QueueArn"] = q.arn
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			return all, nil
		}
		v, ok := all[n]
		if !ok {
			known := passiveAttributes[n] || n == "FifoQueue" || n == "ContentBasedDeduplication" || n == "RedrivePolicy"
			if !known {
				return nil, errInvalidAttributeName(n)
			}
			continue
		}
		out[n] = v
	}
	return out, nil
}

func (s *SQS) listQueues(base, prefix string, max int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var urls []string
	for name := range s.queues {
		if strings.HasPrefix(name, prefix) {
			urls = append(urls, s.QueueURL(base, name))
		}
	}
	sort.Strings(urls)
	if max > 0 && len(urls) > max {
		urls = urls[:max]
	}
	return urls
}

// asAPIError turns an error from a fault hook into the error to send.
func asAPIError(err error) *APIError {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return errInternal(err)
}

var _ http.Handler = (*SQS)(nil)
