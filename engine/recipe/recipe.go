// Package recipe reads the YAML recipes that say which outputs to produce for
// which object keys, and picks the recipe for a key.
//
// A recipe file holds one recipe:
//
//	name: web
//	priority: 0
//	match: ["uploads/**/*.jpg", "**/*.{png,webp}"]
//	exclude: ["uploads/private/**"]
//	outputs:
//	  - name: large
//	    width: 1600
//	    height: 1600
//	    format: jpeg
//	    quality: 82
//	    key: "{dir}/{stem}-{output}.{ext}"
//	    cache_control: "public, max-age=31536000, immutable"
//
// recipes/README.md describes every field.
//
// Parsing is strict: unknown fields, wrong types and out-of-range values are
// errors that name file:line:col. The YAML is read as a yaml.Node tree and each
// mapping is checked against a table of fields, so that the language can grow
// (ordered plugin steps per output) by adding table entries.
package recipe

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"

	"github.com/seed62486500/resizer/engine/imaging"
)

// Limits of the language.
const (
	MaxDimension   = 16384
	DefaultQuality = 82
	DefaultFormat  = "jpeg"
	maxNameLen     = 64
)

// Output formats an output may ask for. FormatSource keeps the source's format.
const (
	FormatJPEG   = "jpeg"
	FormatPNG    = "png"
	FormatGIF    = "gif"
	FormatWebP   = "webp"
	FormatAVIF   = "avif" // output only: never a source's format
	FormatSource = "source"
)

// Output is one image a recipe produces from each source.
type Output struct {
	Name   string
	Width  int // 0 when only Height bounds the output
	Height int // 0 when only Width bounds the output
	Format string
	// Quality is the quality given as one number, for whichever lossy
	// format (jpeg, webp) the output ends up in; 0 for png and gif, which
	// take none. QualityByFormat holds a quality per format instead, for
	// outputs in the source's format. QualityFor picks.
	Quality         int
	QualityByFormat map[string]int
	// Progressive asks for a progressive JPEG. No encoder in this build
	// writes one, so Parse refuses true; the field is here so that the
	// language need not change when one does.
	Progressive bool
	Metadata    Metadata
	// Color says what becomes of pixels in a source's ICC colour space:
	// ColorSRGB (the default) converts them to sRGB, ColorKeep leaves them
	// as they are and the profile is embedded in the output.
	Color string
	// Animated makes an animated GIF source give an animated GIF output:
	// every frame through the steps, timing and disposal kept. Otherwise
	// an animation gives its first frame.
	Animated bool
	// Background is what transparency is flattened onto in a format
	// without alpha (JPEG); nil means the configured background (white).
	Background *color.NRGBA
	// KeyTemplate says where the output is written, below the output
	// prefix; "" means DefaultKeyTemplate. See KeyOf.
	KeyTemplate string
	// CacheControl and ContentType, when set, are written on the object
	// instead of the configured Cache-Control and the format's MIME type.
	CacheControl string
	ContentType  string
	// Steps are the plugin operations that make the output, in order. An
	// output written with only width and height has none: see Plan.
	Steps []Step
	// Pos is where the output starts in its file; KeyPos where its key
	// template is (Pos when it has none). Not part of the digest.
	Pos, KeyPos Pos
}

// Metadata is what an output keeps of the source's metadata. Everything
// else (EXIF, GPS, XMP, comments) is always stripped.
type Metadata struct {
	// KeepCopyright carries the source's copyright and artist notices
	// (EXIF Copyright and Artist) into the output. Off by default.
	KeepCopyright bool
	// StripICC leaves the source's ICC profile out of the output even when
	// the pixels are still in its colour space (color: keep, or a profile
	// that cannot be converted). Off by default: such an output embeds the
	// profile, so that viewers show the right colours.
	StripICC bool
}

// QualityFor is the quality to encode the output with in format: 0 for
// formats without one, else the per-format value, the single value, or
// DefaultQuality.
func (o Output) QualityFor(format string) int {
	if format != FormatJPEG && format != FormatWebP && format != FormatAVIF {
		return 0
	}
	if q, ok := o.QualityByFormat[format]; ok {
		return q
	}
	if o.Quality > 0 {
		return o.Quality
	}
	return DefaultQuality
}

