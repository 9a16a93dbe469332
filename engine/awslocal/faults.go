package awslocal

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// FaultKind is a way a request can go wrong.
type FaultKind string

const (
	// FaultInternal answers 500 InternalError (S3) / InternalFailure (SQS).
	FaultInternal FaultKind = "internal"
	// FaultUnavailable answers 503: SlowDown for S3, ServiceUnavailable for SQS.
	FaultUnavailable FaultKind = "unavailable"
	// FaultThrottle answers a throttling error: S3 503 SlowDown, SQS 400
	// ThrottlingException.
	FaultThrottle FaultKind = "throttle"
	// FaultReset closes the connection before answering, with a TCP reset.
	FaultReset FaultKind = "reset"
	// FaultResetAfter serves the request, then resets the connection
	// instead of answering: the effect happened, the client cannot know.
	FaultResetAfter FaultKind = "reset-after"
	// FaultLatency delays the request by FaultRule.Latency, then serves it.
	FaultLatency FaultKind = "latency"
)

// FaultRule injects one kind of fault into a share of the requests of one
// operation.
type FaultRule struct {
	Service string    // "s3" or "sqs"
	Op      string    // e.g. "PutObject", "ReceiveMessage"; "" for every operation
	Rate    float64   // share of matching requests affected, 0..1
	Kind    FaultKind // what happens to them
	Latency time.Duration
}

// Faults decides, request by request, whether to inject a fault. It is safe
// for concurrent use; a seed makes a run repeatable as far as request order
// allows.
type Faults struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rules  []FaultRule
	counts map[string]int
	off    bool
}

// NewFaults returns a fault injector with the given rules.
func NewFaults(seed uint64, rules ...FaultRule) *Faults {
	return &Faults{rng: rand.New(rand.NewPCG(seed, seed+1)), rules: rules, counts: map[string]int{}}
}

// SetEnabled turns injection on or off (for example to set a test up, or
// to let it drain). A new Faults is enabled.
func (f *Faults) SetEnabled(on bool) {
	f.mu.Lock()
	f.off = !on
	f.mu.Unlock()
}

// Counts returns how many faults were injected, keyed "service/op/kind".
func (f *Faults) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

// pick returns the rule that fires for this request, if any.
func (f *Faults) pick(service, op string) (FaultRule, bool) {
	if f == nil {
		return FaultRule{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off {
		return FaultRule{}, false
	}
	for _, r := range f.rules {
		if r.Service != service || (r.Op != "" && r.Op != op) {
			continue
		}
		if f.rng.Float64() < r.Rate {
			f.counts[service+"/"+op+"/"+string(r.Kind)]++
			return r, true
		}
	}
	return FaultRule{}, false
}

// wrap puts fault injection in front of the combined S3 and SQS handler.
func (f *Faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		service, op := "s3", s3Operation(r)
		if IsSQSRequest(r) {
			service, op = "sqs", strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
		}
		rule, ok := f.pick(service, op)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		switch rule.Kind {
		case FaultLatency:
			select {
			case <-time.After(rule.Latency):
			case <-r.Context().Done():
				return
			}
			next.ServeHTTP(w, r)
		case FaultReset:
			reset(w)
		case FaultResetAfter:
			// Serve into a recorder so the effect happens, then drop the answer.
			next.ServeHTTP(httptest.NewRecorder(), r)
			reset(w)
		default:
			writeFault(w, service, rule.Kind)
		}
	})
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "connection reset", http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

func writeFault(w http.ResponseWriter, service string, kind FaultKind) {
	if service == "sqs" {
		shape, status := "InternalFailure", http.StatusInternalServerError
		switch kind {
		case FaultUnavailable:
			shape, status = "ServiceUnavailable", http.StatusServiceUnavailable
		case FaultThrottle:
			shape, status = "ThrottlingException", http.StatusBadRequest
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-query-error", shape+";Receiver")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"injected fault"}`, shape)
		return
	}
	code, status := "InternalError", http.StatusInternalServerError
	if kind == FaultUnavailable || kind == FaultThrottle {
		code, status = "SlowDown", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected fault</Message></Error>`, code)
}

// s3Operation names the S3 API operation of a request, as far as faults
// need to tell them apart.
func s3Operation(r *http.Request) string {
	path := strings.Trim(r.URL.Path, "/")
	object := strings.Contains(path, "/")
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		if object {
			return "GetObject"
		}
		if path == "" {
			return "ListBuckets"
		}
		return "ListObjects"
	case http.MethodHead:
		if object {
			return "HeadObject"
		}
		return "HeadBucket"
	case http.MethodPut:
		switch {
		case !object:
			return "CreateBucket"
		case q.Has("partNumber"):
			return "UploadPart"
		case r.Header.Get("x-amz-copy-source") != "":
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			return "CreateMultipartUpload"
		case q.Has("uploadId"):
			return "CompleteMultipartUpload"
		case q.Has("delete"):
			return "DeleteObjects"
		}
		return "PostObject"
	case http.MethodDelete:
		if object {
			return "DeleteObject"
		}
		return "DeleteBucket"
	}
	return r.Method
}
