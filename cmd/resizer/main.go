// Command resizer turns S3 uploads into image variants. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/mattn/go-isatty"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/local"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `resizer turns S3 uploads into ready-made image variants.

Usage:
  resizer run   --config FILE [flags]      consume the SQS inbox (production)
  resizer local [--demo] [flags]           run against embedded S3 and SQS endpoints
  resizer recipes check|match              check recipes; which recipe a key gets (see "resizer recipes help")
  resizer process FILE... -o DIR [--html]  run the recipes on local files, no AWS; --html: a contact sheet
  resizer backfill --prefix P [--since T] [--direct]
                                           reprocess existing sources whose outputs are not current
  resizer plugins list|check|docs          inspect plugins (see "resizer plugins help")
  resizer bench [--workers 1,2] [--compare vips]
                                           measure images/s, stage latency and memory through local mode
  resizer version

Run "resizer COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run", "local", "process", "backfill", "bench":
		tuneMemory() // the commands that decode images in this process
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "local":
		return cmdLocal(args[1:], stdout, stderr)
	case "recipes":
		return cmdRecipes(args[1:], stdout, stderr)
	case "process":
		return cmdProcess(args[1:], stdout, stderr)
	case "backfill":
		return cmdBackfill(args[1:], stdout, stderr)
	case "plugins":
		return cmdPlugins(args[1:], stdout, stderr)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	case "plugin":
		return cmdPluginServe(args[1:], stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "resizer", version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "resizer: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// buildVersion is set by release builds (deploy/package.sh:
// -ldflags "-X main.buildVersion=..."); otherwise the module version, if
// the build recorded one.
var buildVersion string

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// commonFlags are the flags every daemon command takes.
type commonFlags struct {
	config    string
	sets      setFlags
	logLevel  string
	logFormat string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "YAML configuration `file`")
	fs.Var(&c.sets, "set", "override a configuration field, as `name=value` (repeatable), e.g. --set workers=8")
	fs.StringVar(&c.logLevel, "log-level", "", "log level: trace, debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "", "log format: auto, text or json")
}

// load builds the configuration: defaults, file, RESIZER_* environment, flags.
func (c *commonFlags) load() (config.Config, error) {
	cfg, err := config.Load(c.config, os.Environ())
	if err != nil {
		return cfg, err
	}
	overrides := append([]string(nil), c.sets...)
	if c.logLevel != "" {
		overrides = append(overrides, "log_level="+c.logLevel)
	}
	if c.logFormat != "" {
		overrides = append(overrides, "log_format="+c.logFormat)
	}
	for _, kv := range overrides {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, fmt.Errorf("--set %q: want name=value", kv)
		}
		if err := cfg.Set(name, value); err != nil {
			return cfg, fmt.Errorf("--set %s: %w", name, err)
		}
	}
	return cfg, cfg.Validate()
}

type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func newLogger(cfg config.Config, w io.Writer) hclog.Logger {
	json := cfg.LogFormat == "json"
	if cfg.LogFormat == "auto" || cfg.LogFormat == "" {
		f, ok := w.(*os.File)
		json = !ok || !isatty.IsTerminal(f.Fd())
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "resizer",
		Level:      hclog.LevelFromString(cfg.LogLevel),
		Output:     w,
		JSONFormat: json,
	})
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "resizer run: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signalContext()
	defer stop()

	clients, err := daemon.NewClients(ctx, cfg, daemon.SDKLogger(log))
	if err != nil {
		log.Error("cannot start", "error", err)
		return exitFailure
	}
	d, err := daemon.New(ctx, cfg, clients, log)
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	defer d.Close()
	if err := d.Run(ctx); err != nil {
		log.Error("daemon stopped", "error", err)
		return exitFailure
	}
	return exitOK
}

func cmdLocal(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	addr := fs.String("addr", "127.0.0.1:4566", "listen `address` of the embedded S3 and SQS endpoints")
	dataDir := fs.String("data", "", "keep S3 objects in this `directory` (default: memory)")
	demo := fs.Bool("demo", false, "upload generated sample images, wait for every output, print them and exit")
	timeout := fs.Duration("demo-timeout", 5*time.Minute, "how long --demo waits for its outputs")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	if *demo && cf.logLevel == "" {
		// The demo's own table is the output; keep the daemon's logs short.
		cfg.LogLevel = "warn"
	}
	// Local mode answers quickly when stopped: no 20 s poll to sit out.
	cfg.WaitTime = config.Duration(2 * time.Second)
	log := newLogger(cfg, stderr)
	ctx, stop := signalContext()
	defer stop()

	l, err := local.Start(ctx, cfg, local.Options{Addr: *addr, DataDir: *dataDir, Logger: log})
	if err != nil && !flagGiven(fs, "addr") {
		// The usual port is taken (another local run?): any free port will do.
		l, err = local.Start(ctx, cfg, local.Options{Addr: "127.0.0.1:0", DataDir: *dataDir, Logger: log})
	}
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}
	defer l.Close()
	fmt.Fprintf(stdout, "resizer local: S3 and SQS endpoint %s\n", l.Config.Endpoint)
	fmt.Fprintf(stdout, "  bucket %s, inbox %s\n  outbox %s\n", l.Config.Bucket, l.Config.InboxURL, l.Config.OutboxURL)
	if a := l.Daemon.MetricsAddr(); a != "" {
		fmt.Fprintf(stdout, "  metrics http://%s/metrics, health http://%s/healthz and /readyz\n", a, a)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "Try it with the AWS CLI:\n%s\n", l.CLIHints())

	daemonCtx, stopDaemon := context.WithCancel(ctx)
	defer stopDaemon()
	done := make(chan error, 1)
	go func() { done <- l.Daemon.Run(daemonCtx) }()

	if !*demo {
		if err := <-done; err != nil {
			log.Error("daemon stopped", "error", err)
			return exitFailure
		}
		return exitOK
	}

	images := local.DemoImages()
	fmt.Fprintf(stdout, "demo: uploading %d generated images to s3://%s/uploads/demo/ ...\n", len(images), cfg.Bucket)
	res, err := l.Demo(ctx, images, *timeout)
	stopDaemon()
	if derr := <-done; derr != nil && err == nil {
		err = derr
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("the outputs did not all arrive within %s: %w", *timeout, err)
		}
		fmt.Fprintf(stderr, "resizer: demo: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout)
	if err := local.PrintTable(stdout, res.Records); err != nil {
		return exitFailure
	}
	outputs, failed := 0, 0
	for _, r := range res.Records {
		outputs += len(r.Outputs)
		if r.Status != "processed" {
			failed++
		}
	}
	fmt.Fprintf(stdout, "\n%d images, %d outputs in %s: %.2f images/s\n",
		len(res.Records), outputs, res.Elapsed.Round(time.Millisecond), res.ImagesPerSecond())
	if failed > 0 {
		fmt.Fprintf(stderr, "resizer: demo: %d images were not processed\n", failed)
		return exitFailure
	}
	return exitOK
}