// Step is one plugin operation of an output, written in YAML as a mapping
// with one key, the operation's name, whose value maps parameter names to
// values:
//
//	steps:
//	  - resize: {width: 1200}
//	  - watermark: {image: assets/logo.png, position: bottom-right}
type Step struct {
	Op     string
	Params map[string]any // int, float64, bool or string values
	Pos    Pos            // where the step starts
	// ParamPos locates each parameter's value, for error messages.
	ParamPos map[string]Pos
}

// Pos is a place in a recipe file.
type Pos struct {
	File         string
	Line, Column int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column) }

// Errorf makes an *Error located at p.
func (p Pos) Errorf(format string, args ...any) *Error {
	return &Error{File: p.File, Line: p.Line, Column: p.Column, Reason: fmt.Sprintf(format, args...)}
}

// Plan is the steps that make the output: its Steps, or for an output given
// only as width and height, one resize step that fits the image inside them.
func (o Output) Plan() []Step {
	if len(o.Steps) > 0 {
		return o.Steps
	}
	params := map[string]any{"fit": "inside"}
	if o.Width > 0 {
		params["width"] = o.Width
	}
	if o.Height > 0 {
		params["height"] = o.Height
	}
	return []Step{{Op: "resize", Params: params}}
}

// Recipe is one parsed recipe file.
type Recipe struct {
	Name     string
	Priority int
	Match    []string
	Exclude  []string
	Outputs  []Output
	File     string // where it was read from; not part of the digest
	Pos      Pos    // where its name is; not part of the digest
}

// Error is a problem in a recipe file, located by line and column (1-based).
type Error struct {
	File   string
	Line   int
	Column int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Reason)
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Parse reads one recipe. file is used in error messages and kept in
// Recipe.File. Every problem found is reported; several are joined with
// errors.Join, one per line, each an *Error.
func Parse(file string, data []byte) (*Recipe, error) {
	r, errs := parsePartial(file, data)
	if len(errs) > 0 {
		if len(errs) == 1 {
			return nil, errs[0]
		}
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// parsePartial parses like Parse but also returns what could be read of a
// recipe with problems (nil if nothing could), so that a check can go on
// to its steps.
func parsePartial(file string, data []byte) (*Recipe, []error) {
	p := &parser{file: file}
	r := p.parse(data)
	if r != nil {
		r.File = file
	}
	return r, p.errs
}

type parser struct {
	file string
	errs []error
	// guessed holds the suggestions made for unknown fields of the
	// mapping read last.
	guessed map[string]bool
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: col, Reason: fmt.Sprintf(format, args...)})
}

func (p *parser) parse(data []byte) *Recipe {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "empty recipe file")
		} else {
			p.yamlError(err, data)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			p.yamlError(err, data)
		} else {
			p.errorf(&extra, "a recipe file holds one YAML document; found another")
		}
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(root, "empty recipe file")
			return nil
		}
		root = root.Content[0]
	}
	r := &Recipe{Pos: p.pos(root)}
	p.mapping(root, "recipe", []field{
		{name: "name", required: true, set: func(n *yaml.Node) { r.Name = p.name(n); r.Pos = p.pos(n) }},
		{name: "priority", set: func(n *yaml.Node) { r.Priority, _ = p.integer(n, "priority") }},
		{name: "match", required: true, set: func(n *yaml.Node) { r.Match = p.patterns(n, "match", true) }},
		{name: "exclude", set: func(n *yaml.Node) { r.Exclude = p.patterns(n, "exclude", false) }},
		{name: "outputs", required: true, set: func(n *yaml.Node) { r.Outputs = p.outputs(n) }},
	})
	return r
}

