package recipe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/engine/imaging"
)

func TestParseOK(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "recipes", "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("web.yaml", data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Recipe{
		Name:     "web",
		Priority: 0,
		Match:    []string{"uploads/**/*.jpg", "**/*.{png,webp}"},
		Exclude:  []string{"uploads/private/**"},
		Outputs: []Output{
			{Name: "large", Width: 1600, Height: 1600, Format: "jpeg", Quality: 82},
			{Name: "icon", Width: 64, Format: "png"},
		},
		File: "web.yaml",
	}
	if !reflect.DeepEqual(withoutPos(got), want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
	if got.Pos.String() != "web.yaml:2:7" || got.Outputs[1].Pos.String() != "web.yaml:12:5" {
		t.Errorf("positions: recipe %v, output icon %v", got.Pos, got.Outputs[1].Pos)
	}
}

// withoutPos clears the positions Parse records, for comparisons.
func withoutPos(r *Recipe) *Recipe {
	c := *r
	c.Pos = Pos{}
	c.Outputs = nil
	for _, o := range r.Outputs {
		o.Pos, o.KeyPos = Pos{}, Pos{}
		c.Outputs = append(c.Outputs, o)
	}
	return &c
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Output
	}{
		{
			name: "format and quality default to jpeg 82",
			yaml: "name: r\nmatch: ['**']\noutputs:\n  - name: o\n    width: 10\n",
			want: Output{Name: "o", Width: 10, Format: "jpeg", Quality: 82},
		},
		{
			name: "height alone",
			yaml: "name: r\nmatch: ['**']\noutputs:\n  - name: o\n    height: 10\n    quality: 50\n",
			want: Output{Name: "o", Height: 10, Format: "jpeg", Quality: 50},
		},
		{
			name: "source keeps a quality for jpeg sources",
			yaml: "name: r\nmatch: ['**']\noutputs:\n  - {name: o, width: 5, format: source}\n",
			want: Output{Name: "o", Width: 5, Format: "source", Quality: 82},
		},
		{
			name: "gif takes no quality",
			yaml: "name: r\nmatch: ['**']\noutputs:\n  - {name: o, width: 5, format: gif}\n",
			want: Output{Name: "o", Width: 5, Format: "gif"},
		},
		{
			name: "anchors and aliases",
			yaml: "name: r\nmatch: &m ['**']\nexclude: *m\noutputs:\n  - &big {name: o, width: 5}\n",
			want: Output{Name: "o", Width: 5, Format: "jpeg", Quality: 82},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse("r.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if r = withoutPos(r); len(r.Outputs) != 1 || !reflect.DeepEqual(r.Outputs[0], tt.want) {
				t.Errorf("outputs = %+v, want [%+v]", r.Outputs, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const head = "name: r\nmatch: ['**']\n"
	tests := []struct {
		name string
		yaml string
		want []string // each error: "file:line:col: part of the reason"
	}{
		{name: "empty file", yaml: "", want: []string{"r.yaml:1:1: empty recipe file"}},
		{name: "only a comment", yaml: "# nothing\n", want: []string{"r.yaml:1:1: empty recipe"}},
		{name: "invalid yaml", yaml: "name: r\nmatch: [\n", want: []string{"r.yaml:2:1: invalid YAML"}},
		{name: "two documents", yaml: head + "outputs: [{name: o, width: 1}]\n---\nname: s\n", want: []string{"r.yaml:4:1: a recipe file holds one YAML document"}},
		{name: "not a mapping", yaml: "- a\n- b\n", want: []string{`r.yaml:1:1: recipe must be a mapping of fields, got a list`}},
		{name: "unknown field", yaml: head + "outputs: [{name: o, width: 1}]\nprio: 3\n", want: []string{`r.yaml:4:1: recipe: unknown field "prio" (did you mean "priority"?)`}},
		{name: "unknown field far from any", yaml: head + "outputs: [{name: o, width: 1}]\nsizes: 3\n", want: []string{`r.yaml:4:1: recipe: unknown field "sizes" (known: name, priority, match, exclude, outputs)`}},
		{name: "duplicate field", yaml: head + "name: s\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:3:1: recipe: field "name" given twice (first at line 1)`}},
		{name: "missing name", yaml: "match: ['**']\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:1:1: recipe: missing required field "name"`}},
		{name: "missing match", yaml: "name: r\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:1:1: recipe: missing required field "match"`}},
		{name: "missing outputs", yaml: head, want: []string{`r.yaml:1:1: recipe: missing required field "outputs"`}},
		{name: "bad recipe name", yaml: "name: Web\nmatch: ['**']\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:1:7: name "Web" must be lower-case`}},
		{name: "name is a number", yaml: "name: 12\nmatch: ['**']\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:1:7: name must be a string, got "12"`}},
		{name: "priority not an integer", yaml: head + "priority: high\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:3:11: priority must be an integer, got "high"`}},
		{name: "match is a string", yaml: "name: r\nmatch: '**'\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:2:8: match must be a list of glob patterns`}},
		{name: "match empty", yaml: "name: r\nmatch: []\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:2:8: match needs at least one pattern`}},
		{name: "bad pattern", yaml: "name: r\nmatch: ['a/**', 'b/[x']\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:2:17: match: "b/[x" is not a valid glob pattern`}},
		{name: "bad exclude pattern", yaml: head + "exclude: ['{a,b']\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:3:11: exclude: "{a,b" is not a valid glob pattern`}},
		{name: "outputs empty", yaml: head + "outputs: []\n", want: []string{`r.yaml:3:10: outputs needs at least one output`}},
		{name: "outputs a mapping", yaml: head + "outputs:\n  large: {width: 1}\n", want: []string{`r.yaml:4:3: outputs must be a list, got a mapping`}},
		{name: "output without name", yaml: head + "outputs:\n  - width: 10\n", want: []string{`r.yaml:4:5: output: missing required field "name"`}},
		{name: "output unknown field", yaml: head + "outputs:\n  - name: o\n    width: 10\n    fit: cover\n", want: []string{`r.yaml:6:5: output: unknown field "fit"`}},
		{name: "output without size", yaml: head + "outputs:\n  - name: o\n", want: []string{`r.yaml:4:5: output "o" needs steps, or a width, a height or both`}},
		{name: "bad colour policy", yaml: head + "outputs:\n  - name: o\n    width: 10\n    color: p3\n", want: []string{`r.yaml:6:12: color must be srgb (convert to sRGB) or keep`}},
		{name: "bad background", yaml: head + "outputs:\n  - name: o\n    width: 10\n    background: white\n", want: []string{`r.yaml:6:17: background must be a colour such as "#ffffff"`}},
		{name: "animated jpeg", yaml: head + "outputs:\n  - name: o\n    width: 10\n    animated: true\n", want: []string{`r.yaml:6:15: animated output is written as GIF: give format gif (or source, for GIF sources), not jpeg`}},
		{name: "animated not a bool", yaml: head + "outputs:\n  - name: o\n    width: 10\n    format: gif\n    animated: yes please\n", want: []string{`r.yaml:7:15: animated must be true or false`}},
		{name: "width zero", yaml: head + "outputs:\n  - name: o\n    width: 0\n", want: []string{`r.yaml:5:12: width 0 is out of range 1..16384`}},
		{name: "height too large", yaml: head + "outputs:\n  - name: o\n    height: 16385\n", want: []string{`r.yaml:5:13: height 16385 is out of range 1..16384`}},
		{name: "width a string", yaml: head + "outputs:\n  - name: o\n    width: '100'\n", want: []string{`r.yaml:5:12: width must be an integer, got "100"`}},
		{name: "width overflows", yaml: head + "outputs:\n  - name: o\n    width: 99999999999999\n", want: []string{`r.yaml:5:12: width: "99999999999999" is out of range`}},
		{name: "quality out of range", yaml: head + "outputs:\n  - name: o\n    width: 1\n    quality: 101\n", want: []string{`r.yaml:6:14: quality 101 is out of range 1..100`}},
		{name: "quality for png", yaml: head + "outputs:\n  - name: o\n    width: 1\n    format: png\n    quality: 90\n", want: []string{`r.yaml:7:14: quality applies to jpeg and webp only, not to png`}},
		{name: "unknown format", yaml: head + "outputs:\n  - name: o\n    width: 1\n    format: tiff\n", want: []string{`r.yaml:6:13: format "tiff" is not one of jpeg, png, gif, webp, avif, source`}},
		{name: "format jpg", yaml: head + "outputs:\n  - name: o\n    width: 1\n    format: jpg\n", want: []string{`r.yaml:6:13: format "jpg" is not one of jpeg, png, gif, webp, avif, source (did you mean "jpeg"?)`}},
		{name: "misspelt field", yaml: head + "outputs:\n  - name: o\n    widht: 10\n", want: []string{`r.yaml:5:5: output: unknown field "widht" (did you mean "width"?)`}},
		{name: "misspelt required field", yaml: "nmae: r\nmatch: ['**']\noutputs: [{name: o, width: 1}]\n", want: []string{`r.yaml:1:1: recipe: unknown field "nmae" (did you mean "name"?)`}},
		{name: "progressive", yaml: head + "outputs:\n  - name: o\n    width: 1\n    progressive: true\n", want: []string{`r.yaml:6:18: progressive JPEG is not available`}},
		{name: "progressive not a bool", yaml: head + "outputs:\n  - name: o\n    width: 1\n    progressive: yes please\n", want: []string{`r.yaml:6:18: progressive must be true or false`}},
		{name: "quality per format for jpeg", yaml: head + "outputs:\n  - name: o\n    width: 1\n    quality: {jpeg: 80, webp: 70}\n", want: []string{`r.yaml:6:14: a quality per format is for outputs with format: source`}},
		{name: "quality per format for png", yaml: head + "outputs:\n  - name: o\n    width: 1\n    format: source\n    quality: {png: 80}\n", want: []string{`r.yaml:7:20: png takes no quality`}},
		{name: "quality unknown format", yaml: head + "outputs:\n  - name: o\n    width: 1\n    format: source\n    quality: {jpg: 80}\n", want: []string{`r.yaml:7:15: quality: unknown field "jpg" (did you mean "jpeg"?)`}},
		{name: "metadata value", yaml: head + "outputs:\n  - name: o\n    width: 1\n    metadata: {copyright: yes}\n", want: []string{`r.yaml:6:27: metadata copyright must be keep or strip, got "yes"`}},
		{name: "metadata policy", yaml: head + "outputs:\n  - name: o\n    width: 1\n    metadata: {icc: drop}\n", want: []string{`r.yaml:6:21: metadata icc must be keep or strip, got "drop"`}},
		{name: "metadata field", yaml: head + "outputs:\n  - name: o\n    width: 1\n    metadata: {exif: keep}\n", want: []string{`r.yaml:6:16: metadata: unknown field "exif" (known: copyright, icc)`}},
		{name: "key variable", yaml: head + "outputs:\n  - name: o\n    width: 1\n    key: '{dir}/{stme}.{ext}'\n", want: []string{`r.yaml:6:10: key template "{dir}/{stme}.{ext}": unknown variable {stme} (did you mean {stem}?)`}},
		{name: "key brace", yaml: head + "outputs:\n  - name: o\n    width: 1\n    key: '{key/{output}'\n", want: []string{`r.yaml:6:10: key template "{key/{output}": a '{' without its '}'`}},
		{name: "key dot dot", yaml: head + "outputs:\n  - name: o\n    width: 1\n    key: '../{key}/{output}.{ext}'\n", want: []string{`r.yaml:6:10: key template "../{key}/{output}.{ext}" could leave the output prefix: it has a '..' segment`}},
		{name: "key absolute", yaml: head + "outputs:\n  - name: o\n    width: 1\n    key: /{key}.{ext}\n", want: []string{`r.yaml:6:10: key template "/{key}.{ext}" could leave the output prefix: it starts with '/'`}},
		{name: "cache control control chars", yaml: head + "outputs:\n  - name: o\n    width: 1\n    cache_control: \"max-age=1\\r\\nX-Evil: 1\"\n", want: []string{`r.yaml:6:20: cache_control must be printable ASCII`}},
		{name: "content type", yaml: head + "outputs:\n  - name: o\n    width: 1\n    content_type: jpeg\n", want: []string{`r.yaml:6:19: content_type "jpeg" is not a MIME type`}},
		{name: "duplicate output name", yaml: head + "outputs:\n  - {name: o, width: 1}\n  - {name: o, width: 2}\n", want: []string{`r.yaml:5:5: output name "o" used twice in this recipe (first at line 4)`}},
		{name: "bad output name", yaml: head + "outputs:\n  - {name: o/x, width: 1}\n", want: []string{`r.yaml:4:12: name "o/x" must be lower-case`}},
		{
			name: "several errors are all reported",
			yaml: "name: r\nmatch: ['**']\nextra: 1\noutputs:\n  - {name: o, width: 0}\n",
			want: []string{`r.yaml:3:1: recipe: unknown field "extra"`, `r.yaml:5:22: width 0 is out of range`},
		},
	}
	loc := regexp.MustCompile(`^r\.yaml:\d+:\d+: `)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse("r.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want errors %q", r, tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for i, line := range lines {
				if !loc.MatchString(line) {
					t.Errorf("error %q does not start with file:line:col", line)
				}
				if !strings.HasPrefix(line, tt.want[i]) {
					t.Errorf("error %d = %q, want it to start with %q", i, line, tt.want[i])
				}
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "r.yaml" {
				t.Errorf("errors.As(*Error) = %v, %+v", errors.As(err, &pe), pe)
			}
		})
	}
}

// mustRecipe parses an inline recipe for the matching tests.
func mustRecipe(t *testing.T, yaml string) *Recipe {
	t.Helper()
	r, err := Parse("inline.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMatch(t *testing.T) {
	const out = "outputs: [{name: o, width: 1}]\n"
	set, err := NewSet(
		mustRecipe(t, "name: z-any\nmatch: ['**']\n"+out),
		mustRecipe(t, "name: images\nmatch: ['**/*.{jpg,png}']\n"+out),
		mustRecipe(t, "name: uploads\nmatch: ['uploads/**/*.jpg', '**/*.gif']\nexclude: ['uploads/private/**', '**/*.tmp.jpg']\n"+out),
		mustRecipe(t, "name: products\nmatch: ['uploads/products/**']\n"+out),
		mustRecipe(t, "name: b-tie\nmatch: ['tie/**']\n"+out),
		mustRecipe(t, "name: a-tie\nmatch: ['tie/**']\n"+out),
		mustRecipe(t, "name: urgent\npriority: 5\nmatch: ['**/urgent-*']\n"+out),
		mustRecipe(t, "name: never\npriority: 9\nmatch: ['**/*.raw']\nexclude: ['**']\n"+out),
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
		want string // "" = no match
	}{
		{name: "only the catch-all", key: "docs/readme.txt", want: "z-any"},
		{name: "equal literal prefixes fall to the name", key: "misc/a.jpg", want: "images"},
		{name: "uploads prefix beats extension match", key: "uploads/2024/a.jpg", want: "uploads"},
		{name: "deeper literal prefix wins", key: "uploads/products/a.jpg", want: "products"},
		{name: "recipe ranks by its best matching pattern", key: "uploads/a.gif", want: "uploads"},
		{name: "exclude removes a recipe", key: "uploads/private/a.jpg", want: "images"},
		{name: "exclude by suffix", key: "uploads/x/a.tmp.jpg", want: "images"},
		{name: "priority beats prefix", key: "uploads/products/urgent-1.jpg", want: "urgent"},
		{name: "name breaks ties", key: "tie/a.jpg", want: "a-tie"},
		{name: "excluded high priority falls through", key: "x/a.raw", want: "z-any"},
		{name: "unicode key", key: "uploads/фото/café.jpg", want: "uploads"},
		{name: "key with spaces", key: "uploads/my cat.jpg", want: "uploads"},
		{name: "match is case-sensitive", key: "misc/A.JPG", want: "z-any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := set.Match(tt.key)
			got := ""
			if ok {
				got = r.Name
			}
			if got != tt.want {
				t.Errorf("Match(%q) = %q, want %q (candidates %s)", tt.key, got, tt.want, describeCandidates(set.Candidates(tt.key)))
			}
			if c := set.Candidates(tt.key); ok && (len(c) == 0 || c[0].Recipe != r) {
				t.Errorf("Candidates(%q) does not lead with the match: %s", tt.key, describeCandidates(c))
			}
		})
	}
}

func describeCandidates(cs []Candidate) string {
	var parts []string
	for _, c := range cs {
		s := c.Recipe.Name + "(" + c.Pattern + ")"
		if c.ExcludedBy != "" {
			s += " excluded by " + c.ExcludedBy
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestMatchNothing(t *testing.T) {
	set, err := NewSet(mustRecipe(t, "name: r\nmatch: ['a/**']\nexclude: ['a/b/**']\noutputs: [{name: o, width: 1}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
	}{
		{name: "outside every pattern", key: "z/x.jpg"},
		{name: "excluded", key: "a/b/x.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, ok := set.Match(tt.key); ok {
				t.Errorf("Match(%q) = %q, want no match", tt.key, r.Name)
			}
		})
	}
	if c := set.Candidates("a/b/x.jpg"); len(c) != 1 || c[0].ExcludedBy != "a/b/**" {
		t.Errorf("Candidates of an excluded key = %s, want the recipe marked excluded", describeCandidates(c))
	}
}

func TestDigest(t *testing.T) {
	const base = "name: web\nmatch: ['**/*.jpg']\noutputs:\n  - {name: large, width: 1600, height: 1600}\n"
	baseDigest := mustRecipe(t, base).Digest()
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(baseDigest) {
		t.Fatalf("Digest = %q, want 12 lower-case hex digits", baseDigest)
	}
	tests := []struct {
		name string
		yaml string
		same bool
	}{
		{name: "identical", yaml: base, same: true},
		{name: "comments and layout", yaml: "# web\nname: web   # the name\nmatch:\n  - '**/*.jpg'\noutputs:\n  - name: large\n    height: 1600\n    width: 1600\n", same: true},
		{name: "field order", yaml: "outputs: [{width: 1600, name: large, height: 1600}]\nmatch: ['**/*.jpg']\nname: web\n", same: true},
		{name: "defaults spelled out", yaml: "name: web\npriority: 0\nmatch: ['**/*.jpg']\nexclude: []\noutputs:\n  - {name: large, width: 1600, height: 1600, format: jpeg, quality: 82}\n", same: true},
		{name: "other name", yaml: strings.Replace(base, "name: web", "name: web2", 1)},
		{name: "other width", yaml: strings.Replace(base, "width: 1600", "width: 1601", 1)},
		{name: "other quality", yaml: strings.Replace(base, "height: 1600}", "height: 1600, quality: 81}", 1)},
		{name: "other pattern", yaml: strings.Replace(base, "*.jpg", "*.jpeg", 1)},
		{name: "priority", yaml: base + "priority: 1\n"},
		{name: "exclude", yaml: base + "exclude: ['tmp/**']\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRecipe(t, tt.yaml)
			r.File = "elsewhere/" + tt.name + ".yaml" // the path never counts
			if got := r.Digest(); (got == baseDigest) != tt.same {
				t.Errorf("Digest = %q, base %q; want same=%v", got, baseDigest, tt.same)
			}
		})
	}
}

// TestDigestPinned holds the canonical form still: a change here changes every
// outbox deduplication id, so it must be deliberate.
func TestDigestPinned(t *testing.T) {
	r := &Recipe{
		Name:    "default",
		Match:   []string{"**/*.jpg"},
		Outputs: []Output{{Name: "thumb", Width: 200, Height: 200, Format: "jpeg", Quality: 75}},
	}
	const want = "6a55cb753c8a"
	if got := r.Digest(); got != want {
		t.Errorf("Digest = %q, want %q", got, want)
	}
}

func TestOutputKey(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		key    string
		output string
		ext    string
		want   string
	}{
		{name: "plain", prefix: "processed/", key: "uploads/cat.jpg", output: "large", ext: "jpg", want: "processed/uploads/cat.jpg/large.jpg"},
		{name: "root key", prefix: "processed/", key: "cat.png", output: "thumb", ext: "png", want: "processed/cat.png/thumb.png"},
		{name: "spaces kept", prefix: "processed/", key: "uploads/my cat (1).jpg", output: "medium", ext: "jpg", want: "processed/uploads/my cat (1).jpg/medium.jpg"},
		{name: "unicode kept", prefix: "processed/", key: "фото/café.jpg", output: "thumb", ext: "jpg", want: "processed/фото/café.jpg/thumb.jpg"},
		{name: "plus and percent kept", prefix: "out/", key: "a+b%2B.gif", output: "x", ext: "gif", want: "out/a+b%2B.gif/x.gif"},
		{name: "empty prefix", prefix: "", key: "k", output: "o", ext: "jpg", want: "k/o.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OutputKey(tt.prefix, tt.key, Output{Name: tt.output}, tt.ext); got != tt.want {
				t.Errorf("OutputKey = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOutputExt(t *testing.T) {
	tests := []struct {
		name       string
		format     string
		source     string
		wantExt    string
		wantFormat string
	}{
		{name: "jpeg", format: "jpeg", source: "png", wantExt: "jpg", wantFormat: "jpeg"},
		{name: "png", format: "png", source: "jpeg", wantExt: "png", wantFormat: "png"},
		{name: "gif", format: "gif", source: "jpeg", wantExt: "gif", wantFormat: "gif"},
		{name: "unset format is jpeg", format: "", source: "gif", wantExt: "jpg", wantFormat: "jpeg"},
		{name: "source jpeg", format: "source", source: "jpeg", wantExt: "jpg", wantFormat: "jpeg"},
		{name: "source png", format: "source", source: "png", wantExt: "png", wantFormat: "png"},
		{name: "source gif upper case", format: "source", source: "GIF", wantExt: "gif", wantFormat: "gif"},
	}
	if imaging.CanEncode(imaging.WebP) {
		tests = append(tests, struct{ name, format, source, wantExt, wantFormat string }{"source webp stays webp", "source", "webp", "webp", "webp"})
	} else {
		tests = append(tests, struct{ name, format, source, wantExt, wantFormat string }{"source webp falls back to jpeg", "source", "webp", "jpg", "jpeg"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Output{Name: "o", Format: tt.format}
			if got := o.Ext(tt.source); got != tt.wantExt {
				t.Errorf("Ext(%q) = %q, want %q", tt.source, got, tt.wantExt)
			}
			if got := o.TargetFormat(tt.source); got != tt.wantFormat {
				t.Errorf("TargetFormat(%q) = %q, want %q", tt.source, got, tt.wantFormat)
			}
		})
	}
}

func TestLoadDir(t *testing.T) {
	set, err := LoadDir(filepath.Join("testdata", "recipes"))
	if err != nil {
		t.Fatal(err)
	}
	var names, files []string
	for _, r := range set.Recipes() {
		names = append(names, r.Name)
		files = append(files, filepath.Base(r.File))
	}
	if want := []string{"avatars", "web"}; !reflect.DeepEqual(names, want) {
		t.Errorf("recipes = %q, want %q", names, want)
	}
	if want := []string{"avatars.yml", "web.yaml"}; !reflect.DeepEqual(files, want) {
		t.Errorf("files = %q, want %q", files, want)
	}
	if r, ok := set.Match("users/42/avatar.png"); !ok || r.Name != "avatars" {
		t.Errorf("Match(avatar) = %v, %v", r, ok)
	}
}

func TestLoadDirErrors(t *testing.T) {
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "x.yaml"), []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want []string
	}{
		{name: "duplicate names", dir: filepath.Join("testdata", "dup"), want: []string{`recipe name "same"`, filepath.Join("testdata", "dup", "a.yaml"), filepath.Join("testdata", "dup", "b.yml")}},
		{name: "parse error names the file", dir: bad, want: []string{filepath.Join(bad, "x.yaml") + ":1:1: recipe: missing required field"}},
		{name: "missing directory", dir: filepath.Join("testdata", "absent"), want: []string{"reading recipes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadDir(tt.dir)
			if err == nil {
				t.Fatal("LoadDir succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestShippedRecipes keeps the recipes in the repository's recipes/ loadable.
func TestShippedRecipes(t *testing.T) {
	set, err := LoadDir(filepath.Join("..", "..", "recipes"))
	if err != nil {
		t.Fatal(err)
	}
	var def *Recipe
	for _, r := range set.Recipes() {
		if r.Name == "default" {
			def = r
		}
	}
	if def == nil {
		t.Fatal("recipes/ has no recipe named default")
	}
	var got []string
	for _, o := range def.Outputs {
		plan := o.Plan()
		got = append(got, fmt.Sprintf("%s:%s:%v:%v", o.Name, plan[0].Op, plan[0].Params["width"], plan[0].Params["height"]))
	}
	want := []string{"large:resize:1600:1600", "medium:resize:800:800", "thumb:thumbnail:200:200"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default outputs = %v, want %v", got, want)
	}
	tests := []struct {
		key  string
		want bool
	}{
		{key: "cat.jpg", want: true},
		{key: "uploads/2024/cat.JPEG", want: true},
		{key: "a/b/c.webp", want: true},
		{key: "uploads/x.GIF", want: true},
		{key: "uploads/doc.pdf", want: false},
		{key: "uploads/noext", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			r, ok := set.Match(tt.key)
			if ok != tt.want {
				t.Fatalf("Match(%q) ok = %v, want %v", tt.key, ok, tt.want)
			}
			if ok && r.Name != "default" {
				t.Logf("Match(%q) = %q (a more specific shipped recipe)", tt.key, r.Name)
			}
		})
	}
}
