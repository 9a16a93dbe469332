// Package pluginhost is the daemon's catalog of transformation plugins.
// Built-in plugins run in the daemon's process; external ones (a third
// party's binary, or the resizer binary serving one of its own plugins)
// run as child processes spoken to over gRPC through hashicorp/go-plugin.
// Callers see one catalog of operations and the same sdk.Transformer calls
// for both kinds.
//
// An external plugin is pinned by the SHA-256 of its executable, checked
// before every start. It gets none of the daemon's environment, an mTLS
// connection, a start timeout and a deadline on every call. A plugin that
// crashes or hangs fails the call with ErrUnavailable (a transient failure:
// the job is retried) and is replaced, with backoff. No plugin outlives the
// daemon, even one killed with SIGKILL: see parentdeath_linux.go and the
// parent watch in plugins/sdk/serve.go.
package pluginhost

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// ErrUnavailable is the transient failure of a plugin call: the plugin
// crashed, did not answer within the call deadline, or could not be
// (re)started. The job that made the call should be retried later; the
// host is already replacing the plugin. Test with errors.Is.
var ErrUnavailable = errors.New("plugin unavailable")

// Defaults of Options.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultCallTimeout  = 60 * time.Second
)

// Kinds of plugin, as Plugin.Kind reports them.
const (
	KindBuiltin  = "builtin"
	KindExternal = "external"
)

// External is a plugin executable and the SHA-256 it must have.
type External struct {
	// Name is the plugin's name in the catalog; the plugin must describe
	// itself under the same name.
	Name string
	// Path is the executable, absolute or relative to Options.Dir.
	Path string
	// SHA256 is the executable's checksum in hex, checked before every
	// start of the process.
	SHA256 string
	// Args are passed to the executable (no shell is involved).
	Args []string
}

// Options configure a Host.
type Options struct {
	// Dir is the plugins directory, against which relative External paths
	// are resolved.
	Dir      string
	External []External
	// Builtin are the plugins that run in the daemon's process, by name.
	Builtin map[string]sdk.Transformer
	// StartTimeout bounds the start of a plugin process, up to and
	// including its Describe answer. Default DefaultStartTimeout.
	StartTimeout time.Duration
	// CallTimeout bounds each Validate and Transform call, on top of the
	// caller's context. Default DefaultCallTimeout.
	CallTimeout time.Duration
	// SharedDir is where the files that carry pixels to external plugins
	// are made; "" for the SDK's default (/dev/shm when usable).
	SharedDir string
	// Logger is the parent of every plugin's logger (Logger.Named(name)),
	// which also receives the plugin process's own logs. Default: none.
	Logger hclog.Logger
}

// Plugin describes one plugin of the catalog.
type Plugin struct {
	Name    string
	Version string
	// Kind is KindBuiltin or KindExternal.
	Kind string
	// Path is the executable of an external plugin; "" for a built-in.
	Path string
	// PID is the process of an external plugin, 0 while it is not running
	// (and for a built-in).
	PID        int
	Operations []sdk.Operation
}

// Host runs the plugins and routes operations to them. Its methods may be
// called concurrently.
type Host struct {
	plugins   []*member
	byOp      map[string]*member
	opNames   []string
	external  map[string]*supervisor
	sharedDir string
}

// member is one plugin of the catalog, of either kind.
type member struct {
	name string
	info sdk.Info
	kind string
	// call runs fn against the plugin's transformer under the call
	// deadline, turning crashes and hangs into ErrUnavailable.
	call func(ctx context.Context, what string, fn func(context.Context, sdk.Transformer) error) error
	// resolve is true for built-ins: no SDK server checks and completes
	// their parameters.
	resolve bool
	ext     *supervisor
}

// New starts every external plugin, asks every plugin to describe itself
// and builds the catalog of operations. Operation names are unique across
// plugins. On error nothing is left running.
func New(ctx context.Context, opts Options) (*Host, error) {
	return newHost(ctx, opts, false)
}

