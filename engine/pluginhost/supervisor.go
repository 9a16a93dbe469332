package pluginhost

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// Restart backoff: the first restart after a failure waits minBackoff, and
// each further one twice as long, up to maxBackoff. A plugin that ran for
// healthyAfter before failing starts again from minBackoff.
const (
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 30 * time.Second
	healthyAfter = time.Minute
	// exitPoll is how often the supervisor looks whether an idle plugin
	// process is still there; calls notice a dead one by themselves.
	exitPoll = 200 * time.Millisecond
	// deadlineSettle is how long a call waits for its contexts to agree
	// with a deadline error from gRPC; see call.
	deadlineSettle = 50 * time.Millisecond
)

// withoutParentDeathSignal leaves the kernel's parent-death signal off, so
// that a test can see the plugin's own parent watch at work.
var withoutParentDeathSignal = false

var errClosed = errors.New("plugin host is closed")

// supervisor runs one external plugin: it starts the process, hands the
// running instance to calls, and replaces it when it crashes or hangs.
type supervisor struct {
	spec         resolvedExternal
	log          hclog.Logger
	sharedDir    string
	startTimeout time.Duration
	callTimeout  time.Duration
	adoptName    bool // see newHost

	// info is the plugin's description from its first start; written
	// before the first start is reported, read-only afterwards.
	info sdk.Info

	mu     sync.Mutex
	cur    *attempt // the running instance, or the start under way
	closed bool

	restarts atomic.Int64
	stopOnce sync.Once
	stop     chan struct{} // closed by shutdown
	done     chan struct{} // closed when run returns
}

// attempt is one start of the plugin process. ready is closed when the
// start has succeeded (inst) or failed (err).
type attempt struct {
	ready chan struct{}
	inst  *instance
	err   error
}

func newAttempt() *attempt { return &attempt{ready: make(chan struct{})} }

func (a *attempt) finished() bool {
	select {
	case <-a.ready:
		return true
	default:
		return false
	}
}

// instance is one running plugin process.
type instance struct {
	client  *plugin.Client
	cmd     *exec.Cmd
	tr      sdk.Transformer
	pid     int
	started time.Time

	failOnce sync.Once
	failed   chan struct{} // closed by fail
	reason   string        // why it failed; set before failed is closed
}

func (i *instance) fail(reason string) {
	i.failOnce.Do(func() {
		i.reason = reason
		close(i.failed)
	})
}

func newSupervisor(spec resolvedExternal, opts Options) *supervisor {
	return &supervisor{
		spec:         spec,
		log:          opts.Logger.Named(spec.Name),
		sharedDir:    opts.SharedDir,
		startTimeout: opts.StartTimeout,
		callTimeout:  opts.CallTimeout,
		cur:          newAttempt(),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
	}
}

// run starts the plugin, reports the outcome of the first start on first,
// and keeps the plugin running until shutdown. A failed first start ends
// it: the host refuses to start without its plugins.
func (s *supervisor) run(first chan<- error) {
	defer close(s.done)
	// Every fork happens on this goroutine, locked to its thread for good,
	// because the kernel's parent-death signal follows the forking thread
	// (see setParentDeathSignal). The thread ends with the goroutine, after
	// its plugin has been stopped.
	runtime.LockOSThread()

	delay := minBackoff
	for isFirst := true; ; isFirst = false {
		a := s.beginAttempt()
		if a == nil {
			return // closed
		}
		inst, err := s.start(isFirst)
		s.finishAttempt(a, inst, err)
		if isFirst {
			first <- err
			if err != nil {
				return
			}
		}
		if err != nil {
			s.log.Error("plugin could not be started", "error", err, "retry_in", delay)
		} else {
			if !s.watch(inst) {
				s.log.Debug("stopping plugin", "pid", inst.pid)
				inst.client.Kill() // asks it to exit, kills it after 2s
				return
			}
			s.log.Warn("plugin failed; replacing it", "pid", inst.pid, "reason", inst.reason, "restart_in", delay)
			_ = inst.cmd.Process.Kill() // a hung plugin would not exit when asked
			inst.client.Kill()
			if time.Since(inst.started) >= healthyAfter {
				delay = minBackoff
			}
		}
		select {
		case <-time.After(delay):
		case <-s.stop:
			s.finishPending()
			return
		}
		delay = min(2*delay, maxBackoff)
		s.restarts.Add(1)
	}
}

