package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/pluginhost"
	"github.com/seed62486500/resizer/plugins/bundle"
	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// stepsDocFile is the committed output of "resizer plugins docs".
const stepsDocFile = "recipes/STEPS.md"

const pluginsUsage = `Usage:
  resizer plugins list [--config FILE]   the daemon's plugins and their operations
  resizer plugins check PATH [ARG...]    try a plugin executable; prints its SHA-256
  resizer plugins docs [-o FILE]         markdown reference of every operation
`

func cmdPlugins(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, pluginsUsage)
		return exitUsage
	}
	switch args[0] {
	case "list":
		return cmdPluginsList(args[1:], stdout, stderr)
	case "check":
		return cmdPluginsCheck(args[1:], stdout, stderr)
	case "docs":
		return cmdPluginsDocs(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, pluginsUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "resizer plugins: unknown command %q\n\n%s", args[0], pluginsUsage)
	return exitUsage
}

// cmdPluginServe serves one of the compiled-in plugins; the daemon starts
// the binary this way ("resizer plugin serve NAME").
func cmdPluginServe(args []string, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "serve" {
		fmt.Fprintln(stderr, "Usage: resizer plugin serve NAME (started by the daemon, not by hand)")
		return exitUsage
	}
	t, ok := bundle.New(args[1])
	if !ok {
		fmt.Fprintf(stderr, "resizer plugin serve: no plugin %q in this binary (have: %s)\n", args[1], strings.Join(bundle.Names(), ", "))
		return exitUsage
	}
	sdk.Serve(t)
	return exitOK
}

