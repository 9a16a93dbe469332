package config

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Plugin is an external plugin: an executable pinned by its SHA-256.
type Plugin struct {
	// Name is the plugin's name, the one it describes itself under.
	Name string `yaml:"name" json:"name"`
	// Path is the executable, relative to plugins_dir unless absolute.
	Path string `yaml:"path" json:"path"`
	// SHA256 is the executable's checksum in hex (sha256sum's output);
	// the daemon checks it before every start of the plugin.
	SHA256 string `yaml:"sha256" json:"sha256"`
	// Args are passed to the executable, without a shell.
	Args []string `yaml:"args,omitempty" json:"args,omitempty"`
}

// Plugins is the plugins setting. In a file it is a list of mappings; in
// the environment and in --set it is the same list in YAML flow (or JSON)
// form: [{name: sepia, path: sepia, sha256: ...}].
type Plugins []Plugin

// String gives the list in the one-line form Set reads.
func (p Plugins) String() string {
	if len(p) == 0 {
		return "[]"
	}
	b, _ := json.Marshal([]Plugin(p)) // strings only: cannot fail
	return string(b)
}

var pluginKeys = []string{"name", "path", "sha256", "args"}

// pluginsFromYAML reads the plugins list of a config file, refusing
// unknown keys, with the file and line in every error.
func pluginsFromYAML(path string, n *yaml.Node) (Plugins, error) {
	plugins, at, err := decodePlugins(n)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: plugins: %w", path, at.Line, err)
	}
	return plugins, nil
}

// parsePlugins reads the one-line form.
func parsePlugins(text string) (Plugins, error) {
	if text == "" {
		return nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("plugins: %q is not a YAML list", text)
	}
	plugins, _, err := decodePlugins(&doc)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	return plugins, nil
}

// decodePlugins turns a YAML list of mappings into Plugins. On error it
// also returns the node at fault.
func decodePlugins(n *yaml.Node) (Plugins, *yaml.Node, error) {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, n, fmt.Errorf("want a list of {name, path, sha256[, args]}")
	}
	var out Plugins
	for i, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			return nil, item, fmt.Errorf("item %d: want a mapping of name, path, sha256 and args", i+1)
		}
		seen := map[string]bool{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k := item.Content[j]
			if !contains(pluginKeys, k.Value) {
				return nil, k, fmt.Errorf("item %d: unknown key %q (want name, path, sha256, args)", i+1, k.Value)
			}
			if seen[k.Value] {
				return nil, k, fmt.Errorf("item %d: %q is set twice", i+1, k.Value)
			}
			seen[k.Value] = true
		}
		var p Plugin
		if err := item.Decode(&p); err != nil {
			return nil, item, fmt.Errorf("item %d: %v", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// validate checks each plugin: a unique non-empty name, a path, and a
// SHA-256 of 64 hex digits.
func (p Plugins) validate(dir string) error {
	names := map[string]int{}
	for i, pl := range p {
		where := fmt.Sprintf("plugins[%d]", i)
		if pl.Name != "" {
			where += fmt.Sprintf(" (%s)", pl.Name)
		}
		switch {
		case pl.Name == "":
			return fmt.Errorf("%s: name is required", where)
		case pl.Path == "":
			return fmt.Errorf("%s: path is required", where)
		case !filepath.IsAbs(pl.Path) && dir == "":
			return fmt.Errorf("%s: path %q is relative and plugins_dir is empty", where, pl.Path)
		}
		if sum, err := hex.DecodeString(pl.SHA256); err != nil || len(sum) != 32 {
			return fmt.Errorf("%s: sha256 %q must be 64 hexadecimal digits (the output of sha256sum)", where, pl.SHA256)
		}
		if first, dup := names[pl.Name]; dup {
			return fmt.Errorf("%s: name %q is also used by plugins[%d]", where, pl.Name, first)
		}
		names[pl.Name] = i
	}
	return nil
}
