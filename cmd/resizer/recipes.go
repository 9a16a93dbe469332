package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/pluginhost"
	"github.com/seed62486500/resizer/engine/recipe"
)

const recipesUsage = `Usage:
  resizer recipes check [--config FILE] [DIR]                  check every recipe against the plugins
  resizer recipes match [--config FILE] [--recipes DIR] KEY... which recipe wins for each key, why, and its output keys

DIR defaults to the configuration's recipes_dir. recipes/README.md describes the format.
`

func cmdRecipes(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, recipesUsage)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return cmdRecipesCheck(args[1:], stdout, stderr)
	case "match":
		return cmdRecipesMatch(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, recipesUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "resizer recipes: unknown command %q\n\n%s", args[0], recipesUsage)
	return exitUsage
}

// startPlugins starts the plugins of cfg as the daemon does, logging only
// problems, so that recipes are checked against what production runs.
func startPlugins(ctx context.Context, cfg config.Config, stderr io.Writer) (*pluginhost.Host, error) {
	log := hclog.New(&hclog.LoggerOptions{Name: "resizer", Output: stderr, Level: hclog.Warn})
	opts, err := daemon.PluginOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	return pluginhost.New(ctx, opts)
}

// printProblems writes each problem of err on its own line.
func printProblems(w io.Writer, err error) int {
	n := 0
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintln(w, line)
			n++
		}
	}
	return n
}

func cmdRecipesCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer recipes check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file` (plugins, default_recipe)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "resizer recipes check: one directory at most, got %d\n", fs.NArg())
		return exitUsage
	}
	cfg, err := config.Load(*file, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "resizer: %v\n", err)
		return exitUsage
	}
	if fs.NArg() == 1 {
		cfg.RecipesDir = fs.Arg(0)
	}
	ctx, stop := signalContext()
	defer stop()
	host, err := startPlugins(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "resizer: plugins: %v\n", err)
		return exitFailure
	}
	defer host.Close()
	// The daemon's own loader, so that check and start agree.
	set, err := daemon.LoadRecipes(ctx, cfg, host)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		n := printProblems(stdout, err)
		fmt.Fprintf(stdout, "%s: %d %s\n", cfg.RecipesDir, n, plural(n, "problem", "problems"))
		return exitFailure
	}
	outputs := 0
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECIPE\tPRIORITY\tDIGEST\tOUTPUTS\tFILE")
	for _, r := range set.Recipes() {
		names := make([]string, len(r.Outputs))
		for i, o := range r.Outputs {
			names[i] = o.Name
		}
		outputs += len(r.Outputs)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.Name, r.Priority, r.Digest(), strings.Join(names, ", "), r.File)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%s: ok, %d %s with %d outputs\n", cfg.RecipesDir, len(set.Recipes()), plural(len(set.Recipes()), "recipe", "recipes"), outputs)
	return exitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func cmdRecipesMatch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resizer recipes match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file` (recipes_dir, output_prefix, default_recipe)")
	dir := fs.String("recipes", "", "recipes `directory` (default: the configuration's recipes_dir)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "Usage: resizer recipes match [--config FILE] [--recipes DIR] KEY...\n")
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
	set, err := recipe.Load(context.Background(), cfg.RecipesDir, recipe.LoadOptions{Fallback: cfg.DefaultRecipe})
	if err != nil {
		printProblems(stderr, err)
		fmt.Fprintf(stderr, "resizer: the recipes in %s have problems; see \"resizer recipes check\"\n", cfg.RecipesDir)
		return exitFailure
	}
	for i, key := range fs.Args() {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		explainMatch(stdout, set, cfg, key)
	}
	return exitOK
}

// explainMatch prints the recipe that wins key, why, the recipes it beat,
// and the keys its outputs would be written to.
func explainMatch(w io.Writer, set *recipe.Set, cfg config.Config, key string) {
	fmt.Fprintf(w, "%s\n", key)
	if strings.HasPrefix(key, cfg.OutputPrefix) {
		fmt.Fprintf(w, "  skipped: the key is under the output prefix %q, which is never processed\n", cfg.OutputPrefix)
		return
	}
	cands := set.Candidates(key)
	var kept, excluded []recipe.Candidate
	for _, c := range cands {
		if c.ExcludedBy != "" {
			excluded = append(excluded, c)
		} else {
			kept = append(kept, c)
		}
	}
	var win *recipe.Recipe
	switch {
	case len(kept) > 0:
		c := kept[0]
		win = c.Recipe
		fmt.Fprintf(w, "  recipe:  %s (%s, digest %s)\n", win.Name, win.File, win.Digest())
		fmt.Fprintf(w, "  why:     %s\n", whyWins(c, kept[1:]))
		for _, other := range kept[1:] {
			fmt.Fprintf(w, "  beats:   %s (priority %d, pattern %q)\n", other.Recipe.Name, other.Recipe.Priority, other.Pattern)
		}
	case set.Fallback() != nil:
		win = set.Fallback()
		fmt.Fprintf(w, "  recipe:  %s (%s, digest %s)\n", win.Name, win.File, win.Digest())
		fmt.Fprintf(w, "  why:     no recipe matches the key; default_recipe hands it to %s\n", win.Name)
	}
	for _, c := range excluded {
		fmt.Fprintf(w, "  excluded: %s matches %q but excludes the key with %q\n", c.Recipe.Name, c.Pattern, c.ExcludedBy)
	}
	if win == nil {
		fmt.Fprintln(w, "  skipped: no recipe matches the key (the outbox gets a skipped record, code no_recipe)")
		return
	}
	source := formatFromExt(key)
	fmt.Fprintln(w, "  outputs:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, o := range win.Outputs {
		format := o.TargetFormat(source)
		note := ""
		if o.Format == recipe.FormatSource {
			note = "\t(format source: taken from the key's extension)"
		}
		k := o.KeyOf(cfg.OutputPrefix, recipe.KeyVars{Source: key, Recipe: win.Name, Ext: o.Ext(source)})
		fmt.Fprintf(tw, "    %s\t%s\t%s%s\n", o.Name, format, k, note)
	}
	tw.Flush()
}

// whyWins explains, in one line, why c ranks first among the matching
// recipes, following the order of recipe.Set.Candidates.
func whyWins(c recipe.Candidate, others []recipe.Candidate) string {
	match := fmt.Sprintf("matches %q", c.Pattern)
	if len(others) == 0 {
		return match + "; the only recipe that matches"
	}
	next := others[0]
	switch {
	case c.Recipe.Priority != next.Recipe.Priority:
		return fmt.Sprintf("%s; priority %d is higher than %s's %d", match, c.Recipe.Priority, next.Recipe.Name, next.Recipe.Priority)
	case c.LiteralPrefix != next.LiteralPrefix:
		return fmt.Sprintf("%s; same priority as %s, and the pattern's literal prefix (%d characters) is longer than that of %q (%d)",
			match, next.Recipe.Name, c.LiteralPrefix, next.Pattern, next.LiteralPrefix)
	}
	return fmt.Sprintf("%s; same priority and pattern specificity as %s, and %q comes first by name", match, next.Recipe.Name, c.Recipe.Name)
}

// formatFromExt guesses a source's format from its key, for previews made
// before the object is read.
func formatFromExt(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".jpg", ".jpeg":
		return "jpeg"
	case ".png":
		return "png"
	case ".gif":
		return "gif"
	case ".webp":
		return "webp"
	}
	return ""
}
