// Package daemon assembles the resizer service from its configuration: AWS
// clients, recipes, storage, outbox, pipeline and the inbox consumer.
package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/pipeline"
	"github.com/seed62486500/resizer/engine/queue"
	"github.com/seed62486500/resizer/engine/recipe"
	"github.com/seed62486500/resizer/engine/storage"
)

// Clients holds the AWS service clients built from a configuration.
type Clients struct {
	S3  *s3.Client
	SQS *sqs.Client
}

// NewClients builds S3 and SQS clients: credentials from the default chain
// (or opts, for tests and local mode), endpoints overridden when configured.
func NewClients(ctx context.Context, cfg config.Config, opts ...func(*awsconfig.LoadOptions) error) (Clients, error) {
	opts = append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}, opts...)
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

// Daemon is a configured resizer service, ready to run.
type Daemon struct {
	cfg      config.Config
	log      hclog.Logger
	pipeline *pipeline.Pipeline
	consumer *queue.Consumer
}

// New loads the recipes and wires the service. It checks nothing remote;
// Run fails fast if the inbox cannot be used.
func New(cfg config.Config, clients Clients, log hclog.Logger) (*Daemon, error) {
	set, err := recipe.LoadDir(cfg.RecipesDir)
	if err != nil {
		return nil, fmt.Errorf("load recipes: %w", err)
	}
	if len(set.Recipes()) == 0 {
		return nil, fmt.Errorf("load recipes: no recipe in %s", cfg.RecipesDir)
	}
	store, err := storage.New(clients.S3, cfg.TempDir, cfg.MaxObjectBytes)
	if err != nil {
		return nil, err
	}
	p := pipeline.New(store, outbox.NewSender(clients.SQS, cfg.OutboxURL, cfg.OutboxGroupID), set, pipeline.Options{
		DefaultBucket:  cfg.Bucket,
		AllowedBuckets: cfg.AllowedBuckets,
		OutputPrefix:   cfg.OutputPrefix,
		CacheControl:   cfg.CacheControl,
		Limits:         imaging.Limits{MaxPixels: cfg.MaxPixels},
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
	return &Daemon{cfg: cfg, log: log, pipeline: p, consumer: c}, nil
}

// Run consumes the inbox until ctx is cancelled (then shuts down gracefully).
func (d *Daemon) Run(ctx context.Context) error {
	return d.consumer.Run(ctx, d.pipeline)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
