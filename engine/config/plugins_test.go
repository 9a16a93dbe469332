package config

import (
	"reflect"
	"strings"
	"testing"
)

const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestLoadPlugins(t *testing.T) {
	path := writeConfig(t, `
plugins_dir: /opt/resizer/plugins
plugins:
  - name: sepia
    path: sepia
    sha256: `+sum+`
  - name: blur
    path: /usr/local/bin/blur
    sha256: `+strings.ToUpper(sum)+`
    args: [--fast, "--radius=2"]
plugin_start_timeout: 5s
plugin_call_timeout: 2m
`)
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.PluginsDir = "/opt/resizer/plugins"
	want.Plugins = Plugins{
		{Name: "sepia", Path: "sepia", SHA256: sum},
		{Name: "blur", Path: "/usr/local/bin/blur", SHA256: strings.ToUpper(sum), Args: []string{"--fast", "--radius=2"}},
	}
	want.PluginStartTimeout = Duration(5e9)
	want.PluginCallTimeout = Duration(120e9)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
	}

	// The one-line form of Get is what Set, the environment and --set read.
	text, err := got.Get("plugins")
	if err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.Set("plugins", text); err != nil {
		t.Fatalf("Set(plugins, %s): %v", text, err)
	}
	if !reflect.DeepEqual(c.Plugins, want.Plugins) {
		t.Errorf("Set(Get) = %+v", c.Plugins)
	}
	env, err := Load("", []string{"RESIZER_PLUGINS=[{name: sepia, path: /p/sepia, sha256: " + sum + "}]"})
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Plugins) != 1 || env.Plugins[0].Path != "/p/sepia" {
		t.Errorf("from the environment: %+v", env.Plugins)
	}
}

func TestPluginErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"not a list", "plugins: sepia\n", `FILE:1: plugins: want a list of {name, path, sha256[, args]}`},
		{"unknown key", "plugins:\n  - name: a\n    path: a\n    sha: " + sum + "\n", `FILE:4: plugins: item 1: unknown key "sha" (want name, path, sha256, args)`},
		{"item not a mapping", "plugins:\n  - sepia\n", `FILE:2: plugins: item 1: want a mapping of name, path, sha256 and args`},
		{"no name", "plugins:\n  - {path: a, sha256: " + sum + "}\n", `plugins[0]: name is required`},
		{"no path", "plugins:\n  - {name: a, sha256: " + sum + "}\n", `plugins[0] (a): path is required`},
		{"short sum", "plugins:\n  - {name: a, path: a, sha256: abc}\n", `plugins[0] (a): sha256 "abc" must be 64 hexadecimal digits (the output of sha256sum)`},
		{"not hex", "plugins:\n  - {name: a, path: a, sha256: " + strings.Repeat("z", 64) + "}\n", `must be 64 hexadecimal digits`},
		{"name twice", "plugins:\n  - {name: a, path: a, sha256: " + sum + "}\n  - {name: a, path: b, sha256: " + sum + "}\n", `plugins[1] (a): name "a" is also used by plugins[0]`},
		{"relative without dir", "plugins_dir: \"\"\nplugins:\n  - {name: a, path: a, sha256: " + sum + "}\n", `plugins[0] (a): path "a" is relative and plugins_dir is empty`},
		{"zero call timeout", "plugin_call_timeout: 0s\n", `plugin_call_timeout 0s is out of range 1ms..12h0m0s`},
		{"zero start timeout", "plugin_start_timeout: 0s\n", `plugin_start_timeout 0s is out of range 1ms..10m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			_, err := Load(path, nil)
			want := strings.ReplaceAll(tt.want, "FILE", path)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load = %v, want %q", err, want)
			}
		})
	}
	c := Default()
	if err := c.Set("plugins", "{name: a}"); err == nil {
		t.Errorf("Set(plugins, a mapping) succeeded")
	}
}
