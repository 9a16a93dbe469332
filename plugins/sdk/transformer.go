package sdk

import (
	"context"
	"fmt"
	"image"
)

// Transformer is what a plugin implements, and what the host calls. The
// host calls the same interface whether the transformer runs in its own
// process (through [GRPCPlugin]) or in the daemon's process.
//
// All three methods may be called concurrently.
type Transformer interface {
	// Describe returns the plugin's name, version and operations. It must
	// return the same answer every time: the host caches it.
	Describe(ctx context.Context) (Info, error)

	// Validate checks params for operation op without touching pixels and
	// returns nil or an error that matches ErrInvalidParams (normally a
	// *ParamsError). Most plugins return CheckParams(info, op, p) and add
	// checks that involve several parameters.
	Validate(ctx context.Context, op string, p Params) error

	// Transform runs one operation. It returns a new image or an error that
	// matches ErrInvalidParams, ErrUnsupportedInput or ErrInternal, or the
	// context's error when ctx ends first; anything else is reported as
	// ErrInternal. It should check ctx between steps of a long computation
	// so that a cancelled job stops promptly.
	Transform(ctx context.Context, req Request) (*image.NRGBA, error)
}

// Request is one call of Transform.
type Request struct {
	// Operation is one of the operation names from Describe.
	Operation string

	// Params has been checked against the operation's declared parameters
	// and completed with their defaults when the request arrives over gRPC.
	// A transformer that is also called in process should call
	// ResolveParams itself; doing it twice is harmless.
	Params Params

	// Image is the input: 8 bits per channel, alpha not premultiplied
	// (the layout image/png and image/gif decoders produce and encoders
	// want), with EXIF orientation already applied. Its Rect need not start
	// at (0, 0). Treat it as read-only (in process it is the host's image)
	// and do not use it after Transform returns (over gRPC it is a mapping
	// of the host's file, which the SDK reuses for the next call).
	//
	// NRGBA rather than RGBA because every step of a recipe hands its
	// result to the next and to the encoder; converting to and from
	// premultiplied alpha at each plugin boundary would lose precision in
	// translucent pixels. Plugins that resample (where premultiplied maths
	// is right) convert internally, as golang.org/x/image/draw does.
	Image *image.NRGBA

	// Assets are named extra inputs as encoded bytes, for example a
	// watermark PNG: for every parameter declared with Asset that the step
	// sets, the host loads the file the value names and puts its bytes here
	// under the parameter's name. Nil when the step has none. The bytes
	// are untrusted input: check sizes before decoding them.
	Assets map[string][]byte
}

// Info is what a plugin says about itself.
type Info struct {
	// Name is short, lowercase and unique among the host's plugins.
	Name string
	// Version is the plugin's semantic version, e.g. "1.0.0".
	Version string
	// Operations are the operations the plugin offers; recipes name them.
	Operations []Operation
}

// Operation looks up an operation by name.
func (i Info) Operation(name string) (Operation, bool) {
	for _, op := range i.Operations {
		if op.Name == name {
			return op, true
		}
	}
	return Operation{}, false
}

// Operation is one transformation a plugin offers.
type Operation struct {
	Name string
	// Doc is one line, shown in the recipe step reference.
	Doc    string
	Params []Param
}

// Param declares one parameter of an operation. The same declaration is
// used by the host to lint recipes, by CheckParams on both sides of the
// process boundary, and to generate the recipe documentation.
type Param struct {
	Name string
	Type ParamType
	// Doc is one line.
	Doc string
	// Default is used when the parameter is absent; nil for none. Its Go
	// type follows Type: int, float64, bool, string, string (enum), or
	// color.NRGBA.
	Default any
	// Min and Max are inclusive bounds for Int and Float parameters; nil
	// for none.
	Min, Max *float64
	// Enum lists the allowed values of an Enum parameter.
	Enum []string
	// Required parameters have no default and must be given.
	Required bool
	// Asset, for TypeString parameters only: the value names a file — a
	// local path, or s3://bucket/key or a key in the source bucket — that
	// the host loads and passes in Request.Assets under the parameter's
	// name. Plugins never read files or S3 themselves.
	Asset bool
}

// Bound returns a pointer to v, for Param.Min and Param.Max.
func Bound(v float64) *float64 { return &v }

// ParamType is the type of a parameter's value.
type ParamType int

// The parameter types. The Go type a transformer reads with the Params
// getters is given for each.
const (
	TypeInvalid ParamType = iota
	TypeInt               // int
	TypeFloat             // float64; ints are accepted
	TypeBool              // bool
	TypeString            // string
	TypeEnum              // string, one of Param.Enum
	TypeColor             // color.NRGBA; "#rrggbb" style strings are accepted
)

func (t ParamType) String() string {
	switch t {
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeBool:
		return "bool"
	case TypeString:
		return "string"
	case TypeEnum:
		return "enum"
	case TypeColor:
		return "color"
	}
	return fmt.Sprintf("ParamType(%d)", int(t))
}
