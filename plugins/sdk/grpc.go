package sdk

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	pluginv1 "github.com/seed62486500/resizer/proto/resizer/plugin/v1"
)

// PluginName is the name under which a plugin process serves its
// Transformer; the host dispenses it by this name.
const PluginName = "transformer"

// GRPCPlugin connects a Transformer to go-plugin, both ways. A plugin's
// main does not use it directly (Serve does); the host registers it in its
// ClientConfig:
//
//	VersionedPlugins: map[int]plugin.PluginSet{
//		sdk.ProtocolVersion: {sdk.PluginName: &sdk.GRPCPlugin{SharedDir: dir}},
//	}
//
// and gets a Transformer (a *Client) from Dispense(sdk.PluginName).
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin

	// Impl is the transformer to serve. Plugin side only.
	Impl Transformer

	// SharedDir is where the host creates the files that carry pixels.
	// Empty means /dev/shm when it is usable, else os.TempDir(). Host side
	// only.
	SharedDir string
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the transformer with the plugin's gRPC server.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("sdk.GRPCPlugin: Impl is nil")
	}
	pluginv1.RegisterTransformerServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a *Client that calls the plugin over conn.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	dir := p.SharedDir
	if dir == "" {
		dir = defaultSharedDir()
	}
	sweepStale(dir)
	pool := newShmPool(dir)
	go releaseOnShutdown(conn, pool)
	return &Client{rpc: pluginv1.NewTransformerClient(conn), pool: pool}, nil
}

// releaseOnShutdown releases pool's files once conn is closed.
func releaseOnShutdown(conn *grpc.ClientConn, pool *shmPool) {
	for s := conn.GetState(); s != connectivity.Shutdown; s = conn.GetState() {
		conn.WaitForStateChange(context.Background(), s)
	}
	pool.close()
}

// Client is a Transformer in another process, as the host sees it. Get one
// from go-plugin's Dispense with a GRPCPlugin registered. Errors keep their
// kind across the boundary: errors.Is(err, ErrInvalidParams) holds on the
// host when the plugin returned a *ParamsError, and so on.
type Client struct {
	rpc  pluginv1.TransformerClient
	pool *shmPool // the shared files; see shm.go
}

var _ Transformer = (*Client)(nil)

// Describe asks the plugin for its Info.
func (c *Client) Describe(ctx context.Context) (Info, error) {
	resp, err := c.rpc.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		return Info{}, fromStatus(ctx, err)
	}
	return infoFromProto(resp), nil
}

// Validate asks the plugin to check params for op.
func (c *Client) Validate(ctx context.Context, op string, p Params) error {
	values, err := paramsToProto(op, p)
	if err != nil {
		return err
	}
	resp, err := c.rpc.Validate(ctx, &pluginv1.ValidateRequest{Operation: op, Params: values})
	if err != nil {
		return fromStatus(ctx, err)
	}
	if len(resp.GetErrors()) == 0 {
		return nil
	}
	pe := &ParamsError{Operation: op}
	for _, fe := range resp.GetErrors() {
		pe.Fields = append(pe.Fields, FieldError{Field: fe.GetField(), Message: fe.GetMessage()})
	}
	return pe
}