// yamlError reports a syntax error from the YAML library, which gives a
// line but no column, and for some errors the line of the enclosing
// construct rather than of the problem (yaml.v3 reports its context mark,
// counted from 0 for parser errors). The two most common cases are placed
// on the problem itself.
func (p *parser) yamlError(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 1, 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ":"); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				line, msg = n, strings.TrimSpace(after)
			}
		}
	}
	lines := strings.Split(string(data), "\n")
	switch {
	case strings.Contains(msg, "tab character"):
		// The tab is on the first line from here indented with one.
		for i := max(line-1, 0); i < len(lines); i++ {
			indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
			if j := strings.IndexByte(indent, '\t'); j >= 0 {
				line, col = i+1, j+1
				msg += "; indent with spaces"
				break
			}
		}
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"), strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		// The line is that of the opening bracket, counted from 0.
		open := "["
		if strings.HasSuffix(msg, "'}'") {
			open = "{"
		}
		if line < len(lines) {
			if j := strings.Index(lines[line], open); j >= 0 {
				line, col = line+1, j+1
				msg += fmt.Sprintf("; the %s opened here is not closed", map[string]string{"[": "list", "{": "mapping"}[open])
			}
		}
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: col, Reason: "invalid YAML: " + oneLine(msg)})
}

// field is one entry of a mapping's schema.
type field struct {
	name     string
	required bool
	set      func(value *yaml.Node)
}

// mapping checks that n is a mapping whose keys are all in fields, without
// duplicates, that the required ones are there, and hands each value to its
// field. what names the mapping in messages.
func (p *parser) mapping(n *yaml.Node, what string, fields []field) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping of fields, got %s", what, describe(n))
		return false
	}
	seen := make(map[string]*yaml.Node)
	guessed := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: field names must be plain words", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: field %q given twice (first at line %d)", what, k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		f := lookup(fields, k.Value)
		if f == nil {
			if guess := closest(k.Value, fieldNames(fields)); guess != "" {
				guessed[guess] = true
				p.errorf(k, "%s: unknown field %q (did you mean %q?)", what, clip(k.Value), guess)
			} else {
				p.errorf(k, "%s: unknown field %q (known: %s)", what, clip(k.Value), strings.Join(fieldNames(fields), ", "))
			}
			continue
		}
		f.set(v)
	}
	p.guessed = guessed
	for _, f := range fields {
		// A misspelt field was reported with a suggestion; saying that the
		// field is missing too would count one problem twice.
		if f.required && seen[f.name] == nil && !guessed[f.name] {
			p.errorf(n, "%s: missing required field %q", what, f.name)
		}
	}
	return true
}

func lookup(fields []field, name string) *field {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}

func fieldNames(fields []field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// resolve follows an alias to the node it names, so that anchors work.
// Aliases are followed one level at a time by each caller; the schema has a
// fixed depth, so a cyclic alias cannot make the parser loop.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", clip(n.Value))
	default:
		return "something else"
	}
}

// str reads a scalar that YAML itself types as a string.
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.errorf(n, "%s must be a string, got %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) name(n *yaml.Node) string {
	s, ok := p.str(n, "name")
	if !ok {
		return ""
	}
	if len(s) > maxNameLen || !nameRE.MatchString(s) {
		p.errorf(n, "name %q must be lower-case letters, digits, '-' and '_', starting with a letter or digit, at most %d long", clip(s), maxNameLen)
	}
	return s
}

// integer reads a scalar that YAML types as an integer; ok is false (and the
// problem reported) otherwise.
func (p *parser) integer(n *yaml.Node, what string) (v int, ok bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, "%s must be an integer, got %s", what, describe(n))
		return 0, false
	}
	var i int32
	if err := n.Decode(&i); err != nil {
		p.errorf(n, "%s: %q is out of range", what, clip(n.Value))
		return 0, false
	}
	return int(i), true
}

