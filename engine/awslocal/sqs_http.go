package awslocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const (
	sqsTargetPrefix = "AmazonSQS."
	jsonContentType = "application/x-amz-json-1.0"
	maxRequestBody  = 16 << 20
)

// IsSQSRequest reports whether r is an SQS JSON-protocol call.
func IsSQSRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), sqsTargetPrefix)
}

// ServeHTTP answers one AWS JSON 1.0 SQS call.
func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), sqsTargetPrefix)
	requestID := newID()
	w.Header().Set("x-amzn-RequestId", requestID)
	if r.Method != http.MethodPost {
		s.writeError(w, op, &APIError{Shape: "UnsupportedOperation", QueryCode: "AWS.SimpleQueueService.UnsupportedOperation",
			Status: http.StatusMethodNotAllowed, Message: "SQS calls are POST requests."})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		s.writeError(w, op, errInternal(err))
		return
	}
	if s.fault != nil {
		if err := s.fault(op); err != nil {
			s.writeError(w, op, asAPIError(err))
			return
		}
	}
	base := s.baseURL
	if base == "" {
		base = "http://" + r.Host
	}
	start := time.Now()
	out, apiErr := s.dispatch(r, op, base, body)
	if apiErr != nil {
		s.writeError(w, op, apiErr)
		return
	}
	s.log.Trace("sqs call", "op", op, "duration", time.Since(start))
	w.Header().Set("Content-Type", jsonContentType)
	if out == nil {
		out = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *SQS) writeError(w http.ResponseWriter, op string, e *APIError) {
	if e.status() >= 500 {
		s.log.Warn("sqs call failed", "op", op, "error", e)
	} else {
		s.log.Debug("sqs call rejected", "op", op, "error", e)
	}
	fault := "Sender"
	if e.status() >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("x-amzn-query-error", e.queryCode()+";"+fault)
	w.WriteHeader(e.status())
	_ = json.NewEncoder(w).Encode(map[string]string{
		"__type":  "com.amazonaws.sqs#" + e.Shape,
		"message": e.Message,
	})
}

// decode reads the request into v. Unknown members are ignored, as AWS does.
func decode(body []byte, v any) *APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &APIError{Shape: "SerializationException", Message: fmt.Sprintf("cannot read request: %v", err)}
	}
	return nil
}

type queueURLInput struct {
	QueueUrl string `json:"QueueUrl"`
}

type sendMessageInput struct {
	QueueUrl               string                      `json:"QueueUrl"`
	MessageBody            *string                     `json:"MessageBody"`
	DelaySeconds           *int32                      `json:"DelaySeconds"`
	MessageAttributes      map[string]messageAttribute `json:"MessageAttributes"`
	MessageDeduplicationId string                      `json:"MessageDeduplicationId"`
	MessageGroupId         string                      `json:"MessageGroupId"`
}

type batchEntry struct {
	Id                     string                      `json:"Id"`
	MessageBody            *string                     `json:"MessageBody"`
	DelaySeconds           *int32                      `json:"DelaySeconds"`
	MessageAttributes      map[string]messageAttribute `json:"MessageAttributes"`
	MessageDeduplicationId string                      `json:"MessageDeduplicationId"`
	MessageGroupId         string                      `json:"MessageGroupId"`
	ReceiptHandle          string                      `json:"ReceiptHandle"`
	VisibilityTimeout      *int32                      `json:"VisibilityTimeout"`
}

type batchInput struct {
	QueueUrl string       `json:"QueueUrl"`
	Entries  []batchEntry `json:"Entries"`
}

