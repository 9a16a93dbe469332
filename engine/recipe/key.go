package recipe

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seed62486500/resizer/engine/internal/suggest"
)

// DefaultKeyTemplate is the key template of an output that gives none:
// prefix + source key + "/" + output name + "." + extension, for example
// "processed/uploads/cat.jpg/large.jpg".
const DefaultKeyTemplate = "{key}/{output}.{ext}"

// KeyVariables are the variables a key template may use, with what each
// stands for, for the example source key "uploads/2024/cat.PNG" rendered as
// a jpeg output called "large" of the recipe "web".
var KeyVariables = []struct{ Name, Doc, Example string }{
	{"key", "the whole source key", "uploads/2024/cat.PNG"},
	{"dir", "the source key's folder, without a trailing slash; empty at the top (a slash right after it is then dropped too)", "uploads/2024"},
	{"name", "the source key's last segment", "cat.PNG"},
	{"stem", "the last segment without its extension", "cat"},
	{"source_ext", "the source key's extension, without the dot, as written", "PNG"},
	{"ext", "the output's extension, from its format: jpg, png, gif or webp", "jpg"},
	{"output", "the output's name", "large"},
	{"recipe", "the recipe's name", "web"},
	{"hash", "the first 16 hex digits of the SHA-256 of the output's bytes", "9f86d081884c7d65"},
}

// KeyVars are the values a key template is rendered with.
type KeyVars struct {
	Source string // the source key
	Recipe string // the recipe's name
	Ext    string // the output's extension
	// Hash is the content hash of the output's bytes; "" renders as the
	// literal "{hash}", for previews made before any output exists.
	Hash string
}

// KeyOf is where the output is written: prefix + its key template rendered
// with v. The same inputs always give the same key, which keeps redelivered
// messages idempotent.
func (o Output) KeyOf(prefix string, v KeyVars) string {
	tmpl := o.KeyTemplate
	if tmpl == "" {
		tmpl = DefaultKeyTemplate
	}
	parts, _ := splitTemplate(tmpl)
	dir, name := "", v.Source
	if i := strings.LastIndex(v.Source, "/"); i >= 0 {
		dir, name = v.Source[:i], v.Source[i+1:]
	}
	stem, srcExt := name, ""
	if i := strings.LastIndex(name, "."); i > 0 {
		stem, srcExt = name[:i], name[i+1:]
	}
	hash := v.Hash
	if hash == "" {
		hash = "{hash}"
	}
	vals := map[string]string{
		"key": v.Source, "dir": dir, "name": name, "stem": stem, "source_ext": srcExt,
		"ext": v.Ext, "output": o.Name, "recipe": v.Recipe, "hash": hash,
	}
	var b strings.Builder
	b.WriteString(prefix)
	skipSlash := false
	for _, p := range parts {
		if p.variable {
			val := vals[p.text]
			b.WriteString(val)
			skipSlash = p.text == "dir" && val == ""
			continue
		}
		text := p.text
		if skipSlash {
			text = strings.TrimPrefix(text, "/")
		}
		skipSlash = false
		b.WriteString(text)
	}
	return b.String()
}

// OutputKey is where an output of sourceKey is written when its template
// does not use the recipe's name or the content hash (as the default does).
func OutputKey(prefix, sourceKey string, o Output, ext string) string {
	return o.KeyOf(prefix, KeyVars{Source: sourceKey, Ext: ext})
}

type templatePart struct {
	text     string
	variable bool
}

// splitTemplate cuts a key template into literal text and {variables}.
func splitTemplate(tmpl string) ([]templatePart, error) {
	var parts []templatePart
	for tmpl != "" {
		open := strings.IndexAny(tmpl, "{}")
		if open < 0 {
			parts = append(parts, templatePart{text: tmpl})
			break
		}
		if tmpl[open] == '}' {
			return nil, fmt.Errorf("a '}' without its '{'")
		}
		if open > 0 {
			parts = append(parts, templatePart{text: tmpl[:open]})
		}
		end := strings.IndexAny(tmpl[open+1:], "{}")
		if end < 0 || tmpl[open+1+end] == '{' {
			return nil, fmt.Errorf("a '{' without its '}'")
		}
		parts = append(parts, templatePart{text: tmpl[open+1 : open+1+end], variable: true})
		tmpl = tmpl[open+2+end:]
	}
	return parts, nil
}

func keyVariableNames() []string {
	names := make([]string, len(KeyVariables))
	for i, v := range KeyVariables {
		names[i] = v.Name
	}
	return names
}

