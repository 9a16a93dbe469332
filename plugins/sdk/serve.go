package sdk

import (
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the major version of the plugin protocol, the same
// number as the proto package (resizer.plugin.v1). Additive changes keep
// it; a breaking change serves a new version beside this one.
const ProtocolVersion = 1

// Handshake is what host and plugin must agree on before anything else.
// The magic cookie is not security: it only lets a plugin binary run by
// hand say that it is meant to be started by resizer.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "RESIZER_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "c1f0a8e4-resizer-transformer-v1",
}

// maxMessageBytes bounds one gRPC message to the plugin. Pixels do not
// travel in messages; assets (a watermark PNG, say) do.
const maxMessageBytes = 64 << 20

// LogLevelEnv names the environment variable the host may set to choose
// the plugin's log level (trace, debug, info, warn, error). Default: info.
const LogLevelEnv = "RESIZER_PLUGIN_LOG_LEVEL"

// Serve runs t as a plugin process and returns when the host is done with
// it. Call it from main and do nothing else there:
//
//	func main() { sdk.Serve(myTransformer{}) }
//
// Logs written with hclog.Default() go to stderr as JSON, which the host
// reads and shows under the plugin's name. Do not write to stdout: go-plugin
// uses it for the handshake.
func Serve(t Transformer) {
	// An empty or unknown level leaves hclog's default, info.
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.LevelFromString(os.Getenv(LogLevelEnv)),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	hclog.SetDefault(logger)
	if os.Getenv("GOGC") == "" {
		// Transforms allocate large pixel buffers that hold no pointers:
		// collecting often costs little, and Go's default would let each
		// call's dead buffers double the plugin's footprint.
		debug.SetGCPercent(gcPercent)
	}
	go watchParent(logger, os.Getppid(), parentPoll)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {PluginName: &GRPCPlugin{Impl: t}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessageBytes))...)
		},
		Logger: logger,
	})
}

// gcPercent is a plugin's garbage collector target unless GOGC is set.
const gcPercent = 25

// parentPoll is how often a plugin looks whether its host is still there.
const parentPoll = 500 * time.Millisecond

// exitParentGone is the plugin's exit status when its host went away.
const exitParentGone = 3

// watchParent ends the plugin process when the host that started it is
// gone, which shows as a new parent process id (the orphan is adopted by
// init or a subreaper). The host also has the kernel kill its plugins when
// it dies, where the kernel can; this is the second line of defence, so
// that no plugin outlives a host killed with SIGKILL. A parent id of 1 from
// the start (a host running as a container's init) never changes, and
// then the container's end takes the plugin with it.
func watchParent(logger hclog.Logger, parent int, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for range tick.C {
		if now := os.Getppid(); now != parent {
			logger.Error("the host process is gone; exiting", "host_pid", parent, "parent_pid", now)
			os.Exit(exitParentGone)
		}
	}
}