// Transform sends req.Image to the plugin through a shared memory file
// (a SharedImage's own, or a copy in a file of the Client's) and returns the
// plugin's output, copied into the Go heap.
func (c *Client) Transform(ctx context.Context, req Request) (_ *image.NRGBA, err error) {
	if req.Image == nil {
		return nil, fmt.Errorf("%w: no input image", ErrUnsupportedInput)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	values, err := paramsToProto(req.Operation, req.Params)
	if err != nil {
		return nil, err
	}
	if b := req.Image.Rect; b.Empty() || int64(b.Dx())*int64(b.Dy()) > MaxPixels {
		return nil, fmt.Errorf("%w: image %dx%d is empty or larger than %d pixels", ErrUnsupportedInput, b.Dx(), b.Dy(), MaxPixels)
	}
	s, err := c.pool.get()
	if err != nil {
		return nil, fmt.Errorf("send image to plugin: %w", err)
	}
	// The slot goes back to the pool only after a call that succeeded;
	// after any error the plugin may still be at work on its files, so
	// they are removed (see shm.go).
	defer func() {
		if err == nil {
			c.pool.put(s)
		} else {
			s.release()
		}
	}()
	in, isShared := sharedDescriptor(req.Image, c.pool.dir)
	if !isShared {
		in, err = s.in.writeImage(req.Image)
		if err != nil {
			return nil, fmt.Errorf("send image to plugin: %w", err)
		}
	}
	resp, err := c.rpc.Transform(ctx, &pluginv1.TransformRequest{
		Operation:  req.Operation,
		Params:     values,
		Input:      sharedToProto(in),
		OutputPath: s.out.path,
		Assets:     req.Assets,
	})
	if err != nil {
		return nil, fromStatus(ctx, err)
	}
	out, err := sharedFromProto(resp.GetOutput())
	if err == nil && out.Path != s.out.path {
		// Never read a file the host did not name.
		err = fmt.Errorf("plugin answered with path %q, asked for %q", out.Path, s.out.path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: bad output descriptor: %v", ErrInternal, err)
	}
	img, err := s.out.readImage(out)
	if err != nil {
		return nil, fmt.Errorf("%w: read plugin output: %v", ErrInternal, err)
	}
	return img, nil
}

// server is the plugin side: it turns RPCs into calls of impl.
type server struct {
	pluginv1.UnimplementedTransformerServer
	impl  Transformer
	maps  peerMaps   // mappings of the host's shared files; see shm.go
	views inputViews // where inputs are mapped; see shm_unix.go

	mu   sync.Mutex
	info *Info

	collecting atomic.Bool // a collection started by collect is running
}

// describe returns the transformer's Info, asked once.
func (s *server) describe(ctx context.Context) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info != nil {
		return *s.info, nil
	}
	info, err := s.impl.Describe(ctx)
	if err != nil {
		return Info{}, err
	}
	s.info = &info
	return info, nil
}

func (s *server) Describe(ctx context.Context, _ *pluginv1.DescribeRequest) (_ *pluginv1.DescribeResponse, err error) {
	defer recoverPanic("Describe", &err)
	info, err := s.describe(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return infoToProto(info), nil
}

func (s *server) Validate(ctx context.Context, req *pluginv1.ValidateRequest) (_ *pluginv1.ValidateResponse, err error) {
	defer recoverPanic("Validate", &err)
	_, err = s.resolve(ctx, req.GetOperation(), req.GetParams())
	var pe *ParamsError
	switch {
	case err == nil:
		return &pluginv1.ValidateResponse{}, nil
	case errors.As(err, &pe):
		resp := &pluginv1.ValidateResponse{}
		for _, f := range pe.Fields {
			resp.Errors = append(resp.Errors, &pluginv1.FieldError{Field: f.Field, Message: f.Message})
		}
		return resp, nil
	case errors.Is(err, ErrInvalidParams):
		return &pluginv1.ValidateResponse{Errors: []*pluginv1.FieldError{{Message: err.Error()}}}, nil
	default:
		return nil, toStatus(err)
	}
}

// resolve checks params against the declaration, then asks the
// transformer's own Validate, and returns the resolved params.
func (s *server) resolve(ctx context.Context, op string, values map[string]*pluginv1.Value) (Params, error) {
	info, err := s.describe(ctx)
	if err != nil {
		return nil, err
	}
	params, err := paramsFromProto(op, values)
	if err != nil {
		return nil, err
	}
	resolved, err := ResolveParams(info, op, params)
	if err != nil {
		return nil, err
	}
	if err := s.impl.Validate(ctx, op, resolved); err != nil {
		return nil, err
	}
	return resolved, nil
}

func (s *server) Transform(ctx context.Context, req *pluginv1.TransformRequest) (_ *pluginv1.TransformResponse, err error) {
	defer recoverPanic("Transform", &err)
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	params, err := s.resolve(ctx, req.GetOperation(), req.GetParams())
	if err != nil {
		return nil, toStatus(err)
	}
	in, err := sharedFromProto(req.GetInput())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "input image: %v", err)
	}
	outPath := req.GetOutputPath()
	if !filepath.IsAbs(outPath) || filepath.Dir(outPath) != filepath.Dir(in.Path) {
		return nil, status.Errorf(codes.InvalidArgument, "output path %q must be absolute and beside the input", outPath)
	}
	img, release, err := s.views.view(in, &s.maps)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "read input image: %v", err)
	}
	defer release() // after the output is written: it may be the input itself
	if in.size() >= collectAfterBytes {
		defer s.collect()
	}
	result, err := s.impl.Transform(ctx, Request{
		Operation: req.GetOperation(),
		Params:    params,
		Image:     img,
		Assets:    req.GetAssets(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	if result == nil {
		return nil, status.Error(codes.Internal, "transformer returned no image and no error")
	}
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	// The host created the output file and removes it; a host that has
	// given up has removed it already, and then this fails.
	out, err := s.maps.writeOutput(outPath, result)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, toStatus(cerr)
		}
		return nil, status.Errorf(codes.Internal, "write output image: %v", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.TransformResponse{Output: sharedToProto(out)}, nil
}

// collectAfterBytes is the input size from which a call ends with a
// garbage collection (see server.collect).
const collectAfterBytes = 8 << 20

// collect starts a garbage collection unless one it started is still
// running. A large call leaves its input copy and intermediate buffers
// behind; collecting right away lets the next call reuse that memory,
// where waiting for the collector's own pace would let the next call's
// buffers pile on top of this one's and the process hold twice as much.
func (s *server) collect() {
	if !s.collecting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.collecting.Store(false)
		runtime.GC()
	}()
}

// recoverPanic turns a panic in a transformer into an Internal error for
// this call instead of a crash of the plugin process.
func recoverPanic(method string, err *error) {
	if r := recover(); r != nil {
		hclog.Default().Error("transformer panicked", "method", method, "panic", r, "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "%s panicked: %v", method, r)
	}
}
