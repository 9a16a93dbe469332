package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/pipeline"
	"github.com/seed62486500/resizer/engine/recipe"
)

const processUsage = `Usage: resizer process [--config FILE] [--recipes DIR] [--key KEY] [--html] FILE... -o OUTDIR

Runs the recipe that matches each file's key on the file, through the same
pipeline and plugins as the daemon, and writes the outputs under OUTDIR at
their output keys. Nothing is read from or written to AWS.

A file's key is its base name, or --key: the key itself for a single file,
or for a KEY ending in "/", that folder plus the file's base name.
`

// processed is one source and what its recipe made of it, for the report
// and the contact sheet.
type processed struct {
	Key, File   string // the source key, and its copy under OUTDIR
	Bytes       int64
	Info        imaging.Info
	Recipe      *recipe.Recipe
	Outputs     []pipeline.Rendered
	OutputFiles []string // beside Outputs, relative to OUTDIR
}

func cmdProcess(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer process", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, processUsage, "\nFlags:\n"); fs.PrintDefaults() }
	file := fs.String("config", "", "YAML configuration `file` (plugins, output_prefix, default_recipe, limits)")
	dir := fs.String("recipes", "", "recipes `directory` (default: the configuration's recipes_dir)")
	key := fs.String("key", "", "source `key` to match the recipes with (default: the file's base name)")
	out := fs.String("o", "", "output `directory` (required)")
	html := fs.Bool("html", false, "also write OUTDIR/index.html, a contact sheet of every source and output")
	// Flags may come after the files: "process a.jpg b.jpg -o out".
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) == 0 || *out == "" {
		fs.Usage()
		return exitUsage
	}
	if *key != "" && !strings.HasSuffix(*key, "/") && len(files) > 1 {
		fmt.Fprintln(stderr, "resizer process: --key names one source; end it with / to use it as a folder for several files")
		return exitUsage
	}
	cfg, err := config.Load(*file, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	if *dir != "" {
		cfg.RecipesDir = *dir
	}
	ctx, stop := signalContext()
	defer stop()
	host, err := startPlugins(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "resizer: plugins: %v\n", err)
		return exitFailure
	}
	defer host.Close()
	set, err := daemon.LoadRecipes(ctx, cfg, host)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		printProblems(stderr, err)
		fmt.Fprintf(stderr, "resizer: the recipes in %s have problems\n", cfg.RecipesDir)
		return exitFailure
	}
	p := pipeline.New(nil, nil, set, pipeline.Options{
		OutputPrefix: cfg.OutputPrefix,
		CacheControl: cfg.CacheControl,
		Limits:       imaging.Limits{MaxPixels: cfg.MaxPixels},
		Plugins:      host,
		SourceImage:  host.NewImage,
		Assets:       pipeline.NewAssets(nil, cfg.RecipesDir),
		Logger:       hclog.New(&hclog.LoggerOptions{Name: "resizer", Output: stderr, Level: hclog.Warn}),
	})
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitFailure
	}

	var done []processed
	failed := 0
	for _, f := range files {
		k := filepath.Base(f)
		switch {
		case strings.HasSuffix(*key, "/"):
			k = *key + k
		case *key != "":
			k = *key
		}
		res, err := processFile(ctx, p, set, cfg, f, k, *out)
		if err != nil {
			fmt.Fprintf(stderr, "resizer: %s: %v\n", f, err)
			failed++
			continue
		}
		done = append(done, res)
		fmt.Fprintf(stdout, "%s (key %s): recipe %s, %dx%d %s\n", f, res.Key, res.Recipe.Name, res.Info.Width, res.Info.Height, res.Info.Format)
		for i, o := range res.Outputs {
			fmt.Fprintf(stdout, "  %-10s %5dx%-5d %-4s %8d bytes  %s\n", o.Name, o.Width, o.Height, o.Format, o.Bytes, filepath.Join(*out, res.OutputFiles[i]))
		}
	}
	if *html && len(done) > 0 {
		index := filepath.Join(*out, "index.html")
		if err := writeContactSheet(index, done); err != nil {
			fmt.Fprintf(stderr, "resizer: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "contact sheet: %s\n", index)
	}
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}

// processFile runs key's recipe on file and writes the source and the
// outputs under outDir.
func processFile(ctx context.Context, p *pipeline.Pipeline, set *recipe.Set, cfg config.Config, file, key, outDir string) (processed, error) {
	res := processed{Key: key}
	if strings.HasPrefix(key, cfg.OutputPrefix) {
		return res, fmt.Errorf("key %q is under the output prefix %q, which the daemon never processes", key, cfg.OutputPrefix)
	}
	r, ok := set.Match(key)
	if !ok {
		return res, fmt.Errorf("no recipe matches the key %q (the daemon would skip it; see \"resizer recipes match\")", key)
	}
	res.Recipe = r
	st, err := os.Stat(file)
	if err != nil {
		return res, err
	}
	if st.Size() > cfg.MaxObjectBytes {
		return res, fmt.Errorf("%d bytes is over max_object_bytes (%d)", st.Size(), cfg.MaxObjectBytes)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return res, err
	}
	res.Bytes = int64(len(data))
	res.Info, res.Outputs, err = p.Render(ctx, key, r, bytes.NewReader(data))
	if err != nil {
		return res, err
	}
	for _, o := range res.Outputs {
		rel, err := writeFile(outDir, o.Key, o.Body)
		if err != nil {
			return res, err
		}
		res.OutputFiles = append(res.OutputFiles, rel)
	}
	res.File, err = writeFile(outDir, path.Join("source", key), data)
	return res, err
}

// localPath is where key is written under dir, refusing keys that would
// land outside it.
func localPath(dir, key string) (string, string, error) {
	if !filepath.IsLocal(filepath.FromSlash(key)) || strings.Contains(key, `\`) {
		return "", "", fmt.Errorf("key %q cannot be written under %s", key, dir)
	}
	rel := filepath.FromSlash(key)
	return filepath.Join(dir, rel), rel, nil
}

func writeFile(dir, key string, data []byte) (string, error) {
	full, rel, err := localPath(dir, key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return "", err
	}
	return rel, os.WriteFile(full, data, 0o644)
}

// fileURL is rel (a path under the contact sheet's folder) as a relative
// URL, each segment escaped.
func fileURL(rel string) string {
	segs := strings.Split(filepath.ToSlash(rel), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return path.Join(segs...)
}

var sheet = template.Must(template.New("sheet").Funcs(template.FuncMap{
	"url":  fileURL,
	"size": humanBytes,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>resizer contact sheet</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #f4f4f4; }
h1 { font-size: 20px; margin: 0 0 16px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; margin-bottom: 20px; }
h2 { font-size: 16px; margin: 0 0 4px; word-break: break-all; }
.meta { color: #666; margin: 0 0 12px; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; padding: 8px; border: 1px solid #e4e4e4; border-radius: 4px; background: repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
figure.source { border-color: #8ab; }
img { display: block; max-width: 360px; max-height: 360px; }
figcaption { background: #fff; margin-top: 6px; font-size: 12px; max-width: 360px; word-break: break-all; }
figcaption b { font-size: 13px; }
</style>
</head>
<body>
<h1>resizer contact sheet: {{len .}} source{{if ne (len .) 1}}s{{end}}</h1>
<p class="meta">Images are shown at most 360 pixels wide or high; the captions give their real dimensions and sizes.</p>
{{range .}}<section>
<h2>{{.Key}}</h2>
<p class="meta">recipe {{.Recipe.Name}} ({{.Recipe.File}}, digest {{.Recipe.Digest}})</p>
<div class="row">
<figure class="source"><img src="{{url .File}}" alt="source {{.Key}}"><figcaption><b>source</b> · {{.Info.Width}}×{{.Info.Height}} · {{.Info.Format}} · {{size .Bytes}}</figcaption></figure>
{{$files := .OutputFiles}}{{range $i, $o := .Outputs}}<figure><img src="{{url (index $files $i)}}" alt="{{$o.Name}}"><figcaption><b>{{$o.Name}}</b> · {{$o.Width}}×{{$o.Height}} · {{$o.Format}} · {{size $o.Bytes}}<br>{{$o.Key}}<br>Content-Type: {{$o.ContentType}}<br>Cache-Control: {{$o.CacheControl}}</figcaption></figure>
{{end}}</div>
</section>
{{end}}</body>
</html>
`))

func writeContactSheet(file string, done []processed) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := sheet.Execute(f, done); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	return f.Close()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB (%d bytes)", float64(n)/(1<<20), n)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB (%d bytes)", float64(n)/(1<<10), n)
	}
	return fmt.Sprintf("%d bytes", n)
}
