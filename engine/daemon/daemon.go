// Package daemon assembles the resizer service from its configuration: AWS
// clients, recipes, storage, outbox, pipeline and the inbox consumer.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/budget"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/metrics"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/pipeline"
	"github.com/seed62486500/resizer/engine/pluginhost"
	"github.com/seed62486500/resizer/engine/queue"
	"github.com/seed62486500/resizer/engine/recipe"
	"github.com/seed62486500/resizer/engine/storage"
	"github.com/seed62486500/resizer/plugins/bundle"
	"github.com/seed62486500/resizer/plugins/sdk"
)

// Clients holds the AWS service clients built from a configuration.
type Clients struct {
	S3  *s3.Client
	SQS *sqs.Client
}

// NewClients builds S3 and SQS clients: credentials from the default chain
// (or opts, for tests and local mode), endpoints overridden when configured.
// The SDK logs through hclog's default logger unless opts pass SDKLogger.
func NewClients(ctx context.Context, cfg config.Config, opts ...func(*awsconfig.LoadOptions) error) (Clients, error) {
	opts = append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region),
		SDKLogger(hclog.Default())}, opts...)
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Clients{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	s3Endpoint := firstNonEmpty(cfg.S3Endpoint, cfg.Endpoint)
	sqsEndpoint := firstNonEmpty(cfg.SQSEndpoint, cfg.Endpoint)
	return Clients{
		S3: s3.NewFromConfig(ac, func(o *s3.Options) {
			if s3Endpoint != "" {
				o.BaseEndpoint = aws.String(s3Endpoint)
				// S3-compatible services rarely serve virtual-hosted buckets.
				o.UsePathStyle = true
			}
		}),
		SQS: sqs.NewFromConfig(ac, func(o *sqs.Options) {
			if sqsEndpoint != "" {
				o.BaseEndpoint = aws.String(sqsEndpoint)
			}
		}),
	}, nil
}

// PluginOptions gathers the daemon's plugins: the bundled ones (resize in
// process, the others served by this binary in processes of their own) and
// those of the configuration.
func PluginOptions(cfg config.Config, log hclog.Logger) (pluginhost.Options, error) {
	builtin := map[string]sdk.Transformer{}
	var selfServed []string
	for _, name := range bundle.Names() {
		if bundle.InProcess(name) {
			builtin[name], _ = bundle.New(name)
		} else {
			selfServed = append(selfServed, name)
		}
	}
	external, err := pluginhost.SelfServed(selfServed...)
	if err != nil {
		return pluginhost.Options{}, err
	}
	for _, p := range cfg.Plugins {
		external = append(external, pluginhost.External{Name: p.Name, Path: p.Path, SHA256: p.SHA256, Args: p.Args})
	}
	return pluginhost.Options{
		Dir:          cfg.PluginsDir,
		External:     external,
		Builtin:      builtin,
		StartTimeout: time.Duration(cfg.PluginStartTimeout),
		CallTimeout:  time.Duration(cfg.PluginCallTimeout),
		Logger:       log.Named("plugin"),
	}, nil
}

// Daemon is a configured resizer service, ready to run.
type Daemon struct {
	cfg      config.Config
	log      hclog.Logger
	host     *pluginhost.Host
	pipeline *pipeline.Pipeline
	consumer *queue.Consumer
	recipes  reloader
	metrics  *metrics.Metrics
	server   *metrics.Server // nil unless metrics_addr is set
	running  atomic.Bool     // the consumer is receiving
}