func (p *parser) patterns(n *yaml.Node, what string, required bool) []string {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list of glob patterns, got %s", what, describe(n))
		return nil
	}
	if required && len(n.Content) == 0 {
		p.errorf(n, "%s needs at least one pattern", what)
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		s, ok := p.str(item, what+" pattern")
		if !ok {
			continue
		}
		switch {
		case s == "":
			p.errorf(item, "%s: empty pattern", what)
		case !doublestar.ValidatePattern(s):
			p.errorf(item, "%s: %q is not a valid glob pattern", what, clip(s))
		default:
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) outputs(n *yaml.Node) []Output {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "outputs must be a list, got %s", describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "outputs needs at least one output")
		return nil
	}
	seen := make(map[string]*yaml.Node)
	out := make([]Output, 0, len(n.Content))
	for _, item := range n.Content {
		o, ok := p.output(item)
		if first, dup := seen[o.Name]; dup && o.Name != "" {
			p.errorf(item, "output name %q used twice in this recipe (first at line %d)", o.Name, first.Line)
			continue
		}
		seen[o.Name] = resolve(item)
		if ok {
			out = append(out, o)
		}
	}
	return out
}

func (p *parser) output(n *yaml.Node) (Output, bool) {
	o := Output{Format: DefaultFormat, Pos: p.pos(resolve(n))}
	o.KeyPos = o.Pos
	var quality, width, height, steps, progressive, animated *yaml.Node
	before := len(p.errs)
	ok := p.mapping(n, "output", []field{
		{name: "name", required: true, set: func(v *yaml.Node) { o.Name = p.name(v) }},
		{name: "width", set: func(v *yaml.Node) { width = v; o.Width = p.dimension(v, "width") }},
		{name: "height", set: func(v *yaml.Node) { height = v; o.Height = p.dimension(v, "height") }},
		{name: "steps", set: func(v *yaml.Node) { steps = v; o.Steps = p.steps(v) }},
		{name: "format", set: func(v *yaml.Node) { o.Format = p.format(v) }},
		{name: "quality", set: func(v *yaml.Node) { quality = v; o.Quality, o.QualityByFormat = p.quality(v) }},
		{name: "progressive", set: func(v *yaml.Node) { progressive = v; o.Progressive = p.boolean(v, "progressive") }},
		{name: "metadata", set: func(v *yaml.Node) { o.Metadata = p.metadata(v) }},
		{name: "color", set: func(v *yaml.Node) { o.Color = p.colorPolicy(v) }},
		{name: "animated", set: func(v *yaml.Node) { animated = v; o.Animated = p.boolean(v, "animated") }},
		{name: "background", set: func(v *yaml.Node) { o.Background = p.background(v) }},
		{name: "key", set: func(v *yaml.Node) { o.KeyTemplate = p.keyTemplate(v); o.KeyPos = p.pos(resolve(v)) }},
		{name: "cache_control", set: func(v *yaml.Node) { o.CacheControl = p.headerValue(v, "cache_control") }},
		{name: "content_type", set: func(v *yaml.Node) { o.ContentType = p.contentType(v) }},
	})
	if !ok {
		return o, false
	}
	misspeltSize := p.guessed["width"] || p.guessed["height"] || p.guessed["steps"]
	switch {
	case misspeltSize:
		// Already reported, with a suggestion.
	case steps != nil && (width != nil || height != nil):
		p.errorf(n, "output %q: give either steps or width/height (a shorthand for one resize step), not both", o.Name)
	case steps == nil && width == nil && height == nil:
		p.errorf(n, "output %q needs steps, or a width, a height or both", o.Name)
	}
	switch o.Format {
	case FormatPNG, FormatGIF:
		if quality != nil {
			p.errorf(quality, "quality applies to jpeg and webp only, not to %s", o.Format)
		}
		o.Quality, o.QualityByFormat = 0, nil
	default:
		if quality == nil {
			o.Quality = DefaultQuality
		}
		if o.QualityByFormat != nil && o.Format != FormatSource {
			if _, given := o.QualityByFormat[o.Format]; !given || len(o.QualityByFormat) > 1 {
				p.errorf(quality, "a quality per format is for outputs with format: source; give %s one number", o.Format)
			}
		}
	}
	if o.Animated && o.Format != FormatGIF && o.Format != FormatSource {
		p.errorf(animated, "animated output is written as GIF: give format gif (or source, for GIF sources), not %s", o.Format)
	}
	if o.Progressive && progressive != nil {
		p.errorf(progressive, "progressive JPEG is not available: Go's image/jpeg writes baseline JPEG only; remove progressive or set it to false")
	}
	return o, len(p.errs) == before
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, "%s must be true or false, got %s", what, describe(n))
		return false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errorf(n, "%s must be true or false, got %s", what, describe(n))
	}
	return b
}

