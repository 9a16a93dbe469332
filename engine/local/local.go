// Package local runs the resizer daemon against the embedded S3 and SQS
// endpoints, with no AWS account, and drives the demo.
package local

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
)

// Credentials the embedded endpoints accept (they check none).
const (
	AccessKey = "local"
	SecretKey = "local"
)

// Options configure local mode.
type Options struct {
	Addr    string // listen address, default 127.0.0.1:0
	DataDir string // S3 objects on disk; "" keeps them in memory
	Logger  hclog.Logger
}

// Local is a running embedded environment with the daemon configured for it.
type Local struct {
	Server  *awslocal.Server
	Config  config.Config
	Clients daemon.Clients
	Daemon  *daemon.Daemon
	ownTemp string // a temp dir of its own, removed by Close
}

// Start starts the embedded endpoints, creating the bucket and queues named
// by cfg, and points a copy of cfg at them. Unless cfg names a temp dir of
// its own, downloads go to a new private one rather than the production
// default, so that local mode never meets a daemon's (or anything else's)
// files there.
func Start(ctx context.Context, cfg config.Config, opts Options) (*Local, error) {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	inbox, err := queueName(cfg.InboxURL)
	if err != nil {
		return nil, err
	}
	outboxName, err := queueName(cfg.OutboxURL)
	if err != nil {
		return nil, err
	}
	srv, err := awslocal.Start(ctx, awslocal.Options{
		Addr:          opts.Addr,
		DataDir:       opts.DataDir,
		Region:        cfg.Region,
		Bucket:        cfg.Bucket,
		InboxQueue:    inbox,
		OutboxQueue:   outboxName,
		ExcludePrefix: cfg.OutputPrefix,
		Logger:        log,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded endpoints: %w", err)
	}
	var ownTemp string
	if cfg.TempDir == config.Default().TempDir {
		if ownTemp, err = os.MkdirTemp("", "resizer-local-"); err != nil {
			srv.Close()
			return nil, fmt.Errorf("temp dir: %w", err)
		}
		cfg.TempDir = ownTemp
	}
	fail := func(err error) (*Local, error) {
		srv.Close()
		if ownTemp != "" {
			os.RemoveAll(ownTemp)
		}
		return nil, err
	}
	cfg.Endpoint = srv.URL()
	cfg.S3Endpoint, cfg.SQSEndpoint = "", ""
	cfg.InboxURL = srv.QueueURL(inbox)
	cfg.OutboxURL = srv.QueueURL(outboxName)
	clients, err := daemon.NewClients(ctx, cfg, StaticCredentials(), daemon.SDKLogger(log))
	if err != nil {
		return fail(err)
	}
	d, err := daemon.New(ctx, cfg, clients, log)
	if err != nil {
		return fail(err)
	}
	return &Local{Server: srv, Config: cfg, Clients: clients, Daemon: d, ownTemp: ownTemp}, nil
}

// StaticCredentials makes the SDK sign with the local credentials instead of
// searching the default chain (no AWS account is involved).
func StaticCredentials() func(*awsconfig.LoadOptions) error {
	return awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""))
}

// Close stops the plugins and the embedded endpoints, and removes the temp
// dir Start made.
func (l *Local) Close() error {
	err := errors.Join(l.Daemon.Close(), l.Server.Close())
	if l.ownTemp != "" {
		err = errors.Join(err, os.RemoveAll(l.ownTemp))
	}
	return err
}

func queueName(queueURL string) (string, error) {
	u, err := url.Parse(queueURL)
	if err != nil || u.Path == "" || u.Path == "/" {
		return "", fmt.Errorf("cannot take a queue name from %q", queueURL)
	}
	return path.Base(u.Path), nil
}
