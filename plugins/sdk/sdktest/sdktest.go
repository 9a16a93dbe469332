// Package sdktest is the conformance suite every resizer plugin runs from
// its own tests:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, func() sdk.Transformer { return myplugin.New() },
//			sdktest.Case{Name: "half", Operation: "blur", Params: sdk.Params{"radius": 2}},
//		)
//	}
//
// Run serves the transformer over the real gRPC path, in process (go-plugin's
// TestPluginGRPCConn, the SDK's shims, shared memory files for pixels), and
// checks that Describe is well formed, that invalid parameters derived from
// the declaration are refused with sdk.ErrInvalidParams, that each Case's
// output is within bounds and deterministic and the same in and out of
// process, that cancellation is honoured, that an image larger than gRPC's
// 4 MiB message cap goes through, and that no shared file is left behind.
package sdktest

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// Case is one transformation the suite runs.
type Case struct {
	Name      string
	Operation string
	// Params must be valid; the suite also derives invalid ones from them.
	Params sdk.Params
	// Input defaults to Gradient(64, 48).
	Input  *image.NRGBA
	Assets map[string][]byte
	// WantSize, when not zero, is the exact output size.
	WantSize image.Point
	// MaxSize, when not zero, bounds the output size; otherwise the
	// output may be at most 8 times the input on each side.
	MaxSize image.Point
}

// Timeouts of the cancellation checks.
const (
	cancelAfter   = 20 * time.Millisecond
	promptReturn  = 2 * time.Second
	leftoverGrace = 5 * time.Second
)

