package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// writeConfig writes a config file named config.yaml in a fresh directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Validate changed a valid default config")
	}
}

// TestExampleFileIsTheDefault keeps deploy/resizer.example.yaml true: it must
// set every field, and to its default.
func TestExampleFileIsTheDefault(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "resizer.example.yaml")
	got, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load(example): %v", err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("example file loads as\n%+v\nwant Default()\n%+v", got, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, name := range Fields() {
		if _, ok := m[name]; !ok {
			t.Errorf("example file does not show %q", name)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	data, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(writeConfig(t, string(data)), nil)
	if err != nil {
		t.Fatalf("Load(marshalled default): %v\n%s", err, data)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("round trip = %+v", got)
	}
}

func TestLoadFile(t *testing.T) {
	path := writeConfig(t, `
bucket: photos
inbox_url: http://localhost:4566/000000000000/in.fifo
outbox_url: http://localhost:4566/000000000000/out.fifo
endpoint: http://localhost:4566
workers: 8
wait_time: 5s
visibility_timeout: 2m
max_pixels: 20_000_000
allowed_buckets:
  - photos
  - photos-archive
`)
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Bucket = "photos"
	want.InboxURL = "http://localhost:4566/000000000000/in.fifo"
	want.OutboxURL = "http://localhost:4566/000000000000/out.fifo"
	want.Endpoint = "http://localhost:4566"
	want.Workers = 8
	want.WaitTime = Duration(5 * time.Second)
	want.Visibility = Duration(2 * time.Minute)
	want.MaxPixels = 20_000_000
	want.AllowedBuckets = []string{"photos", "photos-archive"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string   // "" = no file
		env  []string // environ
		want string   // the whole error, with the file's path written as FILE
	}{
		{
			name: "unknown field with suggestion",
			file: "region: us-east-1\nbucket: b\n\n# comment\nworkers: 2\n\nbucekt: photos\n",
			want: `FILE:7: unknown field "bucekt" (did you mean "bucket"?)`,
		},
		{
			name: "unknown field without suggestion",
			file: "colour: blue\n",
			want: `FILE:1: unknown field "colour"`,
		},
		{
			name: "field set twice",
			file: "workers: 2\nworkers: 3\n",
			want: `FILE:2: "workers" is set twice (first on line 1)`,
		},
		{
			name: "not a number",
			file: "bucket: b\nworkers: many\n",
			want: `FILE:2: workers: "many" is not a whole number`,
		},
		{
			name: "bare number as duration",
			file: "wait_time: 20\n",
			want: `FILE:1: wait_time: "20" is not a duration (write it like "20s", "1m30s" or "15m")`,
		},
		{
			name: "mapping as a value",
			file: "bucket:\n  name: b\n",
			want: `FILE:2: bucket takes a single value, not a mapping`,
		},
		{
			name: "list for a single value",
			file: "bucket: [a, b]\n",
			want: `FILE:1: bucket takes a single value, not a list`,
		},
		{
			name: "not a mapping",
			file: "- bucket\n",
			want: `FILE:1: expected a mapping of settings`,
		},
		{
			name: "invalid yaml",
			file: "bucket: [\n",
			want: `FILE:1: did not find expected node content`,
		},
		{
			name: "missing bucket",
			file: "bucket: \"\"\n",
			want: `bucket is required`,
		},
		{
			name: "bad inbox url",
			file: "inbox_url: sqs.us-east-1.amazonaws.com/1/in.fifo\n",
			want: `inbox_url "sqs.us-east-1.amazonaws.com/1/in.fifo" is not an absolute http(s) URL`,
		},
		{
			name: "non-fifo outbox",
			file: "outbox_url: https://sqs.us-east-1.amazonaws.com/1/outbox\n",
			want: `outbox_url must name a FIFO queue (ending in .fifo)`,
		},
		{
			name: "bad endpoint from the environment",
			env:  []string{"RESIZER_ENDPOINT=localhost:4566"},
			want: `endpoint "localhost:4566" is not an absolute http(s) URL`,
		},
		{
			name: "bad number from the environment",
			env:  []string{"RESIZER_MAX_MESSAGES=ten"},
			want: `environment RESIZER_MAX_MESSAGES: max_messages: "ten" is not a whole number`,
		},
		{
			name: "missing file",
			file: "\x00missing",
			want: `reading config: open FILE: no such file or directory`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			switch {
			case tt.file == "\x00missing":
				path = filepath.Join(t.TempDir(), "absent.yaml")
			case tt.file != "":
				path = writeConfig(t, tt.file)
			}
			_, err := Load(path, tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			want := strings.ReplaceAll(tt.want, "FILE", path)
			if err.Error() != want {
				t.Errorf("error = %q\nwant    %q", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // "" = valid
	}{
		{name: "default", change: func(*Config) {}},
		{name: "missing region", change: func(c *Config) { c.Region = "" }, want: "region is required"},
		{name: "missing bucket", change: func(c *Config) { c.Bucket = "" }, want: "bucket is required"},
		{name: "bucket with slash", change: func(c *Config) { c.Bucket = "a/b" }, want: `bucket "a/b" is not a bucket name (no slashes or spaces)`},
		{name: "empty allowed bucket", change: func(c *Config) { c.AllowedBuckets = []string{"a", ""} }, want: "allowed_buckets is required"},
		{name: "missing inbox", change: func(c *Config) { c.InboxURL = "" }, want: "inbox_url is required"},
		{name: "inbox not fifo", change: func(c *Config) { c.InboxURL = "https://sqs.us-east-1.amazonaws.com/1/inbox" }, want: "inbox_url must name a FIFO queue (ending in .fifo)"},
		{name: "outbox not fifo", change: func(c *Config) { c.OutboxURL = "https://sqs.us-east-1.amazonaws.com/1/outbox" }, want: "outbox_url must name a FIFO queue (ending in .fifo)"},
		{name: "outbox ftp", change: func(c *Config) { c.OutboxURL = "ftp://host/q.fifo" }, want: `outbox_url "ftp://host/q.fifo" is not an absolute http(s) URL`},
		{name: "outbox relative", change: func(c *Config) { c.OutboxURL = "/1/q.fifo" }, want: `outbox_url "/1/q.fifo" is not an absolute http(s) URL`},
		{name: "same queue twice", change: func(c *Config) { c.OutboxURL = c.InboxURL }, want: "inbox_url and outbox_url name the same queue"},
		{name: "fifo with trailing slash", change: func(c *Config) { c.InboxURL = "http://localhost:9324/queue/in.fifo/" }},
		{name: "empty output prefix", change: func(c *Config) { c.OutputPrefix = "" }, want: "output_prefix is required (outputs must not land beside their sources)"},
		{name: "output prefix without slash", change: func(c *Config) { c.OutputPrefix = "processed" }, want: `output_prefix "processed" must end in "/"`},
		{name: "endpoint not a url", change: func(c *Config) { c.Endpoint = "::" }, want: `endpoint "::" is not an absolute http(s) URL`},
		{name: "s3 endpoint", change: func(c *Config) { c.S3Endpoint = "http://127.0.0.1:9000" }},
		{name: "sqs endpoint bad", change: func(c *Config) { c.SQSEndpoint = "127.0.0.1:9324" }, want: `sqs_endpoint "127.0.0.1:9324" is not an absolute http(s) URL`},
		{name: "zero workers", change: func(c *Config) { c.Workers = 0 }, want: "workers 0 is out of range 1..1024"},
		{name: "wait time too long", change: func(c *Config) { c.WaitTime = Duration(21 * time.Second) }, want: "wait_time 21s is out of range 0s..20s"},
		{name: "wait time fractional", change: func(c *Config) { c.WaitTime = Duration(1500 * time.Millisecond) }, want: "wait_time 1.5s must be a whole number of seconds"},
		{name: "no wait", change: func(c *Config) { c.WaitTime = 0 }},
		{name: "max messages 11", change: func(c *Config) { c.MaxMessages = 11 }, want: "max_messages 11 is out of range 1..10"},
		{name: "visibility over 12h", change: func(c *Config) { c.Visibility = Duration(13 * time.Hour) }, want: "visibility_timeout 13h0m0s is out of range 0s..12h0m0s"},
		{name: "heartbeat 1", change: func(c *Config) { c.HeartbeatEvery = 1 }, want: "heartbeat_fraction 1 must be between 0 and 1 (exclusive)"},
		{name: "heartbeat 0", change: func(c *Config) { c.HeartbeatEvery = 0 }, want: "heartbeat_fraction 0 must be between 0 and 1 (exclusive)"},
		{name: "retry max over 12h", change: func(c *Config) { c.RetryMax = Duration(24 * time.Hour) }, want: "retry_max 24h0m0s is out of range 0s..12h0m0s"},
		{name: "retry base over max", change: func(c *Config) { c.RetryBase = Duration(time.Hour) }, want: "retry_base 1h0m0s is longer than retry_max 15m0s"},
		{name: "negative grace", change: func(c *Config) { c.ShutdownGrace = Duration(-time.Second) }, want: "shutdown_grace -1s is out of range 0s..1h0m0s"},
		{name: "zero object bytes", change: func(c *Config) { c.MaxObjectBytes = 0 }, want: "max_object_bytes 0 is out of range 1..5497558138880"},
		{name: "zero pixels", change: func(c *Config) { c.MaxPixels = 0 }, want: "max_pixels 0 is out of range 1..1099511627776"},
		{name: "cache control newline", change: func(c *Config) { c.CacheControl = "public\r\nX-Evil: 1" }, want: "cache_control must not contain control characters"},
		{name: "group by bucket", change: func(c *Config) { c.OutboxGroupID = "{bucket}" }},
		{name: "fixed group", change: func(c *Config) { c.OutboxGroupID = "images" }},
		{name: "empty group", change: func(c *Config) { c.OutboxGroupID = "" }, want: `outbox_group_id is required ("{key}", "{bucket}" or a fixed id)`},
		{name: "unknown placeholder", change: func(c *Config) { c.OutboxGroupID = "{region}" }, want: `outbox_group_id "{region}": the only placeholders are "{key}" and "{bucket}", alone`},
		{name: "group with space", change: func(c *Config) { c.OutboxGroupID = "my group" }, want: `outbox_group_id "my group": SQS allows only printable ASCII without spaces`},
		{name: "log level", change: func(c *Config) { c.LogLevel = "verbose" }, want: `log_level "verbose" is not one of trace, debug, info, warn, error, off`},
		{name: "log format", change: func(c *Config) { c.LogFormat = "xml" }, want: `log_format "xml" is not one of auto, text, json`},
		{name: "metrics on all interfaces", change: func(c *Config) { c.MetricsAddr = ":9464" }},
		{name: "metrics on loopback", change: func(c *Config) { c.MetricsAddr = "127.0.0.1:0" }},
		{name: "metrics without port", change: func(c *Config) { c.MetricsAddr = "localhost" }, want: `metrics_addr "localhost" is not a host:port listen address (such as ":9464" or "127.0.0.1:9464")`},
		{name: "metrics port out of range", change: func(c *Config) { c.MetricsAddr = ":70000" }, want: `metrics_addr ":70000": port "70000" is not a number from 0 to 65535`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"RESIZER_BUCKET=env-bucket",
		"RESIZER_INBOX_URL=http://127.0.0.1:9324/000000000000/in.fifo",
		"RESIZER_WORKERS=2",
		"RESIZER_WORKERS=3", // later entries win, as in os/exec
		"RESIZER_WAIT_TIME=1s",
		"RESIZER_VISIBILITY_TIMEOUT=90s",
		"RESIZER_HEARTBEAT_FRACTION=0.25",
		"RESIZER_MAX_OBJECT_BYTES=1048576",
		"RESIZER_LOG_FORMAT=json",
		"RESIZER_CONFIG=/etc/resizer/config.yaml", // not a setting: left to the command line
		"resizer_region=eu-west-1",                // not upper case: ignored
		"RESIZER_Region=eu-west-1",                // mixed case: ignored
	}
	path := writeConfig(t, "workers: 9\nlog_level: debug\n")
	got, err := Load(path, environ)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Bucket = "env-bucket"
	want.AllowedBuckets = []string{"env-bucket"} // followed the bucket
	want.InboxURL = "http://127.0.0.1:9324/000000000000/in.fifo"
	want.Workers = 3
	want.WaitTime = Duration(time.Second)
	want.Visibility = Duration(90 * time.Second)
	want.HeartbeatEvery = 0.25
	want.MaxObjectBytes = 1 << 20
	want.LogLevel = "debug"
	want.LogFormat = "json"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
	}
}

func TestEnvNamesCoverEveryField(t *testing.T) {
	for _, name := range Fields() {
		env := EnvName(name)
		if !strings.HasPrefix(env, "RESIZER_") || strings.ToUpper(env) != env {
			t.Errorf("EnvName(%q) = %q", name, env)
		}
		c := Default()
		if err := c.applyEnv([]string{env + "=x"}); err == nil {
			if got, _ := c.Get(name); got != "x" {
				t.Errorf("%s=x did not reach %q (now %q)", env, name, got)
			}
		}
	}
}

func TestGet(t *testing.T) {
	c := Default()
	for _, name := range Fields() {
		text, err := c.Get(name)
		if err != nil {
			t.Fatalf("Get(%q): %v", name, err)
		}
		d := Default()
		if err := d.Set(name, text); err != nil {
			t.Errorf("Set(%q, Get(%q) = %q): %v", name, name, text, err)
		}
		if !reflect.DeepEqual(d, c) {
			t.Errorf("Set(Get(%q)) changed the config", name)
		}
	}
	if _, err := c.Get("nope"); err == nil {
		t.Errorf("Get(unknown) succeeded")
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name    string
		setting string
		value   string
		check   func(c Config) bool
		wantErr string
	}{
		{name: "string", setting: "region", value: "eu-west-1", check: func(c Config) bool { return c.Region == "eu-west-1" }},
		{name: "string trimmed", setting: "temp_dir", value: " /var/tmp/r ", check: func(c Config) bool { return c.TempDir == "/var/tmp/r" }},
		{name: "int", setting: "workers", value: "16", check: func(c Config) bool { return c.Workers == 16 }},
		{name: "int64 with underscores", setting: "max_pixels", value: "12_000_000", check: func(c Config) bool { return c.MaxPixels == 12_000_000 }},
		{name: "float", setting: "heartbeat_fraction", value: "0.8", check: func(c Config) bool { return c.HeartbeatEvery == 0.8 }},
		{name: "duration", setting: "retry_max", value: "1h30m", check: func(c Config) bool { return c.RetryMax == Duration(90*time.Minute) }},
		{name: "duration zero", setting: "visibility_timeout", value: "0", check: func(c Config) bool { return c.Visibility == 0 }},
		{name: "list", setting: "allowed_buckets", value: "a, b,,c", check: func(c Config) bool { return reflect.DeepEqual(c.AllowedBuckets, []string{"a", "b", "c"}) }},
		{name: "empty list means the bucket", setting: "allowed_buckets", value: "", check: func(c Config) bool { return reflect.DeepEqual(c.AllowedBuckets, []string{DefaultBucket}) }},
		{name: "bucket moves a default allow-list", setting: "bucket", value: "other", check: func(c Config) bool { return reflect.DeepEqual(c.AllowedBuckets, []string{"other"}) }},
		{name: "unknown setting", setting: "bukcet", value: "x", wantErr: `unknown setting "bukcet" (did you mean "bucket"?)`},
		{name: "bad int", setting: "workers", value: "4.5", wantErr: `workers: "4.5" is not a whole number`},
		{name: "empty int", setting: "workers", value: "", wantErr: `workers: "" is not a whole number`},
		{name: "int overflow", setting: "workers", value: "99999999999999999999", wantErr: `workers: "99999999999999999999" is not a whole number`},
		{name: "bad float", setting: "heartbeat_fraction", value: "half", wantErr: `heartbeat_fraction: "half" is not a number`},
		{name: "bad duration", setting: "retry_base", value: "5", wantErr: `retry_base: "5" is not a duration (write it like "20s", "1m30s" or "15m")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			err := c.Set(tt.setting, tt.value)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Set(%q, %q) = %v, want %q", tt.setting, tt.value, err, tt.wantErr)
				}
				if !reflect.DeepEqual(c, Default()) {
					t.Errorf("a failed Set changed the config")
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q, %q) = %v", tt.setting, tt.value, err)
			}
			if !tt.check(c) {
				t.Errorf("Set(%q, %q) left %+v", tt.setting, tt.value, c)
			}
		})
	}
}

func TestAllowedBucketsFollowBucket(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		env    []string
		want   []string
		allows map[string]bool
	}{
		{name: "default", want: []string{DefaultBucket}, allows: map[string]bool{DefaultBucket: true, "x": false}},
		{name: "bucket from the file", file: "bucket: photos\n", want: []string{"photos"}, allows: map[string]bool{"photos": true, DefaultBucket: false}},
		{name: "bucket from the environment", env: []string{"RESIZER_BUCKET=photos"}, want: []string{"photos"}},
		{name: "empty list after bucket", file: "bucket: photos\nallowed_buckets: []\n", want: []string{"photos"}},
		{name: "empty list before bucket", file: "allowed_buckets: []\nbucket: photos\n", want: []string{"photos"}},
		{name: "explicit list stays", file: "allowed_buckets: [a, b]\nbucket: photos\n", env: []string{"RESIZER_BUCKET=other"}, want: []string{"a", "b"}, allows: map[string]bool{"a": true, "other": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			c, err := Load(path, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.AllowedBuckets, tt.want) {
				t.Errorf("AllowedBuckets = %q, want %q", c.AllowedBuckets, tt.want)
			}
			for b, want := range tt.allows {
				if got := c.BucketAllowed(b); got != want {
					t.Errorf("BucketAllowed(%q) = %v, want %v", b, got, want)
				}
			}
		})
	}
}

func TestDurationYAML(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    Duration
		wantErr bool
	}{
		{name: "seconds", yaml: "20s", want: Duration(20 * time.Second)},
		{name: "compound", yaml: "1m30s", want: Duration(90 * time.Second)},
		{name: "zero", yaml: "0", want: 0},
		{name: "bare number", yaml: "20", wantErr: true},
		{name: "list", yaml: "[1s]", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Duration
			err := yaml.Unmarshal([]byte(tt.yaml), &d)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%q) error = %v, wantErr %v", tt.yaml, err, tt.wantErr)
			}
			if err == nil && d != tt.want {
				t.Errorf("Unmarshal(%q) = %s, want %s", tt.yaml, d, tt.want)
			}
		})
	}
	out, err := yaml.Marshal(struct {
		D Duration `yaml:"d"`
	}{Duration(15 * time.Minute)})
	if err != nil || string(out) != "d: 15m0s\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
}