// metadata reads an output's metadata policy:
//
//	metadata: {copyright: keep, icc: keep}
func (p *parser) metadata(n *yaml.Node) Metadata {
	var m Metadata
	policy := func(v *yaml.Node, what string) bool {
		s, ok := p.str(v, what)
		if !ok {
			return false
		}
		switch s {
		case "keep":
			return true
		case "strip":
			return false
		}
		p.errorf(v, "%s must be keep or strip, got %q", what, clip(s))
		return false
	}
	p.mapping(n, "metadata", []field{
		{name: "copyright", set: func(v *yaml.Node) { m.KeepCopyright = policy(v, "metadata copyright") }},
		{name: "icc", set: func(v *yaml.Node) { m.StripICC = !policy(v, "metadata icc") }},
	})
	return m
}

// headerValue reads a string that goes into an HTTP header.
func (p *parser) headerValue(n *yaml.Node, what string) string {
	s, ok := p.str(n, what)
	if !ok {
		return ""
	}
	switch {
	case strings.TrimSpace(s) == "":
		p.errorf(n, "%s is empty; leave the field out to use the default", what)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r > unicode.MaxASCII }) >= 0:
		p.errorf(n, "%s must be printable ASCII without control characters", what)
	}
	return s
}

var mimeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;.*)?$`)

// Colour policies of an output.
const (
	ColorSRGB = "srgb"
	ColorKeep = "keep"
)

func (p *parser) colorPolicy(n *yaml.Node) string {
	s, ok := p.str(n, "color")
	if !ok {
		return ""
	}
	switch s {
	case ColorSRGB:
		return "" // the default, spelt out
	case ColorKeep:
		return s
	}
	p.errorf(n, "color must be srgb (convert to sRGB) or keep (keep the source's profile), got %q", clip(s))
	return ""
}

var hexColorRE = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// background reads a colour written as #rgb or #rrggbb.
func (p *parser) background(n *yaml.Node) *color.NRGBA {
	s, ok := p.str(n, "background")
	if !ok {
		return nil
	}
	if !hexColorRE.MatchString(s) {
		p.errorf(n, "background must be a colour such as \"#ffffff\" or \"#fff\", got %q", clip(s))
		return nil
	}
	hex := s[1:]
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	v, _ := strconv.ParseUint(hex, 16, 32)
	return &color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

func (p *parser) contentType(n *yaml.Node) string {
	s := p.headerValue(n, "content_type")
	if s != "" && !mimeRE.MatchString(strings.ToLower(s)) {
		p.errorf(n, "content_type %q is not a MIME type such as image/jpeg", clip(s))
	}
	return s
}

func (p *parser) pos(n *yaml.Node) Pos {
	return Pos{File: p.file, Line: max(n.Line, 1), Column: max(n.Column, 1)}
}

var opRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)?$`)

// steps reads an output's list of plugin operations.
func (p *parser) steps(n *yaml.Node) []Step {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "steps must be a list, got %s", describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "steps needs at least one step")
		return nil
	}
	out := make([]Step, 0, len(n.Content))
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			p.errorf(item, "a step is one operation with its parameters, such as `- resize: {width: 800}`; got %s", describe(item))
			continue
		}
		k, v := resolve(item.Content[0]), resolve(item.Content[1])
		if k.Kind != yaml.ScalarNode || !opRE.MatchString(k.Value) {
			p.errorf(k, "step operation %s is not an operation name", describe(k))
			continue
		}
		st := Step{Op: k.Value, Params: map[string]any{}, Pos: p.pos(k), ParamPos: map[string]Pos{}}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		case v.Kind != yaml.MappingNode:
			p.errorf(v, "parameters of %s must be a mapping, got %s", st.Op, describe(v))
			continue
		default:
			for i := 0; i+1 < len(v.Content); i += 2 {
				pk, pv := resolve(v.Content[i]), resolve(v.Content[i+1])
				if pk.Kind != yaml.ScalarNode {
					p.errorf(pk, "%s: parameter names must be plain words", st.Op)
					continue
				}
				if _, dup := st.Params[pk.Value]; dup {
					p.errorf(pk, "%s: parameter %q given twice", st.Op, pk.Value)
					continue
				}
				val, ok := p.scalar(pv, st.Op+" parameter "+pk.Value)
				if !ok {
					continue
				}
				st.Params[pk.Value] = val
				st.ParamPos[pk.Value] = p.pos(pv)
			}
		}
		out = append(out, st)
	}
	return out
}

