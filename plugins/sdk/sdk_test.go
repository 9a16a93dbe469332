package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// identity returns its input, or the error it is told to.
type identity struct{ fail error }

var identityInfo = sdk.Info{
	Name:    "identity",
	Version: "0.1.0",
	Operations: []sdk.Operation{{
		Name: "identity",
		Doc:  "Returns the image unchanged.",
		Params: []sdk.Param{
			{Name: "n", Type: sdk.TypeInt, Doc: "A number.", Default: 3, Min: sdk.Bound(0), Max: sdk.Bound(10)},
			{Name: "f", Type: sdk.TypeFloat, Doc: "A fraction.", Default: 0.5, Min: sdk.Bound(0), Max: sdk.Bound(1)},
			{Name: "b", Type: sdk.TypeBool, Doc: "A flag.", Default: true},
			{Name: "s", Type: sdk.TypeString, Doc: "A string."},
			{Name: "file", Type: sdk.TypeString, Doc: "A file the host loads.", Asset: true},
			{Name: "e", Type: sdk.TypeEnum, Doc: "A choice.", Default: "a", Enum: []string{"a", "b"}},
			{Name: "c", Type: sdk.TypeColor, Doc: "A colour.", Default: color.NRGBA{A: 255}},
		},
	}},
}

func (identity) Describe(context.Context) (sdk.Info, error) { return identityInfo, nil }

func (identity) Validate(_ context.Context, op string, p sdk.Params) error {
	return sdk.CheckParams(identityInfo, op, p)
}

func (t identity) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	if t.fail != nil {
		return nil, t.fail
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return req.Image, nil
}

func TestConformance(t *testing.T) {
	sdktest.Run(t, func() sdk.Transformer { return identity{} },
		sdktest.Case{Name: "defaults", Operation: "identity", WantSize: image.Pt(64, 48)},
		sdktest.Case{Name: "all", Operation: "identity", Params: sdk.Params{"n": 10, "f": 1, "b": false, "s": "x", "e": "b", "c": "#102030"}},
	)
}

func TestResolveParams(t *testing.T) {
	tests := []struct {
		name   string
		in     sdk.Params
		want   sdk.Params
		fields []string // fields named by the error; nil when valid
	}{
		{"defaults", nil,
			sdk.Params{"n": 3, "f": 0.5, "b": true, "e": "a", "c": color.NRGBA{A: 255}}, nil},
		{"spellings", sdk.Params{"n": int64(7), "f": 1, "c": "#fff", "s": "x"},
			sdk.Params{"n": 7, "f": 1.0, "b": true, "s": "x", "e": "a", "c": color.NRGBA{255, 255, 255, 255}}, nil},
		{"whole float as int", sdk.Params{"n": 4.0},
			sdk.Params{"n": 4, "f": 0.5, "b": true, "e": "a", "c": color.NRGBA{A: 255}}, nil},
		{"colour with alpha", sdk.Params{"c": "#11223344"},
			sdk.Params{"n": 3, "f": 0.5, "b": true, "e": "a", "c": color.NRGBA{0x11, 0x22, 0x33, 0x44}}, nil},
		{"every kind of wrong", sdk.Params{"n": 11, "f": "x", "b": 1, "s": 2, "e": "z", "c": "red", "zz": 1}, nil,
			[]string{"b", "c", "e", "f", "n", "s", "zz"}},
		{"fraction for int", sdk.Params{"n": 2.5}, nil, []string{"n"}},
		{"below min", sdk.Params{"f": -0.1}, nil, []string{"f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdk.ResolveParams(identityInfo, "identity", tt.in)
			if tt.fields == nil {
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				return
			}
			var pe *sdk.ParamsError
			if !errors.As(err, &pe) || !errors.Is(err, sdk.ErrInvalidParams) {
				t.Fatalf("err = %v, want a *ParamsError", err)
			}
			var fields []string
			for _, f := range pe.Fields {
				fields = append(fields, f.Field)
			}
			if fmt.Sprint(fields) != fmt.Sprint(tt.fields) {
				t.Errorf("fields %v, want %v (%v)", fields, tt.fields, err)
			}
		})
	}
	if err := sdk.CheckParams(identityInfo, "nope", nil); !errors.Is(err, sdk.ErrInvalidParams) || !strings.Contains(err.Error(), "unknown operation") {
		t.Errorf("unknown operation: %v", err)
	}
}

