package recipe

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/engine/imaging"
)

func TestKeyOf(t *testing.T) {
	tests := []struct {
		name, tmpl, source, recipe, ext, hash, want string
	}{
		{name: "default", source: "uploads/cat.jpg", ext: "jpg", want: "processed/uploads/cat.jpg/large.jpg"},
		{name: "default at the top", source: "cat.png", ext: "png", want: "processed/cat.png/large.png"},
		{name: "dir and stem", tmpl: "{dir}/{stem}-{output}.{ext}", source: "uploads/2024/cat.PNG", ext: "jpg", want: "processed/uploads/2024/cat-large.jpg"},
		{name: "empty dir drops its slash", tmpl: "{dir}/{stem}-{output}.{ext}", source: "cat.PNG", ext: "jpg", want: "processed/cat-large.jpg"},
		{name: "source ext", tmpl: "{dir}/{stem}.{source_ext}/{output}.{ext}", source: "a/cat.PNG", ext: "webp", want: "processed/a/cat.PNG/large.webp"},
		{name: "no extension", tmpl: "{dir}/{stem}_{source_ext}_{output}.{ext}", source: "a/README", ext: "png", want: "processed/a/README__large.png"},
		{name: "dot file", tmpl: "{stem}|{source_ext}", source: ".hidden", ext: "png", want: "processed/.hidden|"},
		{name: "recipe and hash", tmpl: "{recipe}/{hash}.{ext}", source: "a/b.jpg", recipe: "web", ext: "jpg", hash: "0123456789abcdef", want: "processed/web/0123456789abcdef.jpg"},
		{name: "hash unknown yet", tmpl: "{name}/{hash}.{ext}", source: "a/b.jpg", ext: "jpg", want: "processed/b.jpg/{hash}.jpg"},
		{name: "unicode and spaces kept", tmpl: "{dir}/{stem} {output}.{ext}", source: "фото/my café.jpg", ext: "jpg", want: "processed/фото/my café large.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Output{Name: "large", KeyTemplate: tt.tmpl}
			got := o.KeyOf("processed/", KeyVars{Source: tt.source, Recipe: tt.recipe, Ext: tt.ext, Hash: tt.hash})
			if got != tt.want {
				t.Errorf("KeyOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyCollisions(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // one per error, in order
	}{
		{
			name: "defaults never collide",
			files: map[string]string{
				"a.yaml": "name: a\nmatch: ['a/**']\noutputs: [{name: large, width: 5}, {name: thumb, width: 2}]\n",
				"b.yaml": "name: b\nmatch: ['**']\noutputs: [{name: large, width: 5}]\n",
			},
		},
		{
			name: "two outputs of one recipe",
			files: map[string]string{
				"a.yaml": "name: a\nmatch: ['**']\noutputs:\n  - {name: large, width: 5, key: '{key}.{ext}'}\n  - {name: small, width: 2, key: '{key}.{ext}'}\n",
			},
			want: []string{`a.yaml:5:34: output "small" writes the same key as output "large" (a.yaml:4:5) for source "a/b.jpg": "a/b.jpg.jpg"; put {output} in the key template`},
		},
		{
			name: "one output of two sources",
			files: map[string]string{
				"a.yaml": "name: a\nmatch: ['**']\noutputs:\n  - {name: large, width: 5, key: '{dir}/{stem}-{output}.{ext}'}\n",
			},
			want: []string{`a.yaml:4:34: output "large" key template "{dir}/{stem}-{output}.{ext}" gives sources "a/b.jpg" and "a/b.png" the same key "a/b-large.jpg"; use {key}, or {dir} with {name}`},
		},
		{
			name: "outputs of two recipes",
			files: map[string]string{
				"a.yaml": "name: a\nmatch: ['a/**']\noutputs:\n  - {name: large, width: 5, key: 'big/{name}.{ext}'}\n",
				"b.yaml": "name: b\nmatch: ['b/**']\noutputs:\n  - {name: large, width: 5, key: 'big/{name}.{ext}'}\n",
			},
			want: []string{
				`a.yaml:4:34: output "large" key template "big/{name}.{ext}" gives sources "a/b.jpg" and "b.jpg" the same key "big/b.jpg.jpg"; use {key}, or {dir} with {name}`,
				`b.yaml:4:34: output "large" of recipe "b" writes the same key as output "large" of recipe "a" (a.yaml:4:5): "big/b.jpg.jpg", for sources "a/b.jpg" and "b.jpg"; put {recipe} or {key} in the key template`,
			},
		},
		{
			name: "the recipe name keeps them apart",
			files: map[string]string{
				"a.yaml": "name: a\nmatch: ['a/**']\noutputs:\n  - {name: large, width: 5, key: '{recipe}/{key}.{ext}'}\n",
				"b.yaml": "name: b\nmatch: ['b/**']\noutputs:\n  - {name: large, width: 5, key: '{recipe}/{key}.{ext}'}\n",
			},
		},
		{
			name: "content addressed",
			files: map[string]string{
				"a.yaml": "name: a\nmatch: ['**']\noutputs:\n  - {name: large, width: 5, key: 'cas/{hash}.{ext}'}\n  - {name: small, width: 5, key: 'cas/{hash}.{ext}'}\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadDir(dir)
			var got []string
			if err != nil {
				got = strings.Split(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestFallbackRecipe(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("photos.yaml", "name: photos\nmatch: ['photos/**']\noutputs: [{name: o, width: 5}]\n")
	write("anything.yaml", "name: anything\nmatch: ['never/**']\noutputs: [{name: o, width: 5}]\n")
	set, err := Load(context.Background(), dir, LoadOptions{Fallback: "anything"})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"photos/a.jpg": "photos", "other/a.jpg": "anything", "never/x": "anything"} {
		if r, ok := set.Match(key); !ok || r.Name != want {
			t.Errorf("Match(%q) = %v, %v; want %s", key, r, ok, want)
		}
	}
	if _, err := Load(context.Background(), dir, LoadOptions{Fallback: "nope"}); err == nil || !strings.Contains(err.Error(), `default_recipe "nope": no recipe of that name`) {
		t.Errorf("unknown fallback: %v", err)
	}
	set, _ = LoadDir(dir)
	if r, ok := set.Match("other/a.jpg"); ok {
		t.Errorf("without a fallback, Match(other) = %v", r.Name)
	}
}

func TestQualityFor(t *testing.T) {
	r := mustRecipe(t, "name: r\nmatch: ['**']\noutputs:\n  - {name: a, width: 5, format: source, quality: {webp: 70}}\n  - {name: b, width: 5, quality: 60}\n  - {name: c, width: 5, format: png}\n")
	tests := []struct {
		output, format string
		want           int
	}{
		{"a", "webp", 70}, {"a", "jpeg", DefaultQuality}, {"a", "png", 0},
		{"b", "jpeg", 60}, {"c", "png", 0},
	}
	for _, tt := range tests {
		var o Output
		for _, x := range r.Outputs {
			if x.Name == tt.output {
				o = x
			}
		}
		if got := o.QualityFor(tt.format); got != tt.want {
			t.Errorf("output %s: QualityFor(%s) = %d, want %d", tt.output, tt.format, got, tt.want)
		}
	}
}

// TestWebPFollowsTheEncoder: format webp is accepted exactly when the
// imaging package can encode it, and is otherwise a located error.
func TestWebPFollowsTheEncoder(t *testing.T) {
	for _, f := range []string{"jpeg", "png", "gif"} {
		if !imaging.CanEncode(f) {
			t.Errorf("CanEncode(%s) = false", f)
		}
	}
	if imaging.CanEncode("tiff") {
		t.Error("CanEncode(tiff) = true")
	}
	_, err := Parse("r.yaml", []byte("name: r\nmatch: ['**']\noutputs:\n  - {name: o, width: 5, format: webp}\n"))
	if imaging.CanEncode(imaging.WebP) {
		if err != nil {
			t.Errorf("webp refused although this build encodes it: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "r.yaml:4:33: format webp: this build has no WebP encoder") {
		t.Errorf("error %v, want a located no-encoder error", err)
	}
	if got := (Output{Format: FormatSource}).TargetFormat("webp"); got != FormatJPEG {
		t.Errorf("a webp source with format source becomes %s, want jpeg while webp cannot be written", got)
	}
}