// beginAttempt returns the attempt the next start fills in: the pending
// one that a failed instance left for callers to wait on, or a new one
// after a failed start (whose error callers saw meanwhile). It returns nil
// once the supervisor is closed.
func (s *supervisor) beginAttempt() *attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.cur.finished() {
		s.cur = newAttempt()
	}
	return s.cur
}

func (s *supervisor) finishAttempt(a *attempt, inst *instance, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.inst, a.err = inst, err
	close(a.ready)
}

// finishPending fails the attempt that callers may be waiting on when the
// supervisor stops during a backoff.
func (s *supervisor) finishPending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cur.finished() {
		s.cur.err = errClosed
		close(s.cur.ready)
	}
}

// watch waits until inst fails (reported by a call or seen exiting) and
// returns true, or until shutdown and returns false.
func (s *supervisor) watch(inst *instance) bool {
	tick := time.NewTicker(exitPoll)
	defer tick.Stop()
	for {
		select {
		case <-inst.failed:
			return true
		case <-tick.C:
			if inst.client.Exited() {
				s.markFailed(inst, "the plugin process exited")
				return true
			}
		case <-s.stop:
			return false
		}
	}
}

// markFailed records that inst failed. Calls from then on wait for its
// replacement instead of reaching the dead process.
func (s *supervisor) markFailed(inst *instance, reason string) {
	s.mu.Lock()
	if !s.closed && s.cur.finished() && s.cur.inst == inst {
		s.cur = newAttempt()
	}
	s.mu.Unlock()
	inst.fail(reason)
}

func (s *supervisor) shutdown() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
	})
}

// pid returns the running process's id, or 0.
func (s *supervisor) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.finished() && s.cur.inst != nil && !s.closed {
		select {
		case <-s.cur.inst.failed:
		default:
			return s.cur.inst.pid
		}
	}
	return 0
}

// start checks the executable's checksum, starts the process and asks the
// plugin to describe itself.
func (s *supervisor) start(isFirst bool) (*instance, error) {
	spec := s.spec
	if err := checkSum(spec.Path, spec.sum); err != nil {
		return nil, fmt.Errorf("plugin %q: %w", spec.Name, err)
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	// Nothing of the daemon's environment: go-plugin adds its handshake
	// variables to this, and SkipHostEnv keeps it from adding os.Environ.
	cmd.Env = []string{sdk.LogLevelEnv + "=" + logLevel(s.log)}
	setParentDeathSignal(cmd)
	stdio := s.log.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true})
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			sdk.ProtocolVersion: {sdk.PluginName: &sdk.GRPCPlugin{SharedDir: s.sharedDir}},
		},
		Cmd:         cmd,
		SkipHostEnv: true,
		// A new hash every start: SecureConfig.Check writes into it.
		SecureConfig:     &plugin.SecureConfig{Checksum: spec.sum, Hash: sha256.New()},
		AutoMTLS:         true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     s.startTimeout,
		Logger:           pluginLogger{s.log},
		SyncStdout:       stdio,
		SyncStderr:       stdio,
	})
	inst, err := s.connect(client, cmd)
	if err != nil {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			err = fmt.Errorf("%s changed while being started: %w", spec.Path, err)
		}
		return nil, fmt.Errorf("plugin %q: start %s: %w", spec.Name, spec.Path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.startTimeout)
	defer cancel()
	info, err := inst.tr.Describe(ctx)
	if err == nil && isFirst {
		name := spec.Name
		if s.adoptName {
			name = info.Name
		}
		err = checkInfo(name, info)
		s.info = info
	}
	if err != nil {
		_ = cmd.Process.Kill()
		client.Kill()
		return nil, fmt.Errorf("plugin %q: describe: %w", spec.Name, err)
	}
	s.log.Info("plugin started", "pid", inst.pid, "version", info.Version, "path", spec.Path)
	return inst, nil
}