// Inspect starts the executable at path as the only plugin of a new Host,
// under whatever name it describes itself with, pinned to the SHA-256 the
// file has now. It is for tools that examine a plugin before anyone
// configures it ("resizer plugins check"); the daemon uses New. Of opts,
// External and Builtin are ignored.
func Inspect(ctx context.Context, path string, args []string, opts Options) (*Host, error) {
	sum, err := FileSHA256(path)
	if err != nil {
		return nil, err
	}
	opts.External = []External{{Name: filepath.Base(path), Path: path, SHA256: sum, Args: args}}
	opts.Builtin = nil
	return newHost(ctx, opts, true)
}

// newHost is New; with adoptName, external plugins take the name they
// describe themselves with instead of having to match the configured one.
func newHost(ctx context.Context, opts Options, adoptName bool) (*Host, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	specs, err := checkExternal(opts)
	if err != nil {
		return nil, err
	}
	h := &Host{byOp: map[string]*member{}, external: map[string]*supervisor{}, sharedDir: opts.SharedDir}

	names := make([]string, 0, len(opts.Builtin))
	for name := range opts.Builtin {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b := &builtin{name: name, tr: opts.Builtin[name], timeout: opts.CallTimeout}
		dctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
		info, err := b.tr.Describe(dctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("built-in plugin %q: describe: %w", name, err)
		}
		if err := checkInfo(name, info); err != nil {
			return nil, err
		}
		h.plugins = append(h.plugins, &member{name: name, info: info, kind: KindBuiltin, call: b.call, resolve: true})
	}

	// Start the external plugins side by side; each supervisor reports
	// its first start.
	firsts := make([]chan error, len(specs))
	for i, spec := range specs {
		s := newSupervisor(spec, opts)
		s.adoptName = adoptName
		h.external[spec.Name] = s
		firsts[i] = make(chan error, 1)
		go s.run(firsts[i])
	}
	var startErrs []error
	for i, spec := range specs {
		select {
		case err := <-firsts[i]:
			if err != nil {
				startErrs = append(startErrs, err)
				continue
			}
			s := h.external[spec.Name]
			h.plugins = append(h.plugins, &member{name: s.info.Name, info: s.info, kind: KindExternal, call: s.call, ext: s})
		case <-ctx.Done():
			startErrs = append(startErrs, fmt.Errorf("starting plugin %q: %w", spec.Name, ctx.Err()))
		}
	}
	if len(startErrs) > 0 {
		_ = h.Close()
		return nil, errors.Join(startErrs...)
	}

	sort.Slice(h.plugins, func(i, j int) bool { return h.plugins[i].name < h.plugins[j].name })
	for _, m := range h.plugins {
		for _, op := range m.info.Operations {
			if other, dup := h.byOp[op.Name]; dup {
				_ = h.Close()
				return nil, fmt.Errorf("operation %q is offered by both plugin %q and plugin %q", op.Name, other.name, m.name)
			}
			h.byOp[op.Name] = m
			h.opNames = append(h.opNames, op.Name)
		}
	}
	sort.Strings(h.opNames)
	return h, nil
}

// resolvedExternal is an External with its path made absolute and its
// checksum decoded.
type resolvedExternal struct {
	External
	sum []byte
}

// checkExternal checks the configured external plugins and resolves their
// paths.
func checkExternal(opts Options) ([]resolvedExternal, error) {
	seen := map[string]bool{}
	for name := range opts.Builtin {
		seen[name] = true
	}
	out := make([]resolvedExternal, 0, len(opts.External))
	for i, e := range opts.External {
		switch {
		case e.Name == "":
			return nil, fmt.Errorf("external plugin #%d has no name", i+1)
		case seen[e.Name]:
			return nil, fmt.Errorf("plugin name %q is used twice", e.Name)
		case e.Path == "":
			return nil, fmt.Errorf("plugin %q has no path", e.Name)
		}
		seen[e.Name] = true
		sum, err := hex.DecodeString(e.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("plugin %q: sha256 %q is not 64 hexadecimal digits", e.Name, e.SHA256)
		}
		path := e.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(opts.Dir, path)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: path %q: %w", e.Name, e.Path, err)
		}
		e.Path = abs
		e.Args = slices.Clone(e.Args)
		out = append(out, resolvedExternal{External: e, sum: sum})
	}
	return out, nil
}