// scalar reads a parameter value as the Go value YAML types it as.
func (p *parser) scalar(n *yaml.Node, what string) (any, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a single value, got %s", what, describe(n))
		return nil, false
	}
	var v any
	switch n.Tag {
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			p.errorf(n, "%s: %q is out of range", what, clip(n.Value))
			return nil, false
		}
		return i, true
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			p.errorf(n, "%s: %q is not a number", what, clip(n.Value))
			return nil, false
		}
		return f, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			p.errorf(n, "%s: %q is not true or false", what, clip(n.Value))
			return nil, false
		}
		return b, true
	case "!!str":
		return n.Value, true
	case "!!null":
		p.errorf(n, "%s has no value", what)
		return nil, false
	}
	p.errorf(n, "%s: unsupported value %s", what, describe(n))
	return v, false
}

func (p *parser) dimension(n *yaml.Node, what string) int {
	v, ok := p.integer(n, what)
	if ok && (v < 1 || v > MaxDimension) {
		p.errorf(n, "%s %d is out of range 1..%d", what, v, MaxDimension)
	}
	return v
}

// quality reads one quality for every lossy format, or a mapping of format
// to quality: {jpeg: 82, webp: 75}.
func (p *parser) quality(n *yaml.Node) (int, map[string]int) {
	n = resolve(n)
	one := func(v *yaml.Node, what string) int {
		q, ok := p.integer(v, what)
		if ok && (q < 1 || q > 100) {
			p.errorf(v, "%s %d is out of range 1..100", what, q)
		}
		return q
	}
	if n.Kind != yaml.MappingNode {
		return one(n, "quality"), nil
	}
	byFormat := map[string]int{}
	var fields []field
	for _, f := range []string{FormatJPEG, FormatWebP, FormatAVIF, FormatPNG, FormatGIF} {
		fields = append(fields, field{name: f, set: func(v *yaml.Node) {
			if f == FormatPNG || f == FormatGIF {
				p.errorf(v, "%s takes no quality; only jpeg, webp and avif do", f)
				return
			}
			byFormat[f] = one(v, "quality "+f)
		}})
	}
	p.mapping(n, "quality", fields)
	return 0, byFormat
}

func (p *parser) format(n *yaml.Node) string {
	s, ok := p.str(n, "format")
	if !ok {
		return DefaultFormat
	}
	switch s {
	case FormatJPEG, FormatPNG, FormatGIF, FormatSource:
		return s
	case FormatWebP, FormatAVIF:
		if imaging.CanEncode(s) {
			return s
		}
		p.errorf(n, "format %s: this build has no %s encoder; use jpeg, png, gif or source", s, strings.ToUpper(s))
		return DefaultFormat
	case "jpg":
		p.errorf(n, "format %q is not one of %s (did you mean \"jpeg\"?)", s, formatList)
		return DefaultFormat
	}
	if guess := closest(s, []string{FormatJPEG, FormatPNG, FormatGIF, FormatWebP, FormatAVIF, FormatSource}); guess != "" {
		p.errorf(n, "format %q is not one of %s (did you mean %q?)", clip(s), formatList, guess)
	} else {
		p.errorf(n, "format %q is not one of %s", clip(s), formatList)
	}
	return DefaultFormat
}

// formatList names the formats an output may ask for, for error messages.
const formatList = "jpeg, png, gif, webp, avif, source"