// New loads the recipes, starts the plugins, checks every recipe step
// against them and wires the service. It checks nothing remote: Run fails
// fast if the inbox cannot be used. Close stops the plugins.
func New(ctx context.Context, cfg config.Config, clients Clients, log hclog.Logger) (*Daemon, error) {
	store, err := storage.New(clients.S3, cfg.TempDir, cfg.MaxObjectBytes)
	if err != nil {
		return nil, err
	}
	popts, err := PluginOptions(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	host, err := pluginhost.New(ctx, popts)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	fp, _ := recipesFingerprint(cfg.RecipesDir)
	set, err := LoadRecipes(ctx, cfg, host)
	if err != nil {
		host.Close()
		return nil, err
	}
	m := metrics.New()
	pixelBudget := cfg.PixelBudget
	if pixelBudget == 0 {
		// Sized by memory, not by cores: the soft limit is GOMEMLIMIT or
		// what resizer derived from the cgroup (systemd's MemoryMax).
		pixelBudget = budget.ForMemory(debug.SetMemoryLimit(-1), cfg.MaxPixels)
	}
	log.Info("pixel budget", "pixels", pixelBudget, "max_pixels", cfg.MaxPixels, "workers", cfg.Workers)
	pixels := budget.New(pixelBudget)
	m.PixelsInFlight(pixels.InUse)
	var names []string
	for _, pl := range host.Plugins() {
		names = append(names, pl.Name)
	}
	m.PluginRestarts(names, host.Restarts)
	p := pipeline.New(store, outbox.NewSender(clients.SQS, cfg.OutboxURL, cfg.OutboxGroupID), set, pipeline.Options{
		DefaultBucket:  cfg.Bucket,
		AllowedBuckets: cfg.AllowedBuckets,
		OutputPrefix:   cfg.OutputPrefix,
		CacheControl:   cfg.CacheControl,
		Limits:         imaging.Limits{MaxPixels: cfg.MaxPixels},
		Plugins:        host,
		Budget:         pixels,
		SourceImage:    host.NewImage,
		Assets:         pipeline.NewAssets(store, cfg.RecipesDir),
		Observe:        m.Observe,
		Logger:         log.Named("pipeline"),
	})
	c := queue.New(clients.SQS, queue.Options{
		QueueURL:          cfg.InboxURL,
		Workers:           cfg.Workers,
		MaxMessages:       cfg.MaxMessages,
		WaitTime:          time.Duration(cfg.WaitTime),
		Visibility:        time.Duration(cfg.Visibility),
		HeartbeatFraction: cfg.HeartbeatEvery,
		RetryBase:         time.Duration(cfg.RetryBase),
		RetryMax:          time.Duration(cfg.RetryMax),
		Grace:             time.Duration(cfg.ShutdownGrace),
		Logger:            log.Named("inbox"),
		LogFields:         p.LogFields,
	})
	for _, r := range set.Recipes() {
		log.Info("recipe loaded", "recipe", r.Name, "file", r.File, "outputs", len(r.Outputs))
	}
	for _, pl := range host.Plugins() {
		log.Info("plugin ready", "plugin", pl.Name, "version", pl.Version, "kind", pl.Kind, "pid", pl.PID)
	}
	d := &Daemon{cfg: cfg, log: log, host: host, pipeline: p, consumer: c, metrics: m}
	d.recipes.last = fp
	m.RecipeReloads(d.RecipeReloads)
	if cfg.MetricsAddr != "" {
		d.server, err = metrics.Listen(cfg.MetricsAddr, m.Gatherer(), d.readiness(clients), log.Named("metrics"))
		if err != nil {
			host.Close()
			return nil, err
		}
	}
	return d, nil
}

// LoadRecipes loads the recipes of cfg and checks them against the plugins
// of host: the set the daemon starts with, and every reload. The error
// lists every problem, one file:line:col per line.
func LoadRecipes(ctx context.Context, cfg config.Config, host *pluginhost.Host) (*recipe.Set, error) {
	set, err := recipe.Load(ctx, cfg.RecipesDir, recipe.LoadOptions{Ops: RecipeOps(host), Fallback: cfg.DefaultRecipe})
	if err != nil {
		return nil, fmt.Errorf("recipes:\n%w", err)
	}
	if len(set.Recipes()) == 0 {
		return nil, fmt.Errorf("recipes: no recipe in %s", cfg.RecipesDir)
	}
	return set, nil
}

// RecipeOps is the plugin host as recipe checks use it.
func RecipeOps(h *pluginhost.Host) recipe.Operations { return hostOps{h} }

type hostOps struct{ *pluginhost.Host }

// OperationNames lets the check suggest an operation for a misspelt one.
func (h hostOps) OperationNames() []string {
	var names []string
	for _, p := range h.Plugins() {
		for _, op := range p.Operations {
			names = append(names, op.Name)
		}
	}
	return names
}

// Run consumes the inbox until ctx is cancelled (then shuts down
// gracefully). Meanwhile it reloads the recipes on SIGHUP and when their
// files change.
func (d *Daemon) Run(ctx context.Context) error {
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		d.watchRecipes(watchCtx)
	}()
	d.running.Store(true)
	err := d.consumer.Run(ctx, d.metrics.Handler(d.pipeline, d.cfg.Bucket))
	d.running.Store(false)
	stopWatch()
	<-watched
	return err
}