// checkInfo checks what the host relies on in a plugin's description.
func checkInfo(name string, info sdk.Info) error {
	if info.Name != name {
		return fmt.Errorf("plugin %q describes itself as %q", name, info.Name)
	}
	if len(info.Operations) == 0 {
		return fmt.Errorf("plugin %q offers no operations", name)
	}
	seen := map[string]bool{}
	for _, op := range info.Operations {
		if op.Name == "" {
			return fmt.Errorf("plugin %q offers an operation without a name", name)
		}
		if seen[op.Name] {
			return fmt.Errorf("plugin %q offers operation %q twice", name, op.Name)
		}
		seen[op.Name] = true
	}
	return nil
}

// Plugins lists the plugins by name.
func (h *Host) Plugins() []Plugin {
	out := make([]Plugin, 0, len(h.plugins))
	for _, m := range h.plugins {
		p := Plugin{Name: m.name, Version: m.info.Version, Kind: m.kind, Operations: slices.Clone(m.info.Operations)}
		if m.ext != nil {
			p.Path = m.ext.spec.Path
			p.PID = m.ext.pid()
		}
		out = append(out, p)
	}
	return out
}

// Operation returns the declaration of operation op and the name of the
// plugin that offers it.
func (h *Host) Operation(op string) (sdk.Operation, string, bool) {
	m, ok := h.byOp[op]
	if !ok {
		return sdk.Operation{}, "", false
	}
	spec, _ := m.info.Operation(op)
	return spec, m.name, true
}

// NewImage returns a w×h image in memory that the external plugins map
// without a copy (an sdk.SharedImage in the host's shared directory), and
// the function that frees it. A source handed to several out-of-process
// steps then exists once, not once in the heap and once per call.
func (h *Host) NewImage(w, hgt int) (*image.NRGBA, func(), error) {
	img, err := sdk.NewSharedImage(h.sharedDir, w, hgt)
	if err != nil {
		return nil, nil, err
	}
	return img.NRGBA, img.Release, nil
}

// Restarts returns how many times the external plugin called name has been
// restarted (attempts included); 0 for built-ins and unknown names.
func (h *Host) Restarts(name string) int64 {
	if s, ok := h.external[name]; ok {
		return s.restarts.Load()
	}
	return 0
}

// Validate checks p for operation op: against the declaration first (no
// process involved, so a recipe can be linted while a plugin restarts),
// then with the plugin's own Validate for checks that span parameters.
// Errors of kind sdk.ErrInvalidParams come back as the plugin returned
// them.
func (h *Host) Validate(ctx context.Context, op string, p sdk.Params) error {
	m, ok := h.byOp[op]
	if !ok {
		return h.unknownOperation(op)
	}
	resolved, err := sdk.ResolveParams(m.info, op, p)
	if err != nil {
		return err
	}
	if !m.resolve {
		resolved = p // the plugin's SDK server resolves them itself
	}
	return m.call(ctx, "validate "+op, func(ctx context.Context, tr sdk.Transformer) error {
		return tr.Validate(ctx, op, resolved)
	})
}

// Transform runs req.Operation on the plugin that offers it. Errors of
// kind sdk.ErrInvalidParams and sdk.ErrUnsupportedInput are the plugin's
// and permanent for the job; ErrUnavailable is transient.
func (h *Host) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	m, ok := h.byOp[req.Operation]
	if !ok {
		return nil, h.unknownOperation(req.Operation)
	}
	if m.resolve {
		resolved, err := sdk.ResolveParams(m.info, req.Operation, req.Params)
		if err != nil {
			return nil, err
		}
		req.Params = resolved
	}
	var out *image.NRGBA
	err := m.call(ctx, "transform "+req.Operation, func(ctx context.Context, tr sdk.Transformer) error {
		img, err := tr.Transform(ctx, req)
		out = img
		return err
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("%w: plugin %q returned no image for %q", sdk.ErrInternal, m.name, req.Operation)
	}
	return out, nil
}

func (h *Host) unknownOperation(op string) error {
	return &sdk.ParamsError{Operation: op, Fields: []sdk.FieldError{{
		Message: fmt.Sprintf("unknown operation %q (known: %s)", op, strings.Join(h.opNames, ", ")),
	}}}
}

// Close stops every plugin process and waits for them to exit. Calls made
// afterwards fail with ErrUnavailable.
func (h *Host) Close() error {
	for _, s := range h.external {
		s.shutdown()
	}
	for _, s := range h.external {
		<-s.done
	}
	return nil
}
