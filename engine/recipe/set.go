package recipe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Set is the recipes of one directory, ready to match keys. It is not changed
// after it is built, so it may be shared between goroutines; a reload builds
// a new one.
type Set struct {
	recipes  []*Recipe // sorted by name
	fallback *Recipe   // for keys no recipe matches; nil for none
}

// NewSet builds a Set from recipes already parsed. Names must be unique, and
// no two outputs may write the same key (see keyCollisions).
func NewSet(recipes ...*Recipe) (*Set, error) {
	s, errs := newSet(recipes)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// newSet builds the set and returns it with its problems, so that a check
// can go on to look at the steps of every recipe.
func newSet(recipes []*Recipe) (*Set, []error) {
	s := &Set{recipes: append([]*Recipe(nil), recipes...)}
	sort.SliceStable(s.recipes, func(i, j int) bool { return s.recipes[i].Name < s.recipes[j].Name })
	var errs []error
	for i := 1; i < len(s.recipes); i++ {
		a, b := s.recipes[i-1], s.recipes[i]
		if a.Name == b.Name {
			errs = append(errs, b.Pos.Errorf("recipe name %q is used by both %s and %s", a.Name, a.File, b.File))
		}
	}
	errs = append(errs, keyCollisions(s.recipes)...)
	sortErrors(errs)
	return s, errs
}

// LoadOptions say how Load checks a recipes directory.
type LoadOptions struct {
	// Ops checks every step against the plugins; nil checks the recipe
	// language only.
	Ops Operations
	// Fallback names the recipe for keys that no recipe matches; "" leaves
	// them unmatched (skipped).
	Fallback string
}

// LoadDir parses every *.yaml and *.yml file directly inside dir (not in
// subdirectories, and not hidden files such as editor backups). All problems
// of all files are reported together. A directory without recipes gives an
// empty Set; the caller decides whether that is acceptable.
func LoadDir(dir string) (*Set, error) {
	return Load(context.Background(), dir, LoadOptions{})
}

// Load reads dir like LoadDir and checks the whole set: every file, names,
// output keys, and with opts.Ops every step against the plugins. It returns
// every problem found, sorted by file, line and column, and no Set if there
// is any.
func Load(ctx context.Context, dir string, opts LoadOptions) (*Set, error) {
	recipes, partial, errs := parseDir(dir)
	s, setErrs := newSet(recipes)
	errs = append(errs, setErrs...)
	if opts.Ops != nil {
		// The steps of recipes with other problems are checked too, so
		// that one run reports everything.
		all := &Set{recipes: append(s.Recipes(), partial...)}
		if err := all.Check(ctx, opts.Ops); err != nil {
			errs = append(errs, unjoin(err)...)
		}
	}
	if opts.Fallback != "" {
		for _, r := range s.recipes {
			if r.Name == opts.Fallback {
				s.fallback = r
			}
		}
		broken := false // the recipe is there, with problems of its own
		for _, r := range partial {
			broken = broken || r.Name == opts.Fallback
		}
		if s.fallback == nil && !broken {
			errs = append(errs, fmt.Errorf("default_recipe %q: no recipe of that name in %s", opts.Fallback, dir))
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Files lists the recipe files of dir that Load reads, in the order it
// reads them.
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading recipes: %w", err)
	}
	var files []string
	for _, e := range entries { // ReadDir sorts by name, so errors come in a stable order
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext != ".yaml" && ext != ".yml" {
			continue
		}
		files = append(files, filepath.Join(dir, name))
	}
	return files, nil
}

// parseDir parses the recipe files of dir: the good recipes, what could be
// read of the others, and every problem.
func parseDir(dir string) (good, partial []*Recipe, errs []error) {
	files, err := Files(dir)
	if err != nil {
		return nil, nil, []error{err}
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading recipe: %w", err))
			continue
		}
		r, perrs := parsePartial(file, data)
		switch {
		case len(perrs) == 0:
			good = append(good, r)
		case r != nil:
			partial = append(partial, r)
		}
		errs = append(errs, perrs...)
	}
	return good, partial, errs
}

// unjoin undoes errors.Join, so that problems can be sorted together.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Fallback is the recipe for keys that no recipe matches, or nil.
func (s *Set) Fallback() *Recipe { return s.fallback }

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

// Match returns the recipe for key: the best candidate, else the fallback
// recipe; false when there is neither.
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
		return s.fallback, s.fallback != nil
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