// Process runs the pipeline on one object without the inbox (backfill
// --direct): outputs and the outbox record are written as for an inbox
// message naming the object. Permanent failures are reported to the outbox
// and return nil, like a deleted inbox message; a transient failure (the
// job would have been retried) returns an error.
func (d *Daemon) Process(ctx context.Context, bucket, key string) error {
	body, err := json.Marshal(struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	}{bucket, key})
	if err != nil {
		return fmt.Errorf("process %q: %w", key, err)
	}
	m := queue.Message{
		ID:           "direct-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Body:         string(body),
		ReceiveCount: 1,
		SentAt:       time.Now(),
	}
	switch d.pipeline.Handle(ctx, m) {
	case queue.Delete:
		return nil
	case queue.Release:
		return fmt.Errorf("process %q: interrupted: %w", key, context.Cause(ctx))
	default:
		return fmt.Errorf("process %q: transient failure (see the log)", key)
	}
}

// Plugins is the daemon's plugin host.
func (d *Daemon) Plugins() *pluginhost.Host { return d.host }

// MetricsAddr is the address /metrics, /healthz and /readyz are served on,
// "" when metrics_addr is not set.
func (d *Daemon) MetricsAddr() string {
	if d.server == nil {
		return ""
	}
	return d.server.Addr()
}

// Close stops the metrics server and every plugin process.
func (d *Daemon) Close() error {
	var err error
	if d.server != nil {
		err = d.server.Close()
	}
	return errors.Join(err, d.host.Close())
}

// readiness is what /readyz checks: the consumer is receiving, the inbox
// answers, recipes are loaded and every plugin process is running.
func (d *Daemon) readiness(clients Clients) []metrics.Check {
	return []metrics.Check{
		{Name: "consumer", Run: func(context.Context) error {
			if !d.running.Load() {
				return errors.New("not receiving (starting or stopping)")
			}
			return nil
		}},
		{Name: "inbox", Run: func(ctx context.Context) error {
			_, err := clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl:       aws.String(d.cfg.InboxURL),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
			})
			if err != nil {
				return fmt.Errorf("inbox %s: %w", d.cfg.InboxURL, err)
			}
			return nil
		}},
		{Name: "recipes", Run: func(context.Context) error {
			if n := len(d.pipeline.Recipes().Recipes()); n == 0 {
				return fmt.Errorf("no recipe loaded from %s", d.cfg.RecipesDir)
			}
			return nil
		}},
		{Name: "plugins", Run: func(context.Context) error {
			var down []string
			for _, pl := range d.host.Plugins() {
				if pl.Kind == pluginhost.KindExternal && pl.PID == 0 {
					down = append(down, pl.Name)
				}
			}
			if len(down) > 0 {
				return fmt.Errorf("not running: %s", strings.Join(down, ", "))
			}
			return nil
		}},
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