func TestParamsGetters(t *testing.T) {
	p := sdk.Params{"i": 3, "f": 2, "b": true, "s": "x", "c": "#ff0000"}
	if p.Int("i") != 3 || p.Float("f") != 2 || !p.Bool("b") || p.String("s") != "x" ||
		p.Color("c") != (color.NRGBA{255, 0, 0, 255}) || p.Int("missing") != 0 || p.Has("missing") {
		t.Errorf("getters disagree with %v", p)
	}
}

// TestErrorsCrossTheBoundary checks that each kind of error keeps its kind
// over gRPC.
func TestErrorsCrossTheBoundary(t *testing.T) {
	img := sdktest.Gradient(8, 8)
	tests := []struct {
		name string
		fail error
		want error
		code codes.Code
	}{
		{"unsupported", fmt.Errorf("too small: %w", sdk.ErrUnsupportedInput), sdk.ErrUnsupportedInput, codes.FailedPrecondition},
		{"internal", errors.New("boom"), sdk.ErrInternal, codes.Internal},
		{"explicit internal", fmt.Errorf("%w: disk", sdk.ErrInternal), sdk.ErrInternal, codes.Internal},
		{"params", &sdk.ParamsError{Operation: "identity", Fields: []sdk.FieldError{{Field: "n", Message: "is odd"}}}, sdk.ErrInvalidParams, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote := sdktest.Connect(t, identity{fail: tt.fail}, t.TempDir())
			_, err := remote.Transform(t.Context(), sdk.Request{Operation: "identity", Image: img})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), strings.TrimPrefix(tt.fail.Error(), "invalid parameters")) {
				t.Errorf("message %q lost the plugin's %q", err, tt.fail)
			}
			var pe *sdk.ParamsError
			if tt.want == sdk.ErrInvalidParams && (!errors.As(err, &pe) || pe.Operation != "identity" || pe.Fields[0].Field != "n") {
				t.Errorf("field detail lost: %#v", err)
			}
		})
	}
	// The plugin process gone: a status the host can tell apart.
	remote := sdktest.Connect(t, identity{fail: status.Error(codes.Unavailable, "gone")}, t.TempDir())
	_, err := remote.Transform(t.Context(), sdk.Request{Operation: "identity", Image: img})
	if status.Code(err) != codes.Unavailable || errors.Is(err, sdk.ErrInternal) {
		t.Errorf("unavailable plugin: %v (code %v)", err, status.Code(err))
	}
}

// TestFiftyMegapixels sends a 50 MP image (200 MB of pixels, fifty times
// gRPC's message cap) through the shared memory path and back.
func TestFiftyMegapixels(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 400 MB of pixels")
	}
	in := image.NewNRGBA(image.Rect(0, 0, 8660, 5774))
	for i := 0; i < len(in.Pix); i += 4093 {
		in.Pix[i] = uint8(i)
	}
	dir := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir = ""
	}
	remote := sdktest.Connect(t, identity{}, dir)
	out, err := remote.Transform(t.Context(), sdk.Request{Operation: "identity", Image: in})
	if err != nil {
		t.Fatal(err)
	}
	if diff := sdktest.Diff(in, out); diff != "" {
		t.Fatalf("round trip changed the image: %s", diff)
	}
}

// TestDependencies holds the line: the SDK pulls in neither the engine nor
// the AWS SDK.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./", "./sdktest").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/seed62486500/resizer/engine") || strings.HasPrefix(dep, "github.com/aws/") {
			t.Errorf("plugins/sdk depends on %s", dep)
		}
	}
}

// Benchmark of item 5: one Transform call of an identity transform on a
// 12 MP image, in process and over gRPC with shared memory.
func BenchmarkIdentity12MP(b *testing.B) {
	in := sdktest.Gradient(4000, 3000)
	req := sdk.Request{Operation: "identity", Image: in}
	run := func(b *testing.B, tr sdk.Transformer) {
		b.SetBytes(int64(len(in.Pix)))
		for b.Loop() {
			if _, err := tr.Transform(b.Context(), req); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("inprocess", func(b *testing.B) { run(b, identity{}) })
	b.Run("grpc", func(b *testing.B) { run(b, sdktest.Connect(b, identity{}, "")) })
}

// TestAssetCrossesDescribe checks that the host learns which parameters
// name files it must load.
func TestAssetCrossesDescribe(t *testing.T) {
	remote := sdktest.Connect(t, identity{}, t.TempDir())
	info, err := remote.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	op, _ := info.Operation("identity")
	for _, p := range op.Params {
		if want := p.Name == "file"; p.Asset != want {
			t.Errorf("parameter %s: Asset = %v over gRPC, want %v", p.Name, p.Asset, want)
		}
	}
}
