package recipe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Set is the recipes of one directory, ready to match keys. It is not changed
// after LoadDir, so it may be shared between goroutines.
type Set struct {
	recipes []*Recipe // sorted by name
}

// NewSet builds a Set from recipes already parsed. Names must be unique.
func NewSet(recipes ...*Recipe) (*Set, error) {
	s := &Set{recipes: append([]*Recipe(nil), recipes...)}
	sort.Slice(s.recipes, func(i, j int) bool { return s.recipes[i].Name < s.recipes[j].Name })
	var errs []error
	for i := 1; i < len(s.recipes); i++ {
		a, b := s.recipes[i-1], s.recipes[i]
		if a.Name == b.Name {
			errs = append(errs, fmt.Errorf("recipe name %q is used by both %s and %s", a.Name, a.File, b.File))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// LoadDir parses every *.yaml and *.yml file directly inside dir (not in
// subdirectories, and not hidden files such as editor backups). All problems
// of all files are reported together. A directory without recipes gives an
// empty Set; the caller decides whether that is acceptable.
func LoadDir(dir string) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading recipes: %w", err)
	}
	var (
		recipes []*Recipe
		errs    []error
	)
	for _, e := range entries { // ReadDir sorts by name, so errors come in a stable order
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext != ".yaml" && ext != ".yml" {
			continue
		}
		file := filepath.Join(dir, name)
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading recipe: %w", err))
			continue
		}
		r, err := Parse(file, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recipes = append(recipes, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return NewSet(recipes...)
}

// Recipes returns the recipes sorted by name. The slice is a copy; the
// recipes are shared and must not be changed.
func (s *Set) Recipes() []*Recipe {
	return append([]*Recipe(nil), s.recipes...)
}

// Candidate is a recipe considered for a key, with the reason it ranks where
// it does. It is what `resizer recipes match KEY` prints.
type Candidate struct {
	Recipe *Recipe
	// Pattern is the match pattern that ranks this recipe: among the
	// recipe's patterns that match the key, the one with the longest literal
	// prefix (the first of equals).
	Pattern string
	// LiteralPrefix is the length in bytes of Pattern's leading text before
	// any wildcard.
	LiteralPrefix int
	// ExcludedBy is the exclude pattern that removed the recipe, or "" if it
	// was not excluded.
	ExcludedBy string
}

// Candidates returns every recipe with a match pattern that matches key, best
// first: the ones not excluded, in precedence order (priority, highest first;
// then the longer literal prefix of the matching pattern; then the name,
// alphabetically), followed by the excluded ones in name order.
func (s *Set) Candidates(key string) []Candidate {
	var kept, excluded []Candidate
	for _, r := range s.recipes {
		c, ok := r.candidate(key)
		if !ok {
			continue
		}
		if c.ExcludedBy != "" {
			excluded = append(excluded, c)
		} else {
			kept = append(kept, c)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return better(kept[i], kept[j]) })
	return append(kept, excluded...)
}

// Match returns the recipe for key, or false when no recipe matches it (or
// every one that does excludes it).
func (s *Set) Match(key string) (*Recipe, bool) {
	var best *Candidate
	for _, r := range s.recipes {
		c, ok := r.candidate(key)
		if !ok || c.ExcludedBy != "" {
			continue
		}
		if best == nil || better(c, *best) {
			best = &c
		}
	}
	if best == nil {
		return nil, false
	}
	return best.Recipe, true
}

func better(a, b Candidate) bool {
	if a.Recipe.Priority != b.Recipe.Priority {
		return a.Recipe.Priority > b.Recipe.Priority
	}
	if a.LiteralPrefix != b.LiteralPrefix {
		return a.LiteralPrefix > b.LiteralPrefix
	}
	return a.Recipe.Name < b.Recipe.Name
}

// candidate reports whether r matches key and how well.
func (r *Recipe) candidate(key string) (Candidate, bool) {
	c := Candidate{Recipe: r, LiteralPrefix: -1}
	for _, p := range r.Match {
		if !doublestar.MatchUnvalidated(p, key) {
			continue
		}
		if n := literalPrefix(p); n > c.LiteralPrefix {
			c.Pattern, c.LiteralPrefix = p, n
		}
	}
	if c.LiteralPrefix < 0 {
		return Candidate{}, false
	}
	for _, p := range r.Exclude {
		if doublestar.MatchUnvalidated(p, key) {
			c.ExcludedBy = p
			break
		}
	}
	return c, true
}

// literalPrefix is the length of the pattern's text before its first
// wildcard, brace, class or escape.
func literalPrefix(pattern string) int {
	if i := strings.IndexAny(pattern, `*?[{\`); i >= 0 {
		return i
	}
	return len(pattern)
}
