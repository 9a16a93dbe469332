// Package bundle lists the plugins compiled into the resizer binary. resize
// runs inside the daemon; the others run in processes of their own, started
// from the same binary with "resizer plugin serve NAME" and treated exactly
// like a third party's plugin.
package bundle

import (
	"os"
	"sort"

	"github.com/seed62486500/resizer/plugins/resize"
	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/thumbnail"
	"github.com/seed62486500/resizer/plugins/watermark"
)

var plugins = map[string]func() sdk.Transformer{
	"resize":    func() sdk.Transformer { return resize.Transformer{} },
	"thumbnail": func() sdk.Transformer { return thumbnail.New() },
	"watermark": func() sdk.Transformer { return watermark.New() },
}

var inProcess = map[string]bool{"resize": true}

// Names lists the bundled plugins, sorted.
func Names() []string {
	names := make([]string, 0, len(plugins))
	for name := range plugins {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// New returns a new instance of the named plugin.
func New(name string) (sdk.Transformer, bool) {
	newT, ok := plugins[name]
	if !ok {
		return nil, false
	}
	return newT(), true
}

// InProcess reports whether the daemon runs the named plugin in its own
// process rather than serving it from a child process.
func InProcess(name string) bool { return inProcess[name] }

// ServeIfRequested serves a bundled plugin and exits when args (os.Args[1:])
// are "plugin serve NAME", and otherwise returns. The resizer binary starts
// itself that way; test binaries that stand in for it call this first.
func ServeIfRequested(args []string) {
	if len(args) != 3 || args[0] != "plugin" || args[1] != "serve" {
		return
	}
	t, ok := New(args[2])
	if !ok {
		os.Exit(2)
	}
	sdk.Serve(t)
	os.Exit(0)
}
