// Command testplugin is a plugin for the pluginhost tests. Its operations
// misbehave on purpose: crash, hang, report their environment. It imports
// only the SDK and the standard library, like a third party's plugin.
//
// Its first argument, when given, is the name it describes itself under,
// so that one binary can stand for two plugins. With the argument
// "--no-handshake" it never answers the host.
package main

import (
	"context"
	"fmt"
	"image"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seed62486500/resizer/plugins/sdk"
)

type testPlugin struct{ info sdk.Info }

func newTestPlugin(name string) testPlugin {
	return testPlugin{info: sdk.Info{
		Name:    name,
		Version: "0.1.0",
		Operations: []sdk.Operation{
			{Name: "identity", Doc: "Return the input.", Params: []sdk.Param{
				{Name: "level", Type: sdk.TypeInt, Default: 0, Min: sdk.Bound(0), Max: sdk.Bound(10), Doc: "Ignored; for validation tests."},
				{Name: "max_width", Type: sdk.TypeInt, Default: 0, Min: sdk.Bound(0), Doc: "Refuse wider images as unsupported input; 0 for no limit."},
				{Name: "marker", Type: sdk.TypeString, Default: "", Doc: "Printed on stdout, when not empty."},
			}},
			{Name: "sleep", Doc: "Return the input after a pause that honours cancellation.", Params: []sdk.Param{
				{Name: "ms", Type: sdk.TypeInt, Default: 0, Min: sdk.Bound(0), Doc: "Pause in milliseconds."},
			}},
			{Name: "crash", Doc: "Exit the process in the middle of the call."},
			{Name: "hang", Doc: "Never return, ignoring cancellation."},
			{Name: "panic", Doc: "Panic; the SDK logs it on stderr and fails the call.", Params: []sdk.Param{
				{Name: "marker", Type: sdk.TypeString, Default: "", Doc: "Part of the panic message."},
			}},
			{Name: "env", Doc: "Fail with the names of the process's environment variables."},
		},
	}}
}

func (p testPlugin) Describe(context.Context) (sdk.Info, error) { return p.info, nil }

func (p testPlugin) Validate(_ context.Context, op string, params sdk.Params) error {
	return sdk.CheckParams(p.info, op, params)
}

func (p testPlugin) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	switch req.Operation {
	case "identity":
		if m := req.Params.String("marker"); m != "" {
			fmt.Fprintln(os.Stdout, "stdout marker", m)
		}
		if w := req.Params.Int("max_width"); w > 0 && req.Image.Rect.Dx() > w {
			return nil, fmt.Errorf("%w: image is %d pixels wide, more than %d", sdk.ErrUnsupportedInput, req.Image.Rect.Dx(), w)
		}
	case "sleep":
		select {
		case <-time.After(time.Duration(req.Params.Int("ms")) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "crash":
		os.Exit(7)
	case "panic":
		panic("testplugin panics " + req.Params.String("marker"))
	case "hang":
		select {}
	case "env":
		var names []string
		for _, kv := range os.Environ() {
			name, _, _ := strings.Cut(kv, "=")
			names = append(names, name)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("%w: env: %s", sdk.ErrUnsupportedInput, strings.Join(names, ","))
	}
	out := image.NewNRGBA(req.Image.Rect)
	copy(out.Pix, req.Image.Pix)
	return out, nil
}

func main() {
	name := "testplugin"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	if name == "--no-handshake" {
		time.Sleep(time.Hour)
		return
	}
	sdk.Serve(newTestPlugin(name))
}
