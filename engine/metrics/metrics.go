// Package metrics measures the daemon for Prometheus and serves /metrics,
// /healthz and /readyz.
//
// Every Metrics has a registry of its own, so several daemons in one
// process (tests, local mode) never collide on metric names.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/seed62486500/resizer/engine/message"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/pipeline"
	"github.com/seed62486500/resizer/engine/queue"
)

// Outcomes of a job, as the outcome label of resizer_jobs_total says them.
// Besides the outbox statuses (processed, failed, skipped):
const (
	// OutcomeRetry is a transient failure: the message comes back later.
	OutcomeRetry = "retry"
	// OutcomeIgnored is an event that is no work: a test event, a removal,
	// a key under the output prefix.
	OutcomeIgnored = "ignored"
)

// Stages of the stage latency histogram (its stage label).
const (
	StageReceiveWait = "receive_wait" // sent to the inbox until received
	StageDownload    = "download"
	StageDecode      = "decode"
	StageTransform   = "transform" // every plugin step of every output
	StageEncode      = "encode"
	StageUpload      = "upload"
	StageTotal       = "total" // download to the outbox record
)

// ShapeMalformed labels inbox messages whose body is not any known shape.
const ShapeMalformed = "malformed"

// Metrics holds the daemon's collectors.
type Metrics struct {
	reg      *prometheus.Registry
	jobs     *prometheus.CounterVec
	stages   *prometheus.HistogramVec
	steps    *prometheus.HistogramVec
	bytesIn  prometheus.Counter
	bytesOut prometheus.Counter
	inFlight prometheus.Gauge
	messages *prometheus.CounterVec
}

// latencyBuckets span a millisecond to a quarter of an hour, so one set
// fits a decode and a message that waited in the inbox alike.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2.5, 16)

// New returns the daemon's metrics in a fresh registry, with the Go runtime
// and process collectors beside them.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resizer_jobs_total",
			Help: "Inbox events handled, by outcome (processed, failed, skipped, retry, ignored) and error code.",
		}, []string{"outcome", "code"}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resizer_stage_duration_seconds",
			Help:    "Time spent per job in each stage: receive_wait, download, decode, transform, encode, upload, total.",
			Buckets: latencyBuckets,
		}, []string{"stage"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resizer_step_duration_seconds",
			Help:    "Time spent per job in each plugin operation, summed over the job's outputs.",
			Buckets: latencyBuckets,
		}, []string{"operation"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "resizer_source_bytes_total",
			Help: "Bytes of the source objects processed.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "resizer_output_bytes_total",
			Help: "Bytes of the outputs uploaded.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "resizer_jobs_in_flight",
			Help: "Inbox messages being handled now.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resizer_inbox_messages_total",
			Help: "Inbox messages received, by body shape (s3, sns/s3, eventbridge, json, key, ..., malformed).",
		}, []string{"shape"}),
	}
	m.reg.MustRegister(m.jobs, m.stages, m.steps, m.bytesIn, m.bytesOut, m.inFlight, m.messages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Gatherer is what /metrics serves.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// PixelsInFlight publishes the decoded pixels held by jobs, as inUse
// reports them (the pixel budget).
func (m *Metrics) PixelsInFlight(inUse func() int64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "resizer_pixels_in_flight",
		Help: "Decoded pixels held by jobs now (bounded by pixel_budget).",
	}, func() float64 { return float64(inUse()) }))
}

// PluginRestarts publishes how often each named plugin was restarted, as
// restarts reports it (the plugin host).
func (m *Metrics) PluginRestarts(names []string, restarts func(name string) int64) {
	for _, name := range names {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "resizer_plugin_restarts_total",
			Help:        "Restarts of a plugin process after a crash or a hang.",
			ConstLabels: prometheus.Labels{"plugin": name},
		}, func() float64 { return float64(restarts(name)) }))
	}
}

// RecipeReloads publishes the recipe reloads since start, swapped in and
// refused (a broken set kept out), as reloads reports them (the daemon).
func (m *Metrics) RecipeReloads(reloads func() (ok, refused int64)) {
	for _, r := range []struct {
		result string
		pick   func() int64
	}{
		{"ok", func() int64 { ok, _ := reloads(); return ok }},
		{"refused", func() int64 { _, refused := reloads(); return refused }},
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "resizer_recipe_reloads_total",
			Help:        "Recipe reloads: ok (the new set is in use) or refused (it had problems; the previous set stays).",
			ConstLabels: prometheus.Labels{"result": r.result},
		}, func() float64 { return float64(r.pick()) }))
	}
}

// Observe records what became of one inbox event; it is the pipeline's
// Options.Observe.
func (m *Metrics) Observe(o pipeline.Outcome) {
	outcome, code := OutcomeIgnored, ""
	switch {
	case o.Err != nil:
		outcome = OutcomeRetry
	case o.Record != nil:
		outcome = o.Record.Status
		if o.Record.Error != nil {
			code = o.Record.Error.Code
		}
	}
	m.jobs.WithLabelValues(outcome, code).Inc()
	for op, d := range o.Steps {
		m.steps.WithLabelValues(op).Observe(d.Seconds())
	}
	if o.Record == nil {
		return
	}
	t := o.Record.Timings
	for _, s := range []struct {
		stage string
		ms    float64
	}{
		{StageDownload, t.Download}, {StageDecode, t.Decode}, {StageTransform, t.Transform},
		{StageEncode, t.Encode}, {StageUpload, t.Upload},
	} {
		if s.ms > 0 {
			m.stages.WithLabelValues(s.stage).Observe(s.ms / 1000)
		}
	}
	if o.Record.Status != outbox.StatusProcessed {
		return
	}
	m.stages.WithLabelValues(StageTotal).Observe(t.Total / 1000)
	m.bytesIn.Add(float64(o.Record.Source.Bytes))
	var out int64
	for _, w := range o.Record.Outputs {
		out += w.Bytes
	}
	m.bytesOut.Add(float64(out))
}

// Handler wraps the inbox handler h: it counts messages by shape (bodies
// naming only a key take defaultBucket), measures how long each waited in
// the inbox, and keeps the in-flight gauge.
func (m *Metrics) Handler(h queue.Handler, defaultBucket string) queue.Handler {
	return queue.HandlerFunc(func(ctx context.Context, msg queue.Message) queue.Action {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		shape := ShapeMalformed
		if body, err := message.Decode(msg.Body, defaultBucket); err == nil {
			shape = string(body.Shape)
		}
		m.messages.WithLabelValues(shape).Inc()
		if !msg.SentAt.IsZero() {
			m.stages.WithLabelValues(StageReceiveWait).Observe(max(time.Since(msg.SentAt), 0).Seconds())
		}
		return h.Handle(ctx, msg)
	})
}