type batchFailure struct {
	Id          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

type batchOutput struct {
	Successful []any          `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

type sendOutput struct {
	Id                     string `json:"Id,omitempty"`
	MessageId              string `json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
	SequenceNumber         string `json:"SequenceNumber,omitempty"`
}

func (s *SQS) dispatch(r *http.Request, op, base string, body []byte) (any, *APIError) {
	switch op {
	case "CreateQueue":
		var in struct {
			QueueName  string            `json:"QueueName"`
			Attributes map[string]string `json:"Attributes"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		if err := s.createQueue(in.QueueName, in.Attributes); err != nil {
			return nil, err
		}
		return map[string]string{"QueueUrl": s.QueueURL(base, in.QueueName)}, nil

	case "GetQueueUrl":
		var in struct {
			QueueName string `json:"QueueName"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		if in.QueueName == "" {
			return nil, errMissingParameter("QueueName")
		}
		s.mu.Lock()
		_, ok := s.queues[in.QueueName]
		s.mu.Unlock()
		if !ok {
			return nil, errQueueDoesNotExist()
		}
		return map[string]string{"QueueUrl": s.QueueURL(base, in.QueueName)}, nil

	case "ListQueues":
		var in struct {
			QueueNamePrefix string `json:"QueueNamePrefix"`
			MaxResults      int    `json:"MaxResults"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		urls := s.listQueues(base, in.QueueNamePrefix, in.MaxResults)
		if len(urls) == 0 {
			return struct{}{}, nil
		}
		return map[string][]string{"QueueUrls": urls}, nil

	case "GetQueueAttributes":
		var in struct {
			QueueUrl       string   `json:"QueueUrl"`
			AttributeNames []string `json:"AttributeNames"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		q, err := s.lookup(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		attrs, err := s.attributes(q, in.AttributeNames)
		if err != nil {
			return nil, err
		}
		if len(attrs) == 0 {
			return struct{}{}, nil
		}
		return map[string]map[string]string{"Attributes": attrs}, nil

	case "SetQueueAttributes":
		var in struct {
			QueueUrl   string            `json:"QueueUrl"`
			Attributes map[string]string `json:"Attributes"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		q, err := s.lookup(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		cfg := q.cfg
		cfg.extra = map[string]string{}
		for k, v := range q.cfg.extra {
			cfg.extra[k] = v
		}
		if err := cfg.apply(in.Attributes, false); err != nil {
			return nil, err
		}
		if err := s.checkRedrive(cfg); err != nil {
			return nil, err
		}
		q.cfg, q.modified = cfg, s.now()
		q.signal()
		return nil, nil

	case "SendMessage":
		var in sendMessageInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		q, err := s.lookup(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		res, err := s.send(q, sendInput{Body: deref(in.MessageBody), DelaySeconds: in.DelaySeconds,
			Attributes: in.MessageAttributes, GroupID: in.MessageGroupId, DeduplicationID: in.MessageDeduplicationId},
			in.MessageBody != nil)
		if err != nil {
			return nil, err
		}
		return sendOutput{MessageId: res.MessageID, MD5OfMessageBody: res.MD5OfBody,
			MD5OfMessageAttributes: res.MD5OfAttrs, SequenceNumber: res.SequenceNumber}, nil

	case "SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		var in batchInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return s.batch(op, in)

	case "ReceiveMessage":
		var in struct {
			QueueUrl                    string   `json:"QueueUrl"`
			AttributeNames              []string `json:"AttributeNames"`
			MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
			MessageAttributeNames       []string `json:"MessageAttributeNames"`
			MaxNumberOfMessages         *int32   `json:"MaxNumberOfMessages"`
			VisibilityTimeout           *int32   `json:"VisibilityTimeout"`
			WaitTimeSeconds             *int32   `json:"WaitTimeSeconds"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		msgs, err := s.receive(r.Context(), receiveInput{QueueURL: in.QueueUrl, MaxMessages: in.MaxNumberOfMessages,
			VisibilityTimeout: in.VisibilityTimeout, WaitTimeSeconds: in.WaitTimeSeconds,
			AttributeNames:    append(in.AttributeNames, in.MessageSystemAttributeNames...),
			MessageAttributes: in.MessageAttributeNames})
		if err != nil {
			return nil, err
		}
		if len(msgs) == 0 {
			return struct{}{}, nil
		}
		return map[string][]receivedMessage{"Messages": msgs}, nil

	case "DeleteMessage", "ChangeMessageVisibility":
		var in struct {
			QueueUrl          string `json:"QueueUrl"`
			ReceiptHandle     string `json:"ReceiptHandle"`
			VisibilityTimeout *int32 `json:"VisibilityTimeout"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		q, err := s.lookup(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		if op == "DeleteMessage" {
			return nil, s.deleteMessage(q, in.ReceiptHandle)
		}
		return nil, s.changeVisibility(q, in.ReceiptHandle, in.VisibilityTimeout)

	case "PurgeQueue", "DeleteQueue":
		var in queueURLInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		q, err := s.lookup(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		if op == "PurgeQueue" {
			clear(q.msgs)
			q.msgs = q.msgs[:0]
		} else {
			delete(s.queues, q.name)
		}
		q.signal()
		return nil, nil
	}
	return nil, errUnknownOperation(op)
}

// batch runs the three batch calls: the whole request is checked first
// (entry count, distinct and well-formed ids), then each entry on its own.
func (s *SQS) batch(op string, in batchInput) (any, *APIError) {
	if len(in.Entries) == 0 {
		return nil, errBatch("EmptyBatchRequest", "There should be at least one entry in the request.")
	}
	if len(in.Entries) > maxBatchEntries {
		return nil, errBatch("TooManyEntriesInBatchRequest", fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, len(in.Entries)))
	}
	seen := map[string]bool{}
	for _, e := range in.Entries {
		if !validBatchID(e.Id) {
			return nil, errBatch("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[e.Id] {
			return nil, errBatch("BatchEntryIdsNotDistinct", fmt.Sprintf("Id %s repeated.", e.Id))
		}
		seen[e.Id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, apiErr := s.lookup(in.QueueUrl)
	if apiErr != nil {
		return nil, apiErr
	}
	if op == "SendMessageBatch" {
		total := 0
		for _, e := range in.Entries {
			total += len(deref(e.MessageBody))
		}
		if total > q.cfg.maxSize {
			return nil, errBatch("BatchRequestTooLong", "Batch requests cannot be longer than the maximum message size.")
		}
	}
	out := batchOutput{Successful: []any{}, Failed: []batchFailure{}}
	for _, e := range in.Entries {
		var err *APIError
		switch op {
		case "SendMessageBatch":
			var res sendResult
			res, err = s.send(q, sendInput{Body: deref(e.MessageBody), DelaySeconds: e.DelaySeconds,
				Attributes: e.MessageAttributes, GroupID: e.MessageGroupId, DeduplicationID: e.MessageDeduplicationId},
				e.MessageBody != nil)
			if err == nil {
				out.Successful = append(out.Successful, sendOutput{Id: e.Id, MessageId: res.MessageID,
					MD5OfMessageBody: res.MD5OfBody, MD5OfMessageAttributes: res.MD5OfAttrs, SequenceNumber: res.SequenceNumber})
			}
		case "DeleteMessageBatch":
			err = s.deleteMessage(q, e.ReceiptHandle)
		case "ChangeMessageVisibilityBatch":
			err = s.changeVisibility(q, e.ReceiptHandle, e.VisibilityTimeout)
		}
		if err != nil {
			out.Failed = append(out.Failed, batchFailure{Id: e.Id, SenderFault: err.status() < 500, Code: err.queryCode(), Message: err.Message})
		} else if op != "SendMessageBatch" {
			out.Successful = append(out.Successful, map[string]string{"Id": e.Id})
		}
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
