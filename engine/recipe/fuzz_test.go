package recipe

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, every error
// must carry a file:line:col, and every recipe it accepts must be usable.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.y*ml"))
	for _, dir := range []string{"../../recipes", "../../recipes/examples", "../../cmd/resizer/testdata/broken"} {
		more, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		files = append(files, more...)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: r\nmatch: &m ['**']\nexclude: *m\noutputs: [{name: o, width: 1}]\n"))
	f.Add([]byte("name: r\nmatch: ['**']\noutputs:\n  - &o {name: o, width: 1}\n  - *o\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("---\n---\n"))
	loc := regexp.MustCompile(`^f\.yaml:\d+:\d+: `)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("f.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !loc.MatchString(line) {
					t.Fatalf("error line without a location: %q", line)
				}
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not an *Error", err)
			}
			return
		}
		if r.Name == "" || len(r.Match) == 0 || len(r.Outputs) == 0 {
			t.Fatalf("accepted an incomplete recipe: %+v", r)
		}
		for _, o := range r.Outputs {
			if len(o.Plan()) == 0 {
				t.Fatalf("accepted output %q with nothing to do", o.Name)
			}
			key := o.KeyOf("p/", KeyVars{Source: "a/b.jpg", Recipe: r.Name, Ext: "jpg", Hash: "0123456789abcdef"})
			if !strings.HasPrefix(key, "p/") || strings.Contains(key, "/../") || strings.Contains(key, "//") || strings.HasSuffix(key, "/") {
				t.Fatalf("output %q: key template %q gives %q", o.Name, o.KeyTemplate, key)
			}
			if ext := o.Ext("webp"); ext != "jpg" && ext != "png" && ext != "gif" && ext != "webp" {
				t.Fatalf("output %q has extension %q", o.Name, ext)
			}
		}
		if len(r.Digest()) != 12 {
			t.Fatalf("digest %q", r.Digest())
		}
		set, err := NewSet(r)
		if err != nil {
			// Outputs that would write the same key: located like the rest.
			for _, line := range strings.Split(err.Error(), "\n") {
				if !loc.MatchString(line) {
					t.Fatalf("set error line without a location: %q", line)
				}
			}
			return
		}
		set.Match("uploads/a.jpg")
	})
}