// keyTemplate reads and checks an output's key template: known variables
// only, and nothing that could take the key out of the output prefix.
func (p *parser) keyTemplate(n *yaml.Node) string {
	s, ok := p.str(n, "key")
	if !ok {
		return ""
	}
	parts, err := splitTemplate(s)
	if err != nil {
		p.errorf(n, "key template %q: %v", clip(s), err)
		return ""
	}
	known := keyVariableNames()
	bad := false
	for _, part := range parts {
		if !part.variable {
			continue
		}
		if !contains(known, part.text) {
			bad = true
			if guess := closest(part.text, known); guess != "" {
				p.errorf(n, "key template %q: unknown variable {%s} (did you mean {%s}?)", clip(s), clip(part.text), guess)
			} else {
				p.errorf(n, "key template %q: unknown variable {%s} (known: %s)", clip(s), clip(part.text), strings.Join(known, ", "))
			}
		}
	}
	if bad {
		return ""
	}
	if reason := leavesPrefix(s, parts); reason != "" {
		p.errorf(n, "key template %q could leave the output prefix: %s", clip(s), reason)
		return ""
	}
	return s
}

// leavesPrefix says why a template could write outside the output prefix,
// or "" if it cannot. Variables are taken as one plain segment each ({key}
// and {dir} hold slashes, but only the source key's own).
func leavesPrefix(s string, parts []templatePart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.variable {
			b.WriteString("v")
		} else {
			b.WriteString(p.text)
		}
	}
	flat := b.String()
	switch {
	case s == "":
		return "it is empty; leave the field out for the default " + DefaultKeyTemplate
	case strings.HasPrefix(s, "/"):
		return "it starts with '/' (keys are relative to the output prefix)"
	case strings.Contains(flat, `\`):
		return "it contains a backslash, which some tools read as a folder separator"
	case strings.HasSuffix(flat, "/"):
		return "it ends with '/', which names a folder, not an object"
	}
	for _, seg := range strings.Split(flat, "/") {
		switch seg {
		case "..":
			return "it has a '..' segment"
		case ".":
			return "it has a '.' segment"
		case "":
			return "it has an empty segment ('//')"
		}
	}
	if path.Clean(flat) != flat {
		return "it is not a clean path"
	}
	return ""
}

// sampleKeys are source keys that differ in one part each (folder, depth,
// stem, extension), used to find key templates that give two sources, or
// two outputs, the same key.
var sampleKeys = []string{
	"a/b.jpg", "a/b.png", "a/b.jpeg", "a/b.webp", "a/c.jpg", "b.jpg", "c/a/b.jpg", "d/a/b.jpg", "a/b.jpg/c.jpg", "a/b.c.jpg",
}

func sampleFormat(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".png":
		return FormatPNG
	case ".gif":
		return FormatGIF
	case ".webp":
		return FormatWebP
	}
	return FormatJPEG
}

// keyCollisions reports outputs that could write the same key: two outputs
// of one source, one output of two sources, or outputs of two recipes for
// two sources. (Two recipes never run for the same source, since one
// wins.) Each pair of outputs is reported once, at the later one.
func keyCollisions(recipes []*Recipe) []error {
	type written struct {
		r      *Recipe
		o      *Output
		source string
	}
	type pair struct{ a, b *Output }
	seen := map[string]written{}
	reported := map[pair]bool{}
	var errs []error
	for _, r := range recipes {
		for i := range r.Outputs {
			o := &r.Outputs[i]
			for _, src := range sampleKeys {
				key := o.KeyOf("", KeyVars{Source: src, Recipe: r.Name, Ext: o.Ext(sampleFormat(src)),
					Hash: fmt.Sprintf("%x", []byte(r.Name+"/"+o.Name+"/"+src))})
				w, dup := seen[key]
				if !dup {
					seen[key] = written{r, o, src}
					continue
				}
				if w.r != r && w.source == src {
					continue
				}
				if reported[pair{w.o, o}] {
					continue
				}
				reported[pair{w.o, o}] = true
				tmpl := o.KeyTemplate
				if tmpl == "" {
					tmpl = DefaultKeyTemplate
				}
				var what string
				switch {
				case w.o == o:
					what = fmt.Sprintf("key template %q gives sources %q and %q the same key %q; use {key}, or {dir} with {name}", tmpl, w.source, src, key)
				case w.r == r:
					what = fmt.Sprintf("writes the same key as output %q (%s) for source %q: %q; put {output} in the key template", w.o.Name, w.o.Pos, src, key)
				default:
					what = fmt.Sprintf("of recipe %q writes the same key as output %q of recipe %q (%s): %q, for sources %q and %q; put {recipe} or {key} in the key template",
						r.Name, w.o.Name, w.r.Name, w.o.Pos, key, w.source, src)
				}
				errs = append(errs, o.KeyPos.Errorf("output %q %s", o.Name, what))
			}
		}
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// closest returns the name in names that s abbreviates, or that is within
// two edits of s, or "".
func closest(s string, names []string) string { return suggest.Closest(s, names) }

// sortErrors orders located errors by file, line and column, after any
// that have no location.
func sortErrors(errs []error) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, aok := errs[i].(*Error)
		b, bok := errs[j].(*Error)
		switch {
		case !aok || !bok:
			return !aok && bok
		case a.File != b.File:
			return a.File < b.File
		case a.Line != b.Line:
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
