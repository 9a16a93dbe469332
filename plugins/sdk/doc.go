// Package sdk is the only package a resizer transformation plugin imports.
// It holds the Transformer interface, the parameter declarations and their
// checks, the typed errors, Serve for a plugin's main, and the gRPC shims
// the host uses to call a plugin in another process. Its API is plain Go;
// the protobuf contract (proto/resizer/plugin/v1) stays inside.
//
// # Writing a plugin, from an empty folder
//
// 1. Start a module and add the SDK:
//
//	mkdir sepia && cd sepia
//	go mod init example.com/sepia
//	go get github.com/seed62486500/resizer/plugins/sdk
//
// 2. Declare what the plugin offers. The declaration is the plugin's
// contract: the host lints recipes against it, documents it, and the SDK
// checks every request against it before your code runs.
//
//	var info = sdk.Info{
//		Name: "sepia", Version: "1.0.0",
//		Operations: []sdk.Operation{{
//			Name: "sepia", Doc: "Tone the image sepia.",
//			Params: []sdk.Param{{Name: "amount", Type: sdk.TypeFloat, Default: 1.0,
//				Min: sdk.Bound(0), Max: sdk.Bound(1), Doc: "0 keeps the colours, 1 is full sepia."}},
//		}},
//	}
//
// 3. Implement Transformer on a type of your own (type Sepia struct{},
// with func New() *Sepia): Describe returns info, Validate returns
// sdk.CheckParams(info, op, p) plus any check that spans parameters, and
// Transform returns a new *image.NRGBA. Read parameters with the Params
// getters (defaults are already filled in), return errors that wrap
// ErrUnsupportedInput or ErrInvalidParams when they apply, and look at
// ctx.Err() between steps of long work. See the package example.
//
// 4. Write main:
//
//	func main() { sdk.Serve(New()) }
//
// Serve speaks go-plugin's handshake (Handshake, protocol version 1) on
// stdout and logs JSON on stderr: log with hclog.Default(), never print to
// stdout.
//
// 5. Test it with the conformance suite, which runs your transformer over
// the real gRPC path in process:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, func() sdk.Transformer { return New() },
//			sdktest.Case{Name: "full", Operation: "sepia", Params: sdk.Params{"amount": 1}})
//	}
//
// 6. Build the binary (go build -o sepia .), put it in the daemon's plugin
// directory, and register it with its SHA-256 (sha256sum sepia) in the
// daemon's configuration; recipes can then name the "sepia" step. Started
// by hand, the binary only says that it is meant to be run by resizer.
//
// plugins/examples/sepia in the resizer repository is this plugin in full:
// its main, its tests and a README with the configuration and recipe lines.
//
// # Files: asset parameters
//
// A plugin never opens files or talks to S3. A parameter that names a file
// (a watermark logo, a colour lookup table) is a TypeString parameter with
// Asset set:
//
//	{Name: "image", Type: sdk.TypeString, Asset: true, Doc: "PNG to overlay."}
//
// The recipe gives a local path, s3://bucket/key, or a key in the source
// bucket; the host loads the file and passes its bytes in Request.Assets
// under the parameter's name ("image" here). Treat those bytes as untrusted:
// read the header first (image.DecodeConfig) and refuse sizes you cannot
// afford with ErrUnsupportedInput, as plugins/watermark does. When the
// parameter is set but its asset is missing, return ErrUnsupportedInput
// with a message that names the parameter.
//
// # Pixels
//
// Images are *image.NRGBA: 8 bits per channel, alpha not premultiplied,
// EXIF orientation already applied. Between processes they travel through
// files on /dev/shm (see shm.go for who creates and removes which file),
// never through gRPC messages, so size is bounded by MaxPixels and memory,
// not by gRPC's 4 MiB message cap. Over gRPC the input is the host's file
// mapped copy-on-write (nothing is copied; what a transformer writes stays
// its own); in process it is the host's image itself. Either way, treat the
// input as read-only and as valid only until Transform returns: copy what
// you keep.
//
// # Errors
//
// ErrInvalidParams (*ParamsError with per-field detail), ErrUnsupportedInput
// and ErrInternal cross the process boundary as gRPC status codes and come
// back matching errors.Is on the host; a context's error comes back as that
// context error.
package sdk