func (s *supervisor) connect(client *plugin.Client, cmd *exec.Cmd) (*instance, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return nil, err
	}
	tr, ok := raw.(sdk.Transformer)
	if !ok {
		return nil, fmt.Errorf("dispensed %T, not an sdk.Transformer", raw)
	}
	return &instance{client: client, cmd: cmd, tr: tr, pid: cmd.Process.Pid, started: time.Now(), failed: make(chan struct{})}, nil
}

// instance waits for a running instance.
func (s *supervisor) instance(ctx context.Context) (*instance, error) {
	for {
		s.mu.Lock()
		a, closed := s.cur, s.closed
		s.mu.Unlock()
		if closed {
			return nil, fmt.Errorf("%w: plugin %q: %v", ErrUnavailable, s.spec.Name, errClosed)
		}
		select {
		case <-a.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if a.err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, a.err)
		}
		select {
		case <-a.inst.failed:
			// Failed since; markFailed has put its replacement in place.
			continue
		default:
			return a.inst, nil
		}
	}
}

// call runs fn against the running instance under the call deadline and
// decides what its error means: the caller's own cancellation and the
// plugin's typed errors pass through; a missed deadline or a dead process
// is ErrUnavailable and gets the instance replaced.
func (s *supervisor) call(ctx context.Context, what string, fn func(context.Context, sdk.Transformer) error) error {
	name := s.spec.Name
	callCtx, cancel := context.WithTimeout(ctx, s.callTimeout)
	defer cancel()
	inst, err := s.instance(callCtx)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("plugin %q: %s: %w", name, what, ctx.Err())
		case callCtx.Err() != nil:
			return fmt.Errorf("%w: plugin %q was not running within %s", ErrUnavailable, name, s.callTimeout)
		}
		return err
	}
	err = fn(callCtx, inst.tr)
	if errors.Is(err, context.DeadlineExceeded) && callCtx.Err() == nil {
		// gRPC enforces a deadline with a timer of its own, which may fire
		// a moment before the context's: give the contexts that moment to
		// say whose deadline it was.
		select {
		case <-callCtx.Done():
		case <-time.After(deadlineSettle):
		}
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		// The caller gave up; the plugin is not to blame.
		return err
	case callCtx.Err() != nil:
		s.markFailed(inst, fmt.Sprintf("%s did not answer within %s", what, s.callTimeout))
		return fmt.Errorf("%w: plugin %q (pid %d): %s did not answer within %s; the process is being replaced",
			ErrUnavailable, name, inst.pid, what, s.callTimeout)
	case errors.Is(err, sdk.ErrInvalidParams), errors.Is(err, sdk.ErrUnsupportedInput):
		return err
	case status.Code(err) == codes.Unavailable || inst.client.Exited():
		s.markFailed(inst, fmt.Sprintf("%s failed: %v", what, err))
		return fmt.Errorf("%w: plugin %q (pid %d) went away during %s: %v", ErrUnavailable, name, inst.pid, what, err)
	}
	return err
}

// pluginLogger is the plugin's logger as go-plugin sees it. go-plugin
// names the logger of the plugin's stderr after the executable, which is
// "resizer" for every self-served plugin; the plugin's own name, which
// this logger already carries, says more.
type pluginLogger struct{ hclog.Logger }

func (l pluginLogger) Named(string) hclog.Logger { return l.Logger }

// logLevel is the level to ask the plugin to log at: the logger's own, so
// that nothing is produced only to be dropped.
func logLevel(l hclog.Logger) string {
	switch l.GetLevel() {
	case hclog.Trace:
		return "trace"
	case hclog.Debug:
		return "debug"
	case hclog.Warn:
		return "warn"
	case hclog.Error, hclog.Off:
		return "error"
	}
	return "info"
}