// Run runs the conformance suite. newT is called for each transformer the
// suite needs (one behind gRPC, one called directly); at least one Case is
// required.
func Run(t *testing.T, newT func() sdk.Transformer, cases ...Case) {
	t.Helper()
	if len(cases) == 0 {
		t.Fatal("sdktest.Run: give at least one Case")
	}
	dir := sharedDir(t)
	remote := Connect(t, newT(), dir)
	local := newT()
	ctx := t.Context()

	info, err := local.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe in process: %v", err)
	}

	t.Run("Describe", func(t *testing.T) {
		for _, problem := range CheckInfo(info) {
			t.Error(problem)
		}
		for _, c := range cases {
			for _, problem := range checkAssets(info, c) {
				t.Errorf("case %s: %s", c.Name, problem)
			}
		}
		got, err := remote.Describe(t.Context())
		if err != nil {
			t.Fatalf("Describe over gRPC: %v", err)
		}
		for _, problem := range sameInfo(info, got) {
			t.Errorf("over gRPC: %s", problem)
		}
	})

	t.Run("InvalidParams", func(t *testing.T) {
		for _, c := range cases {
			if err := remote.Validate(t.Context(), c.Operation, c.Params); err != nil {
				t.Errorf("case %s: its params are refused: %v", c.Name, err)
			}
		}
		for _, bad := range invalidParams(info, cases) {
			t.Run(bad.name, func(t *testing.T) {
				if err := sdk.CheckParams(info, bad.op, bad.params); !errors.Is(err, sdk.ErrInvalidParams) {
					t.Errorf("sdk.CheckParams(%v) = %v, want sdk.ErrInvalidParams", bad.params, err)
				}
				err := remote.Validate(t.Context(), bad.op, bad.params)
				checkRefused(t, "Validate", err, bad.field)
				_, err = remote.Transform(t.Context(), sdk.Request{Operation: bad.op, Params: bad.params, Image: Gradient(16, 12)})
				checkRefused(t, "Transform", err, bad.field)
			})
		}
	})

	for _, c := range cases {
		t.Run("Case/"+c.Name, func(t *testing.T) {
			req := c.request()
			first, err := remote.Transform(t.Context(), req)
			if err != nil {
				t.Fatalf("Transform over gRPC: %v", err)
			}
			c.checkBounds(t, req.Image, first)
			second, err := remote.Transform(t.Context(), req)
			if err != nil {
				t.Fatalf("second Transform over gRPC: %v", err)
			}
			if diff := Diff(first, second); diff != "" {
				t.Errorf("not deterministic: two calls differ: %s", diff)
			}
			direct, err := local.Transform(t.Context(), req)
			if err != nil {
				t.Fatalf("Transform in process: %v", err)
			}
			if diff := Diff(direct, first); diff != "" {
				t.Errorf("in process and over gRPC differ: %s", diff)
			}
		})
	}

	t.Run("Cancellation", func(t *testing.T) {
		c := cases[0]
		req := c.request()
		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		for name, tr := range map[string]sdk.Transformer{"in process": local, "over gRPC": remote} {
			start := time.Now()
			_, err := tr.Transform(cancelled, req)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: Transform with a cancelled context = %v, want context.Canceled", name, err)
			}
			if d := time.Since(start); d > promptReturn {
				t.Errorf("%s: Transform with a cancelled context took %v", name, d)
			}
		}
		// Cancel part way through a large image.
		req.Image = Gradient(3000, 2000)
		for name, tr := range map[string]sdk.Transformer{"in process": local, "over gRPC": remote} {
			ctx, cancel := context.WithCancel(t.Context())
			cancelledAt := make(chan time.Time, 1)
			timer := time.AfterFunc(cancelAfter, func() { cancelledAt <- time.Now(); cancel() })
			_, err := tr.Transform(ctx, req)
			returned := time.Now()
			if timer.Stop() {
				t.Logf("%s: finished within %v, before the cancellation", name, cancelAfter)
				cancel()
				continue
			}
			at := <-cancelledAt
			cancel()
			if err == nil {
				// It may have finished just as the cancellation came.
				t.Logf("%s: finished despite the cancellation", name)
				continue
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: cancelled Transform = %v, want context.Canceled", name, err)
			}
			if d := returned.Sub(at); d > promptReturn {
				t.Errorf("%s: returned %v after the cancellation", name, d)
			}
		}
	})

	t.Run("LargeImage", func(t *testing.T) {
		// 2048x1536x4 bytes is three times gRPC's default message cap.
		c := cases[0]
		req := c.request()
		req.Image = Gradient(2048, 1536)
		out, err := remote.Transform(t.Context(), req)
		if err != nil {
			t.Fatalf("Transform of %v over gRPC: %v", req.Image.Rect.Size(), err)
		}
		c.WantSize = image.Point{}
		c.checkBounds(t, req.Image, out)
	})

	t.Run("NoLeftoverFiles", func(t *testing.T) {
		// A cancelled call may still be writing its output; give it time.
		deadline := time.Now().Add(leftoverGrace)
		for {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) == 0 {
				return
			}
			if time.Now().After(deadline) {
				for _, e := range entries {
					t.Errorf("left behind in the shared directory: %s", e.Name())
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Connect serves impl over gRPC in process, through go-plugin's
// TestPluginGRPCConn and the SDK's shims, and returns the host's view of
// it. Pixels go through files in sharedDir ("" for the SDK's default). The
// connection is closed when the test ends.
func Connect(t testing.TB, impl sdk.Transformer, sharedDir string) sdk.Transformer {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		sdk.PluginName: &sdk.GRPCPlugin{Impl: impl, SharedDir: sharedDir},
	})
	// Close asks the server to shut down through go-plugin's controller;
	// stopping the server here as well races with that inside go-plugin.
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense %s: %v", sdk.PluginName, err)
	}
	tr, ok := raw.(sdk.Transformer)
	if !ok {
		t.Fatalf("dispensed %T, not an sdk.Transformer", raw)
	}
	return tr
}

// sharedDir makes a private directory for the suite's shared files, on a
// memory file system when there is one, so that leftovers can be counted.
func sharedDir(t *testing.T) string {
	base := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "sdktest-")
	if err != nil {
		dir, err = os.MkdirTemp("", "sdktest-")
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func (c Case) request() sdk.Request {
	in := c.Input
	if in == nil {
		in = Gradient(64, 48)
	}
	return sdk.Request{Operation: c.Operation, Params: c.Params, Image: in, Assets: c.Assets}
}

func (c Case) checkBounds(t *testing.T, in, out *image.NRGBA) {
	t.Helper()
	if out == nil {
		t.Fatal("Transform returned a nil image and no error")
	}
	size := out.Rect.Size()
	if size.X <= 0 || size.Y <= 0 {
		t.Fatalf("output is empty: %v", out.Rect)
	}
	if len(out.Pix) < out.PixOffset(out.Rect.Max.X-1, out.Rect.Max.Y-1)+4 {
		t.Fatalf("output %v has %d bytes of pixels, too few", out.Rect, len(out.Pix))
	}
	if c.WantSize != (image.Point{}) && size != c.WantSize {
		t.Errorf("output size %v, want %v", size, c.WantSize)
	}
	limit := c.MaxSize
	if limit == (image.Point{}) {
		limit = in.Rect.Size().Mul(8)
	}
	if size.X > limit.X || size.Y > limit.Y {
		t.Errorf("output size %v exceeds %v", size, limit)
	}
}

func checkRefused(t *testing.T, call string, err error, field string) {
	t.Helper()
	if !errors.Is(err, sdk.ErrInvalidParams) {
		t.Errorf("%s = %v, want an error matching sdk.ErrInvalidParams", call, err)
		return
	}
	var pe *sdk.ParamsError
	if !errors.As(err, &pe) {
		t.Errorf("%s = %v (%T), want a *sdk.ParamsError with field detail", call, err, err)
		return
	}
	for _, f := range pe.Fields {
		if f.Field == field {
			return
		}
	}
	t.Errorf("%s: %v names no problem with %q", call, err, field)
}

type badParams struct {
	name   string
	op     string
	field  string
	params sdk.Params
}

// invalidParams derives invalid parameter sets from the declaration: for
// every parameter a value of the wrong type, values just out of range,
// an unknown enum value; and an unknown parameter per operation.
func invalidParams(info sdk.Info, cases []Case) []badParams {
	base := map[string]sdk.Params{}
	for _, c := range cases {
		if _, ok := base[c.Operation]; !ok {
			base[c.Operation] = c.Params
		}
	}
	var out []badParams
	add := func(op, name, field string, v any) {
		p := sdk.Params{}
		for k, v := range base[op] {
			p[k] = v
		}
		p[field] = v
		out = append(out, badParams{name: op + "/" + name, op: op, field: field, params: p})
	}
	for _, op := range info.Operations {
		add(op.Name, "unknown-param", "no_such_param_sdktest", 1)
		for _, p := range op.Params {
			switch p.Type {
			case sdk.TypeInt, sdk.TypeFloat:
				add(op.Name, p.Name+"/wrong-type", p.Name, "not a number")
				if p.Min != nil {
					add(op.Name, p.Name+"/below-min", p.Name, below(p, *p.Min))
				}
				if p.Max != nil {
					add(op.Name, p.Name+"/above-max", p.Name, above(p, *p.Max))
				}
				if p.Type == sdk.TypeInt {
					add(op.Name, p.Name+"/fraction", p.Name, 1.5)
				}
			case sdk.TypeBool:
				add(op.Name, p.Name+"/wrong-type", p.Name, "yes")
			case sdk.TypeString:
				add(op.Name, p.Name+"/wrong-type", p.Name, 42)
			case sdk.TypeEnum:
				add(op.Name, p.Name+"/wrong-type", p.Name, 42)
				add(op.Name, p.Name+"/unknown-value", p.Name, "no-such-value-sdktest")
			case sdk.TypeColor:
				add(op.Name, p.Name+"/wrong-type", p.Name, true)
				add(op.Name, p.Name+"/malformed", p.Name, "#12345")
			}
		}
	}
	return out
}

func below(p sdk.Param, min float64) any {
	if p.Type == sdk.TypeInt {
		return int(math.Ceil(min)) - 1
	}
	return min - math.Max(1, math.Abs(min))
}

func above(p sdk.Param, max float64) any {
	if p.Type == sdk.TypeInt {
		return int(math.Floor(max)) + 1
	}
	return max + math.Max(1, math.Abs(max))
}

var (
	namePattern   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	semverPattern = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

// CheckInfo returns what is wrong with a plugin's declaration, in words
// for its author; nil when it is well formed.
func CheckInfo(info sdk.Info) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !namePattern.MatchString(info.Name) {
		bad("plugin name %q: want lowercase letters, digits, '-' or '_', starting with a letter", info.Name)
	}
	if !semverPattern.MatchString(info.Version) {
		bad("plugin version %q is not a semantic version like 1.2.3", info.Version)
	}
	if len(info.Operations) == 0 {
		bad("plugin declares no operations")
	}
	ops := map[string]bool{}
	for _, op := range info.Operations {
		if !namePattern.MatchString(op.Name) {
			bad("operation name %q: want lowercase letters, digits, '-' or '_', starting with a letter", op.Name)
		}
		if ops[op.Name] {
			bad("operation %q is declared twice", op.Name)
		}
		ops[op.Name] = true
		if op.Doc == "" {
			bad("operation %q has no doc", op.Name)
		}
		params := map[string]bool{}
		for _, p := range op.Params {
			where := fmt.Sprintf("%s.%s", op.Name, p.Name)
			if !namePattern.MatchString(p.Name) {
				bad("parameter %q: want lowercase letters, digits, '-' or '_', starting with a letter", where)
			}
			if params[p.Name] {
				bad("parameter %s is declared twice", where)
			}
			params[p.Name] = true
			if p.Doc == "" {
				bad("parameter %s has no doc", where)
			}
			if p.Type < sdk.TypeInt || p.Type > sdk.TypeColor {
				bad("parameter %s has an invalid type %v", where, p.Type)
				continue
			}
			numeric := p.Type == sdk.TypeInt || p.Type == sdk.TypeFloat
			if !numeric && (p.Min != nil || p.Max != nil) {
				bad("parameter %s: min/max only apply to int and float", where)
			}
			if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
				bad("parameter %s: min %g is above max %g", where, *p.Min, *p.Max)
			}
			if (p.Type == sdk.TypeEnum) != (len(p.Enum) > 0) {
				bad("parameter %s: enum values are for (and required by) enum parameters", where)
			}
			if p.Asset && p.Type != sdk.TypeString {
				bad("parameter %s: only string parameters can be assets", where)
			}
			if p.Required && p.Default != nil {
				bad("parameter %s is required and has a default", where)
			}
			if p.Default != nil {
				one := sdk.Info{Name: info.Name, Operations: []sdk.Operation{{Name: op.Name, Params: []sdk.Param{p}}}}
				if err := sdk.CheckParams(one, op.Name, sdk.Params{p.Name: p.Default}); err != nil {
					bad("parameter %s: default %v (%T) does not fit the declaration: %v", where, p.Default, p.Default, err)
				}
			}
		}
	}
	return problems
}

// checkAssets reports assets of a Case that no asset parameter of its
// operation names: the host would never send them.
func checkAssets(info sdk.Info, c Case) []string {
	op, ok := info.Operation(c.Operation)
	if !ok {
		return nil // refused elsewhere, with a better message
	}
	var problems []string
	for name := range c.Assets {
		i := slices.IndexFunc(op.Params, func(p sdk.Param) bool { return p.Name == name })
		if i < 0 || !op.Params[i].Asset {
			problems = append(problems, fmt.Sprintf("asset %q is not an asset parameter of %s", name, op.Name))
		}
	}
	slices.Sort(problems)
	return problems
}

// sameInfo compares the declaration seen over gRPC with the original.
func sameInfo(want, got sdk.Info) []string {
	var problems []string
	if want.Name != got.Name || want.Version != got.Version {
		problems = append(problems, fmt.Sprintf("plugin %s %s, want %s %s", got.Name, got.Version, want.Name, want.Version))
	}
	if len(want.Operations) != len(got.Operations) {
		return append(problems, fmt.Sprintf("%d operations, want %d", len(got.Operations), len(want.Operations)))
	}
	for i, w := range want.Operations {
		g := got.Operations[i]
		if w.Name != g.Name || w.Doc != g.Doc || len(w.Params) != len(g.Params) {
			problems = append(problems, fmt.Sprintf("operation %q differs", w.Name))
			continue
		}
		for j, wp := range w.Params {
			gp := g.Params[j]
			same := wp.Name == gp.Name && wp.Type == gp.Type && wp.Doc == gp.Doc && wp.Required == gp.Required && wp.Asset == gp.Asset &&
				fmt.Sprint(wp.Enum) == fmt.Sprint(gp.Enum) && sameBound(wp.Min, gp.Min) && sameBound(wp.Max, gp.Max) &&
				sameDefault(wp, gp)
			if !same {
				problems = append(problems, fmt.Sprintf("parameter %s.%s differs: %+v, want %+v", w.Name, wp.Name, gp, wp))
			}
		}
	}
	return problems
}

func sameBound(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func sameDefault(want, got sdk.Param) bool {
	if (want.Default == nil) != (got.Default == nil) {
		return false
	}
	if want.Default == nil {
		return true
	}
	one := func(p sdk.Param) any {
		op := sdk.Info{Operations: []sdk.Operation{{Name: "x", Params: []sdk.Param{p}}}}
		resolved, err := sdk.ResolveParams(op, "x", nil)
		if err != nil {
			return err.Error()
		}
		return resolved[p.Name]
	}
	return fmt.Sprint(one(want)) == fmt.Sprint(one(got))
}

// Gradient returns a w x h test image with smooth colour and alpha ramps
// and some texture, the same every time.
func Gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			i := x * 4
			row[i+0] = uint8(x * 255 / max(1, w-1))
			row[i+1] = uint8(y * 255 / max(1, h-1))
			row[i+2] = uint8((x ^ y) & 0xff)
			row[i+3] = uint8(255 - (x+y)%64)
		}
	}
	return img
}

// Diff describes how two images differ, or returns "" when they have the
// same size and the same pixels.
func Diff(a, b *image.NRGBA) string {
	if a == nil || b == nil {
		return fmt.Sprintf("nil image (%v, %v)", a == nil, b == nil)
	}
	if a.Rect.Size() != b.Rect.Size() {
		return fmt.Sprintf("sizes %v and %v", a.Rect.Size(), b.Rect.Size())
	}
	w, h := a.Rect.Dx(), a.Rect.Dy()
	differ := 0
	first := image.Point{-1, -1}
	for y := 0; y < h; y++ {
		ra := a.Pix[a.PixOffset(a.Rect.Min.X, a.Rect.Min.Y+y):][:w*4]
		rb := b.Pix[b.PixOffset(b.Rect.Min.X, b.Rect.Min.Y+y):][:w*4]
		for x := 0; x < w; x++ {
			if [4]byte(ra[x*4:x*4+4]) != [4]byte(rb[x*4:x*4+4]) {
				if differ == 0 {
					first = image.Pt(x, y)
				}
				differ++
			}
		}
	}
	if differ == 0 {
		return ""
	}
	return fmt.Sprintf("%d pixels differ, first at %v", differ, first)
}
