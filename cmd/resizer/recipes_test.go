package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the tests")

// TestRecipesCheckGolden runs "recipes check" on a folder of deliberately
// broken recipes: one located, one-line error per problem, held by a golden
// file. Regenerate it with `go test ./cmd/resizer -run TestRecipesCheckGolden -update`.
func TestRecipesCheckGolden(t *testing.T) {
	dir := filepath.Join("testdata", "broken")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) < 10 {
		t.Fatalf("%d broken recipes in %s, want at least 10", len(files), dir)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"recipes", "check", dir}, &stdout, &stderr)
	if code != exitFailure {
		t.Errorf("exit code %d, want %d; stderr: %s", code, exitFailure, stderr.String())
	}
	golden := filepath.Join("testdata", "recipes-check.golden")
	got := filepath.ToSlash(stdout.String())
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("recipes check output differs from %s (rerun with -update if the change is meant):\n--- got\n%s--- want\n%s", golden, got, want)
	}
	// Every line but the summary is located, and every file has a problem.
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	loc := regexp.MustCompile(`^testdata/broken/[0-9a-z-]+\.yaml:\d+:\d+: \S`)
	for _, line := range lines[:len(lines)-1] {
		if !loc.MatchString(line) {
			t.Errorf("line without a file:line:col: %q", line)
		}
	}
	for _, f := range files {
		if !strings.Contains(got, filepath.ToSlash(f)+":") {
			t.Errorf("no problem reported for %s", f)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// TestShippedRecipesCheck checks recipes/ and its examples against the
// plugins, each folder alone and all of them together (as an operator who
// copies the examples in would run them).
func TestShippedRecipesCheck(t *testing.T) {
	root := filepath.Join("..", "..", "recipes")
	together := t.TempDir()
	var all []string
	for _, pattern := range []string{"*.yaml", filepath.Join("examples", "*.yaml")} {
		files, _ := filepath.Glob(filepath.Join(root, pattern))
		all = append(all, files...)
	}
	if len(all) < 3 {
		t.Fatalf("found %d shipped recipes, want default and two examples", len(all))
	}
	for _, f := range all {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(together, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{root, filepath.Join(root, "examples"), together} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"recipes", "check", dir}, &stdout, &stderr); code != exitOK {
			t.Errorf("recipes check %s: exit %d\n%s%s", dir, code, stdout.String(), stderr.String())
		}
	}
}

// TestRecipesMatch explains the winner for keys over the shipped recipes.
func TestRecipesMatch(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"default.yaml", "examples/products.yaml", "examples/avatars.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "recipes", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		key  string
		want []string
	}{
		{key: "uploads/cat.jpg", want: []string{
			"recipe:  default (",
			`why:     matches "**/*.{jpg,jpeg,png,gif,webp,JPG,JPEG,PNG,GIF,WEBP}"; the only recipe that matches`,
			"large   jpeg  processed/uploads/cat.jpg/large.jpg",
			"thumb   jpeg  processed/uploads/cat.jpg/thumb.jpg",
		}},
		{key: "products/shoes/red.png", want: []string{
			"recipe:  products (",
			"why:     matches \"products/**/*.{jpg,jpeg,png,JPG,JPEG,PNG}\"; priority 10 is higher than default's 0",
			"beats:   default (priority 0",
			"listing  jpeg  processed/products/shoes/red.png/listing-{hash}.jpg",
		}},
		{key: "products/drafts/x.jpg", want: []string{
			"recipe:  default (",
			`excluded: products matches "products/**/*.{jpg,jpeg,png,JPG,JPEG,PNG}" but excludes the key with "products/drafts/**"`,
		}},
		{key: "users/42/avatar.png", want: []string{
			"recipe:  avatars (",
			"priority 20 is higher than default's 0",
			"large  png  processed/users/42/avatar.png/large.png",
			"(format source: taken from the key's extension)",
		}},
		{key: "docs/manual.pdf", want: []string{"skipped: no recipe matches the key"}},
		{key: "processed/uploads/cat.jpg/large.jpg", want: []string{`skipped: the key is under the output prefix "processed/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"recipes", "match", "--recipes", dir, tt.key}, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output does not contain %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

// TestRecipesMatchDefaultRecipe hands unmatched keys to default_recipe.
func TestRecipesMatchDefaultRecipe(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catchall.yaml"), []byte("name: catchall\nmatch: ['none/**']\noutputs: [{name: o, width: 5}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RESIZER_DEFAULT_RECIPE", "catchall")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"recipes", "match", "--recipes", dir, "docs/manual.pdf"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, w := range []string{"recipe:  catchall", "no recipe matches the key; default_recipe hands it to catchall", "o  jpeg  processed/docs/manual.pdf/o.jpg"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("output does not contain %q:\n%s", w, stdout.String())
		}
	}
}