// Digest is a short, stable fingerprint of what the recipe produces: the first
// 12 hex digits of the SHA-256 of its canonical form. Formatting, comments,
// field order and the file's path do not change it; any change to a name,
// pattern, priority or output does. It goes into outbox deduplication ids.
func (r *Recipe) Digest() string {
	type canonicalStep struct {
		Op     string         `json:"op"`
		Params map[string]any `json:"params"`
	}
	// Fields added after the first version are left out when unset, so
	// that recipes which do not use them keep their digest.
	type canonicalOutput struct {
		Name            string          `json:"name"`
		Width           int             `json:"width"`
		Height          int             `json:"height"`
		Format          string          `json:"format"`
		Quality         int             `json:"quality"`
		Steps           []canonicalStep `json:"steps,omitempty"`
		QualityByFormat map[string]int  `json:"quality_by_format,omitempty"`
		Progressive     bool            `json:"progressive,omitempty"`
		KeepCopyright   bool            `json:"keep_copyright,omitempty"`
		StripICC        bool            `json:"strip_icc,omitempty"`
		Color           string          `json:"color,omitempty"`
		Animated        bool            `json:"animated,omitempty"`
		Background      string          `json:"background,omitempty"`
		Key             string          `json:"key,omitempty"`
		CacheControl    string          `json:"cache_control,omitempty"`
		ContentType     string          `json:"content_type,omitempty"`
	}
	c := struct {
		Version  int               `json:"v"`
		Name     string            `json:"name"`
		Priority int               `json:"priority"`
		Match    []string          `json:"match"`
		Exclude  []string          `json:"exclude"`
		Outputs  []canonicalOutput `json:"outputs"`
	}{Version: 1, Name: r.Name, Priority: r.Priority, Match: nonNil(r.Match), Exclude: nonNil(r.Exclude)}
	for _, o := range r.Outputs {
		co := canonicalOutput{Name: o.Name, Width: o.Width, Height: o.Height, Format: o.Format, Quality: o.Quality,
			QualityByFormat: o.QualityByFormat, Progressive: o.Progressive,
			KeepCopyright: o.Metadata.KeepCopyright, StripICC: o.Metadata.StripICC,
			Color: o.Color, Animated: o.Animated, Background: o.BackgroundHex(),
			Key: o.KeyTemplate, CacheControl: o.CacheControl, ContentType: o.ContentType}
		for _, st := range o.Steps {
			co.Steps = append(co.Steps, canonicalStep{Op: st.Op, Params: st.Params})
		}
		c.Outputs = append(c.Outputs, co)
	}
	data, err := json.Marshal(c)
	if err != nil {
		// Marshalling strings and ints cannot fail.
		panic("recipe: digest: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:12]
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TargetFormat is the format the output is encoded in, given the format the
// source decoded as (the name image.Decode reports: "jpeg", "png", "gif",
// "webp", ...). An output with format "source" keeps the source's format when
// this build can encode it, and falls back to jpeg otherwise.
func (o Output) TargetFormat(sourceFormat string) string {
	if o.Format != FormatSource {
		if o.Format == "" {
			return DefaultFormat
		}
		return o.Format
	}
	switch f := strings.ToLower(sourceFormat); f {
	case FormatJPEG, "jpg":
		return FormatJPEG
	case FormatPNG, FormatGIF:
		return f
	case FormatWebP:
		if imaging.CanEncode(imaging.WebP) {
			return f
		}
	}
	return FormatJPEG
}

// Ext is the file extension, without a dot, of the output's key: "jpg",
// "png", "gif" or "webp". It always agrees with TargetFormat.
func (o Output) Ext(sourceFormat string) string {
	return imaging.Ext(o.TargetFormat(sourceFormat))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// BackgroundHex is the output's background as #rrggbb, or "" when it has
// none of its own.
func (o Output) BackgroundHex() string {
	if o.Background == nil {
		return ""
	}
	return fmt.Sprintf("#%02x%02x%02x", o.Background.R, o.Background.G, o.Background.B)
}