func cmdPluginsList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer plugins list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file`")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := config.Load(*file, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	log := newLogger(cfg, stderr)
	opts, err := daemon.PluginOptions(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}
	ctx, stop := signalContext()
	defer stop()
	h, err := pluginhost.New(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}
	defer h.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tRUNS\tOPERATIONS")
	for _, p := range h.Plugins() {
		runs := "built in"
		if p.Kind == pluginhost.KindExternal {
			runs = p.Path
			if bundledName(p.Name) {
				runs += " (self-served)"
			}
		}
		ops := make([]string, 0, len(p.Operations))
		for _, op := range p.Operations {
			ops = append(ops, op.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Version, runs, strings.Join(ops, ", "))
	}
	if err := tw.Flush(); err != nil {
		return exitFailure
	}
	return exitOK
}

// smokeImage is what "plugins check" transforms.
const smokeW, smokeH = 64, 48

func cmdPluginsCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer plugins check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of the plugin's start and of each call")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "Usage: resizer plugins check [--timeout D] PATH [ARG...]\n")
		return exitUsage
	}
	path := fs.Arg(0)
	sum, err := pluginhost.FileSHA256(path)
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "sha256: %s\n", sum)

	ctx, stop := signalContext()
	defer stop()
	log := hclog.New(&hclog.LoggerOptions{Name: "check", Output: stderr, Level: hclog.Warn})
	h, err := pluginhost.Inspect(ctx, path, fs.Args()[1:], pluginhost.Options{StartTimeout: *timeout, CallTimeout: *timeout, Logger: log})
	if err != nil {
		fmt.Fprintf(stdout, "FAIL start: %v\n", err)
		return exitFailure
	}
	defer h.Close()
	p := h.Plugins()[0]
	fmt.Fprintf(stdout, "ok   handshake and describe: plugin %s %s, operations: %d\n", p.Name, p.Version, len(p.Operations))

	failed := false
	fail := func(format string, a ...any) {
		failed = true
		fmt.Fprintf(stdout, "FAIL "+format+"\n", a...)
	}
	problems := sdktest.CheckInfo(sdk.Info{Name: p.Name, Version: p.Version, Operations: p.Operations})
	for _, problem := range problems {
		fail("describe: %s", problem)
	}
	if len(problems) == 0 {
		fmt.Fprintln(stdout, "ok   description is well formed")
	}
	for _, op := range p.Operations {
		// Host.Transform hands an external plugin's parameters over as
		// they are, so this is the plugin's own refusal.
		bogus := sdk.Params{"no_such_parameter_resizer_check": 1}
		_, err := h.Transform(ctx, sdk.Request{Operation: op.Name, Params: bogus, Image: sdktest.Gradient(8, 8)})
		if errors.Is(err, sdk.ErrInvalidParams) {
			fmt.Fprintf(stdout, "ok   %s: an unknown parameter is refused\n", op.Name)
		} else {
			fail("%s: an unknown parameter gave %v, want an invalid-parameters error", op.Name, err)
		}
		var required []string
		for _, param := range op.Params {
			if param.Required {
				required = append(required, param.Name)
			}
		}
		if len(required) > 0 {
			fmt.Fprintf(stdout, "skip %s: transform needs %s\n", op.Name, strings.Join(required, ", "))
			continue
		}
		start := time.Now()
		out, err := h.Transform(ctx, sdk.Request{Operation: op.Name, Image: sdktest.Gradient(smokeW, smokeH)})
		switch {
		case errors.Is(err, sdk.ErrInvalidParams), errors.Is(err, sdk.ErrUnsupportedInput):
			fmt.Fprintf(stdout, "skip %s: with default parameters: %v\n", op.Name, err)
		case err != nil:
			fail("%s: transform of a %dx%d gradient: %v", op.Name, smokeW, smokeH, err)
		case out.Rect.Empty():
			fail("%s: transform returned an empty image", op.Name)
		default:
			fmt.Fprintf(stdout, "ok   %s: %dx%d gradient -> %dx%d in %v\n", op.Name, smokeW, smokeH,
				out.Rect.Dx(), out.Rect.Dy(), time.Since(start).Round(time.Millisecond))
		}
	}
	if failed {
		return exitFailure
	}
	fmt.Fprintf(stdout, "\nTo use it, add to the configuration:\n\nplugins:\n  - name: %s\n    path: %s\n    sha256: %s\n", p.Name, path, sum)
	return exitOK
}

func cmdPluginsDocs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer plugins docs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write to `file` instead of standard output (the committed copy is "+stepsDocFile+")")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	doc, err := stepsDoc(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}
	if *out == "" {
		_, err = stdout.Write(doc)
	} else {
		err = os.WriteFile(*out, doc, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// stepsDoc is the markdown reference of every operation of the plugins
// compiled into this binary, built in or self-served, from their own
// declarations.
func stepsDoc(ctx context.Context) ([]byte, error) {
	type owned struct {
		plugin sdk.Info
		op     sdk.Operation
		inProc bool
	}
	var ops []owned
	for _, name := range bundle.Names() {
		t, _ := bundle.New(name)
		info, err := t.Describe(ctx)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: describe: %w", name, err)
		}
		for _, op := range info.Operations {
			ops = append(ops, owned{info, op, bundle.InProcess(name)})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].op.Name < ops[j].op.Name })

	var b bytes.Buffer
	b.WriteString("<!-- Code generated by \"resizer plugins docs\". DO NOT EDIT. -->\n\n")
	b.WriteString("# Recipe steps\n\n")
	b.WriteString("Every operation a recipe step can name, from the declarations of the plugins in the\n")
	b.WriteString("`resizer` binary. A step is a mapping with one key, the operation, whose value maps\n")
	b.WriteString("parameters to values:\n\n")
	b.WriteString("```yaml\nsteps:\n  - resize: {width: 1200}\n```\n\n")
	b.WriteString("Parameters left out take their default. Plugins added through the configuration\n")
	b.WriteString("are listed by `resizer plugins list`. Regenerate this file with\n")
	b.WriteString("`go run ./cmd/resizer plugins docs -o " + stepsDocFile + "`.\n\n")
	for _, o := range ops {
		fmt.Fprintf(&b, "## %s\n\n", o.op.Name)
		where := "runs in its own process, served by the resizer binary"
		if o.inProc {
			where = "built in, runs inside the daemon"
		}
		fmt.Fprintf(&b, "%s\n\nPlugin `%s` %s; %s.\n\n", mdText(o.op.Doc), o.plugin.Name, o.plugin.Version, where)
		if len(o.op.Params) == 0 {
			b.WriteString("No parameters.\n\n")
			continue
		}
		b.WriteString("| Parameter | Type | Default | Allowed | Required | Description |\n")
		b.WriteString("|---|---|---|---|---|---|\n")
		for _, p := range o.op.Params {
			required := "no"
			if p.Required {
				required = "yes"
			}
			typ := p.Type.String()
			if p.Asset {
				// The value names a file the daemon loads and hands over.
				typ += " (file)"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n",
				p.Name, typ, defaultText(p), allowedText(p), required, mdText(p.Doc))
		}
		b.WriteString("\n")
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n'), nil
}

func defaultText(p sdk.Param) string {
	switch v := p.Default.(type) {
	case nil:
		return ""
	case string:
		return "`" + strconv.Quote(v) + "`"
	case color.NRGBA:
		return fmt.Sprintf("`#%02x%02x%02x%02x`", v.R, v.G, v.B, v.A)
	case float64:
		return "`" + strconv.FormatFloat(v, 'g', -1, 64) + "`"
	default:
		return fmt.Sprintf("`%v`", v)
	}
}

func allowedText(p sdk.Param) string {
	num := func(f *float64) string { return strconv.FormatFloat(*f, 'g', -1, 64) }
	switch {
	case len(p.Enum) > 0:
		vals := make([]string, len(p.Enum))
		for i, v := range p.Enum {
			vals[i] = "`" + v + "`"
		}
		return strings.Join(vals, ", ")
	case p.Min != nil && p.Max != nil:
		return num(p.Min) + " to " + num(p.Max)
	case p.Min != nil:
		return "at least " + num(p.Min)
	case p.Max != nil:
		return "at most " + num(p.Max)
	case p.Type == sdk.TypeColor:
		return "`#rrggbb`, `#rrggbbaa`, `#rgb`, `transparent`, `white`, `black`"
	}
	return ""
}

// mdText keeps a line of prose from breaking a table.
func mdText(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func bundledName(name string) bool {
	_, ok := bundle.New(name)
	return ok
}
