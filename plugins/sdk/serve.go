package sdk

import (
	"os"

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
