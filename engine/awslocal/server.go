// Package awslocal runs an AWS look-alike on one loopback port: an SQS that
// speaks the AWS JSON 1.0 protocol and an S3 (gofakes3) whose uploads into
// the watched bucket become EventBridge "Object Created" events on the inbox
// queue, the way the production wiring delivers them.
package awslocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Options configures Start. Zero values take the defaults noted.
type Options struct {
	Addr          string // default "127.0.0.1:0"
	DataDir       string // "" keeps objects in memory only
	Region        string // default "us-east-1"
	Bucket        string // created at start when set
	InboxQueue    string // FIFO queue (".fifo") receiving the object events; "" = no events
	OutboxQueue   string // FIFO queue created at start when set
	ExcludePrefix string // keys under it emit no event; default "processed/", "-" for none
	EventGroupID  string // MessageGroupId of the events; default "s3-object-created"
	Logger        hclog.Logger

	// InboxDLQ is the inbox's dead-letter queue; default the inbox name
	// with "-dlq" before ".fifo".
	InboxDLQ string
	// InboxMaxReceiveCount is the redrive threshold; default 5.
	InboxMaxReceiveCount int
	// InboxVisibilityTimeout is in seconds; default 30.
	InboxVisibilityTimeout int
	// SQSFault, when set, may fail any SQS call (see FaultFunc).
	SQSFault FaultFunc
	// Faults, when set, injects errors, resets and latency into S3 and SQS
	// requests by rule.
	Faults *Faults
}

const (
	defaultExcludePrefix = "processed/"
	defaultEventGroupID  = "s3-object-created"
)

func (o *Options) setDefaults() {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	switch o.ExcludePrefix {
	case "":
		o.ExcludePrefix = defaultExcludePrefix
	case "-":
		o.ExcludePrefix = ""
	}
	if o.EventGroupID == "" {
		o.EventGroupID = defaultEventGroupID
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.InboxDLQ == "" && o.InboxQueue != "" {
		o.InboxDLQ = strings.TrimSuffix(o.InboxQueue, ".fifo") + "-dlq.fifo"
	}
	if o.InboxMaxReceiveCount == 0 {
		o.InboxMaxReceiveCount = 5
	}
	if o.InboxVisibilityTimeout == 0 {
		o.InboxVisibilityTimeout = 30
	}
}

// Server is a running local S3 + SQS endpoint.
type Server struct {
	url  string
	sqs  *SQS
	http *http.Server
	done chan struct{}
	log  hclog.Logger
}

// Start listens on opts.Addr, restores DataDir if given, creates the
// bucket and queues and serves until Close. ctx bounds the start only.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts.setDefaults()
	log := opts.Logger.Named("awslocal")
	for _, q := range []string{opts.InboxQueue, opts.OutboxQueue} {
		if q != "" && !strings.HasSuffix(q, ".fifo") {
			return nil, fmt.Errorf("awslocal: queue %q: local queues are FIFO and need the .fifo suffix", q)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("awslocal: listen on %s: %w", opts.Addr, err)
	}
	baseURL := "http://" + ln.Addr().String()
	sqs := NewSQS(SQSOptions{Region: opts.Region, BaseURL: baseURL, Fault: opts.SQSFault, Logger: log.Named("sqs")})

	var store *dirStore
	if opts.DataDir != "" {
		if store, err = newDirStore(opts.DataDir); err != nil {
			ln.Close()
			return nil, fmt.Errorf("awslocal: %w", err)
		}
	}
	mem := s3mem.New()
	if err := store.load(mem); err != nil {
		ln.Close()
		return nil, fmt.Errorf("awslocal: restore %s: %w", opts.DataDir, err)
	}
	backend := &eventBackend{Backend: mem, store: store, log: log.Named("s3"), bucket: opts.Bucket,
		excludePrefix: opts.ExcludePrefix, region: opts.Region, inbox: opts.InboxQueue, groupID: opts.EventGroupID}
	if opts.InboxQueue != "" {
		backend.sink = sqs
	}
	if err := setupResources(sqs, backend, opts); err != nil {
		ln.Close()
		return nil, fmt.Errorf("awslocal: %w", err)
	}

	s3 := gofakes3.New(backend, gofakes3.WithLogger(hclogS3{log.Named("s3")}), gofakes3.WithAutoBucket(false))
	s3Handler := s3.Server()
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsSQSRequest(r) {
			sqs.ServeHTTP(w, r)
			return
		}
		if isAWSChunked(r) {
			if err := decodeAWSChunked(r); err != nil {
				log.Debug("bad aws-chunked body", "path", r.URL.Path, "error", err)
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			log.Trace("decoded aws-chunked body", "path", r.URL.Path, "bytes", r.ContentLength)
		}
		keepStandardHeaders(r)
		s3Handler.ServeHTTP(w, r)
	})
	var handler http.Handler = mux
	if opts.Faults != nil {
		handler = opts.Faults.wrap(mux)
	}
	s := &Server{url: baseURL, sqs: sqs, log: log, done: make(chan struct{}),
		http: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve stopped", "error", err)
		}
	}()
	log.Info("listening", "url", baseURL, "bucket", opts.Bucket, "inbox", opts.InboxQueue,
		"outbox", opts.OutboxQueue, "data_dir", opts.DataDir)
	return s, nil
}

func setupResources(sqs *SQS, backend *eventBackend, opts Options) error {
	if opts.Bucket != "" {
		exists, err := backend.BucketExists(opts.Bucket)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", opts.Bucket, err)
		}
		if !exists {
			if err := backend.CreateBucket(opts.Bucket); err != nil {
				return fmt.Errorf("create bucket %s: %w", opts.Bucket, err)
			}
		}
	}
	fifo := map[string]string{"FifoQueue": "true"}
	if opts.InboxQueue != "" {
		if err := sqs.CreateQueue(opts.InboxDLQ, fifo); err != nil {
			return fmt.Errorf("create queue %s: %w", opts.InboxDLQ, err)
		}
		redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`,
			sqs.queueArn(opts.InboxDLQ), opts.InboxMaxReceiveCount)
		err := sqs.CreateQueue(opts.InboxQueue, map[string]string{"FifoQueue": "true",
			"VisibilityTimeout": strconv.Itoa(opts.InboxVisibilityTimeout), "RedrivePolicy": redrive})
		if err != nil {
			return fmt.Errorf("create queue %s: %w", opts.InboxQueue, err)
		}
	}
	if opts.OutboxQueue != "" {
		if err := sqs.CreateQueue(opts.OutboxQueue, fifo); err != nil {
			return fmt.Errorf("create queue %s: %w", opts.OutboxQueue, err)
		}
	}
	return nil
}

// URL is the endpoint for both services, e.g. "http://127.0.0.1:43121".
func (s *Server) URL() string { return s.url }

// QueueURL is the URL of the named queue on this server.
func (s *Server) QueueURL(name string) string { return s.sqs.QueueURL(s.url, name) }

// SQS gives direct access to the queue service, e.g. to create queues.
func (s *Server) SQS() *SQS { return s.sqs }

// Close stops serving at once; pending long polls end empty.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.done
	return err
}

// hclogS3 routes gofakes3's log lines into hclog, one level down: gofakes3
// logs every request at INFO.
type hclogS3 struct{ log hclog.Logger }

func (l hclogS3) Print(level gofakes3.LogLevel, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintln(v...))
	switch level {
	case gofakes3.LogErr:
		l.log.Error(msg)
	case gofakes3.LogWarn:
		l.log.Warn(msg)
	case gofakes3.LogInfo:
		l.log.Debug(msg)
	default:
		l.log.Trace(msg)
	}
}
