// Package config holds the daemon's settings: their defaults, the YAML file,
// RESIZER_* environment overrides, and the checks that run before start.
//
// Every setting has one name, its YAML key (for example "inbox_url"). The
// environment variable is that name upper-cased with a RESIZER_ prefix
// (RESIZER_INBOX_URL), and Set takes the same name, so command-line flags can
// reuse it. Values in the file, in the environment and in flags are all read
// by Set, so they follow the same rules.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/seed62486500/resizer/engine/internal/suggest"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "RESIZER_"

// Reference defaults.
const (
	DefaultRegion    = "us-east-1"
	DefaultBucket    = "bucket-image-resizer-storage"
	DefaultInboxURL  = "https://sqs.us-east-1.amazonaws.com/533267249214/inbox_sqs_image_resizer.fifo"
	DefaultOutboxURL = "https://sqs.us-east-1.amazonaws.com/533267249214/outbox_sqs_image_resizer.fifo"
)

// Limits that SQS sets.
const (
	MaxWaitTime   = 20 * time.Second
	MaxVisibility = 12 * time.Hour
	MaxMessages   = 10
)

// Outbox message group choices; any other value is used as a fixed group id.
const (
	GroupByKey    = "{key}"
	GroupByBucket = "{bucket}"
)

// Config is the daemon's settings. The yaml tag is each setting's name.
type Config struct {
	Region string `yaml:"region"`
	// Bucket receives the outputs, and is the bucket of messages that name
	// only a key.
	Bucket string `yaml:"bucket"`
	// AllowedBuckets are the buckets whose events are processed. Empty means
	// just Bucket; while it is exactly [Bucket], setting bucket moves it along.
	AllowedBuckets []string `yaml:"allowed_buckets"`
	InboxURL       string   `yaml:"inbox_url"`
	OutboxURL      string   `yaml:"outbox_url"`
	OutputPrefix   string   `yaml:"output_prefix"`
	TempDir        string   `yaml:"temp_dir"`
	RecipesDir     string   `yaml:"recipes_dir"`
	// DefaultRecipe names the recipe for keys that no recipe matches; ""
	// reports them as skipped.
	DefaultRecipe string `yaml:"default_recipe"`
	// RecipesReloadInterval is how often the daemon looks for changed
	// recipe files (SIGHUP reloads at once); 0 turns the watch off.
	RecipesReloadInterval Duration `yaml:"recipes_reload_interval"`
	// Endpoint, when set, is the base URL of an S3- and SQS-compatible
	// service used for both instead of AWS; S3Endpoint and SQSEndpoint
	// override it per service.
	Endpoint    string   `yaml:"endpoint"`
	S3Endpoint  string   `yaml:"s3_endpoint"`
	SQSEndpoint string   `yaml:"sqs_endpoint"`
	Workers     int      `yaml:"workers"`
	WaitTime    Duration `yaml:"wait_time"`
	MaxMessages int      `yaml:"max_messages"`
	// Visibility is the lease on a received message; 0 means use the
	// queue's own VisibilityTimeout attribute.
	Visibility Duration `yaml:"visibility_timeout"`
	// HeartbeatEvery is the fraction of the visibility timeout after which a
	// running job extends its lease.
	HeartbeatEvery float64 `yaml:"heartbeat_fraction"`
	// RetryBase and RetryMax shape the backoff after a transient failure:
	// RetryBase * 2^(receiveCount-1), at most RetryMax.
	RetryBase      Duration `yaml:"retry_base"`
	RetryMax       Duration `yaml:"retry_max"`
	ShutdownGrace  Duration `yaml:"shutdown_grace"`
	MaxObjectBytes int64    `yaml:"max_object_bytes"`
	MaxPixels      int64    `yaml:"max_pixels"`
	// PixelBudget bounds the decoded pixels of all jobs in flight; a job
	// waits for budget rather than exceed it. 0 derives it from the memory
	// limit (budget.ForMemory).
	PixelBudget  int64  `yaml:"pixel_budget"`
	CacheControl string `yaml:"cache_control"`
	// OutboxGroupID is the outbox MessageGroupId: "{key}" (the source key),
	// "{bucket}", or any other text as a fixed id.
	OutboxGroupID string `yaml:"outbox_group_id"`
	LogLevel      string `yaml:"log_level"`
	// LogFormat is "auto" (text on a terminal, JSON otherwise), "text" or "json".
	LogFormat string `yaml:"log_format"`
	// PluginsDir is where relative plugin paths start.
	PluginsDir string `yaml:"plugins_dir"`
	// Plugins are the external plugins, each pinned by its SHA-256.
	Plugins Plugins `yaml:"plugins"`
	// PluginStartTimeout bounds a plugin process's start; PluginCallTimeout
	// each call into a plugin.
	PluginStartTimeout Duration `yaml:"plugin_start_timeout"`
	PluginCallTimeout  Duration `yaml:"plugin_call_timeout"`
	// MetricsAddr is the listen address (host:port) of the HTTP server of
	// /metrics, /healthz and /readyz; "" serves none.
	MetricsAddr string `yaml:"metrics_addr"`
}

// Default returns the settings of the reference deployment.
func Default() Config {
	return Config{
		Region:         DefaultRegion,
		Bucket:         DefaultBucket,
		AllowedBuckets: []string{DefaultBucket},
		InboxURL:       DefaultInboxURL,
		OutboxURL:      DefaultOutboxURL,
		OutputPrefix:   "processed/",
		TempDir:        "/tmp/resizer",
		RecipesDir:     "recipes",
		Workers:        4,
		WaitTime:       Duration(20 * time.Second),
		MaxMessages:    10,
		HeartbeatEvery: 0.5,
		RetryBase:      Duration(5 * time.Second),
		RetryMax:       Duration(15 * time.Minute),
		ShutdownGrace:  Duration(30 * time.Second),
		MaxObjectBytes: 100 << 20,
		MaxPixels:      50_000_000,
		PixelBudget:    0, // from the memory limit: budget.ForMemory
		CacheControl:   "public, max-age=86400",
		OutboxGroupID:  GroupByKey,
		LogLevel:       "info",
		LogFormat:      "auto",

		RecipesReloadInterval: Duration(2 * time.Second),

		PluginsDir:         "/usr/lib/resizer/plugins",
		PluginStartTimeout: Duration(10 * time.Second),
		PluginCallTimeout:  Duration(60 * time.Second),
	}
}

// Load builds the configuration: Default, then the YAML file at path (none
// when path is ""), then the RESIZER_* variables of environ (in os.Environ
// form, later entries win), then Validate. Variables with the prefix that
// name no setting are ignored, so RESIZER_CONFIG and the like stay free for
// the command line.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("reading config: %w", err)
		}
		if err := c.applyYAML(path, data); err != nil {
			return Config{}, err
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) applyYAML(path string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file changes nothing
		}
		return yamlSyntaxError(path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s:%d: a config file holds one YAML document", path, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: expected a mapping of settings", path, root.Line)
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			return fmt.Errorf("%s:%d: %q is set twice (first on line %d)", path, k.Line, k.Value, first)
		}
		seen[k.Value] = k.Line
		if fieldByName(k.Value) == nil {
			return fmt.Errorf("%s:%d: unknown field %q%s", path, k.Line, k.Value, didYouMean(k.Value))
		}
		if k.Value == "plugins" {
			plugins, err := pluginsFromYAML(path, v)
			if err != nil {
				return err
			}
			c.Plugins = plugins
			continue
		}
		value, err := scalarText(k.Value, v)
		if err == nil {
			err = c.Set(k.Value, value)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, v.Line, err)
		}
	}
	return nil
}

// yamlSyntaxError rewrites the YAML library's "yaml: line N: reason" as
// "path:N: reason", the form of every other error about the file.
func yamlSyntaxError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, reason, ok := strings.Cut(rest, ": "); ok {
			if _, convErr := strconv.Atoi(num); convErr == nil {
				return fmt.Errorf("%s:%s: %s", path, num, reason)
			}
		}
	}
	return fmt.Errorf("%s: %s", path, strings.Join(strings.Fields(msg), " "))
}

// scalarText gives the text Set takes for a YAML value: the scalar itself, or
// for a list of scalars, their comma-separated join.
func scalarText(name string, n *yaml.Node) (string, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "", nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		if fieldByName(name).Type != reflect.TypeFor[[]string]() {
			return "", fmt.Errorf("%s takes a single value, not a list", name)
		}
		items := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return "", fmt.Errorf("%s: list items must be plain values", name)
			}
			if strings.Contains(item.Value, ",") {
				return "", fmt.Errorf("%s: %q contains a comma", name, item.Value)
			}
			items = append(items, item.Value)
		}
		return strings.Join(items, ","), nil
	default:
		return "", fmt.Errorf("%s takes a single value, not a mapping", name)
	}
}

func (c *Config) applyEnv(environ []string) error {
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		setting := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
		if strings.ToUpper(setting) != strings.TrimPrefix(name, EnvPrefix) || fieldByName(setting) == nil {
			continue
		}
		if err := c.Set(setting, value); err != nil {
			return fmt.Errorf("environment %s: %w", name, err)
		}
	}
	return nil
}

// Fields returns the names of all settings, in declaration order.
func Fields() []string {
	t := reflect.TypeFor[Config]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("yaml"))
	}
	return names
}

// EnvName is the environment variable that overrides the setting name.
func EnvName(name string) string { return EnvPrefix + strings.ToUpper(name) }

func fieldByName(name string) *reflect.StructField {
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("yaml") == name {
			return &f
		}
	}
	return nil
}

// Set sets the setting called name (its YAML key) from text: numbers in
// decimal (underscores allowed), durations as "20s" or "1m30s", lists
// comma-separated. It checks the syntax only; Validate checks the values.
func (c *Config) Set(name, value string) error {
	f := fieldByName(name)
	if f == nil {
		return fmt.Errorf("unknown setting %q%s", name, didYouMean(name))
	}
	dst := reflect.ValueOf(c).Elem().FieldByIndex(f.Index)
	value = strings.TrimSpace(value)
	switch dst.Addr().Interface().(type) {
	case *string:
		if name == "bucket" && slices.Equal(c.AllowedBuckets, []string{c.Bucket}) {
			c.AllowedBuckets = []string{value}
		}
		dst.SetString(value)
	case *[]string:
		var items []string
		for item := range strings.SplitSeq(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		if name == "allowed_buckets" && len(items) == 0 {
			items = []string{c.Bucket}
		}
		dst.Set(reflect.ValueOf(items))
	case *Duration:
		d, err := parseDuration(value)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		dst.Set(reflect.ValueOf(d))
	case *int, *int64:
		n, err := strconv.ParseInt(strings.ReplaceAll(value, "_", ""), 10, dst.Type().Bits())
		if err != nil || value == "" || strings.HasPrefix(value, "_") {
			return fmt.Errorf("%s: %q is not a whole number", name, value)
		}
		dst.SetInt(n)
	case *Plugins:
		plugins, err := parsePlugins(value)
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(plugins))
	case *float64:
		x, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", name, value)
		}
		dst.SetFloat(x)
	default:
		return fmt.Errorf("setting %q has a type Set does not know", name) // a new field needs a case here
	}
	return nil
}

// Get returns the setting called name as text, in the form Set reads.
func (c *Config) Get(name string) (string, error) {
	f := fieldByName(name)
	if f == nil {
		return "", fmt.Errorf("unknown setting %q%s", name, didYouMean(name))
	}
	switch v := reflect.ValueOf(c).Elem().FieldByIndex(f.Index).Interface().(type) {
	case string:
		return v, nil
	case []string:
		return strings.Join(v, ","), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case Plugins:
		return v.String(), nil
	default:
		return fmt.Sprint(v), nil
	}
}

// Validate checks every setting and returns the first problem as one line.
// It also gives an empty AllowedBuckets its meaning, [Bucket].
func (c *Config) Validate() error {
	if len(c.AllowedBuckets) == 0 && c.Bucket != "" {
		c.AllowedBuckets = []string{c.Bucket}
	}
	checks := []func() error{
		func() error { return required("region", c.Region) },
		func() error { return bucketName("bucket", c.Bucket) },
		func() error {
			for _, b := range c.AllowedBuckets {
				if err := bucketName("allowed_buckets", b); err != nil {
					return err
				}
			}
			return nil
		},
		func() error { return queueURL("inbox_url", c.InboxURL) },
		func() error { return queueURL("outbox_url", c.OutboxURL) },
		func() error {
			if c.InboxURL == c.OutboxURL {
				return errors.New("inbox_url and outbox_url name the same queue")
			}
			return nil
		},
		func() error {
			switch {
			case c.OutputPrefix == "":
				return errors.New("output_prefix is required (outputs must not land beside their sources)")
			case !strings.HasSuffix(c.OutputPrefix, "/"):
				return fmt.Errorf("output_prefix %q must end in \"/\"", c.OutputPrefix)
			case strings.HasPrefix(c.OutputPrefix, "/"):
				return fmt.Errorf("output_prefix %q must not start with \"/\"", c.OutputPrefix)
			}
			return nil
		},
		func() error { return required("temp_dir", c.TempDir) },
		func() error { return required("recipes_dir", c.RecipesDir) },
		func() error {
			return durationRange("recipes_reload_interval", c.RecipesReloadInterval, 0, time.Hour, false)
		},
		func() error { return optionalURL("endpoint", c.Endpoint) },
		func() error { return optionalURL("s3_endpoint", c.S3Endpoint) },
		func() error { return optionalURL("sqs_endpoint", c.SQSEndpoint) },
		func() error { return intRange("workers", int64(c.Workers), 1, 1024) },
		func() error { return durationRange("wait_time", c.WaitTime, 0, MaxWaitTime, true) },
		func() error { return intRange("max_messages", int64(c.MaxMessages), 1, MaxMessages) },
		func() error { return durationRange("visibility_timeout", c.Visibility, 0, MaxVisibility, true) },
		func() error {
			if !(c.HeartbeatEvery > 0 && c.HeartbeatEvery < 1) {
				return fmt.Errorf("heartbeat_fraction %g must be between 0 and 1 (exclusive)", c.HeartbeatEvery)
			}
			return nil
		},
		func() error { return durationRange("retry_base", c.RetryBase, 0, MaxVisibility, false) },
		func() error { return durationRange("retry_max", c.RetryMax, 0, MaxVisibility, false) },
		func() error {
			if c.RetryBase > c.RetryMax {
				return fmt.Errorf("retry_base %s is longer than retry_max %s", c.RetryBase, c.RetryMax)
			}
			return nil
		},
		func() error { return durationRange("shutdown_grace", c.ShutdownGrace, 0, time.Hour, false) },
		func() error { return intRange("max_object_bytes", c.MaxObjectBytes, 1, 5<<40) },
		func() error { return intRange("max_pixels", c.MaxPixels, 1, 1<<40) },
		func() error {
			if strings.IndexFunc(c.CacheControl, unicode.IsControl) >= 0 {
				return errors.New("cache_control must not contain control characters")
			}
			return nil
		},
		func() error { return groupID(c.OutboxGroupID) },
		func() error {
			return oneOf("log_level", c.LogLevel, "trace", "debug", "info", "warn", "error", "off")
		},
		func() error { return oneOf("log_format", c.LogFormat, "auto", "text", "json") },
		func() error {
			if c.PixelBudget != 0 && c.PixelBudget < c.MaxPixels {
				return fmt.Errorf("pixel_budget %d must be 0 (from the memory limit) or at least max_pixels %d, or the largest allowed image could never run", c.PixelBudget, c.MaxPixels)
			}
			return nil
		},
		func() error { return c.Plugins.validate(c.PluginsDir) },
		func() error {
			return durationRange("plugin_start_timeout", c.PluginStartTimeout, time.Millisecond, 10*time.Minute, false)
		},
		func() error {
			return durationRange("plugin_call_timeout", c.PluginCallTimeout, time.Millisecond, MaxVisibility, false)
		},
		func() error { return listenAddr("metrics_addr", c.MetricsAddr) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// BucketAllowed reports whether events from bucket may be processed.
func (c *Config) BucketAllowed(bucket string) bool {
	if len(c.AllowedBuckets) == 0 {
		return bucket == c.Bucket
	}
	return slices.Contains(c.AllowedBuckets, bucket)
}

func required(name, value string) error {
	if value == "" {
		return fmt.Errorf("%s is required", name)
	}
	return nil
}

func bucketName(name, value string) error {
	if value == "" {
		return fmt.Errorf("%s is required", name)
	}
	if strings.ContainsAny(value, "/ \t\r\n") {
		return fmt.Errorf("%s %q is not a bucket name (no slashes or spaces)", name, value)
	}
	return nil
}

func absoluteHTTP(name, value string) error {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", name, value)
	}
	return nil
}

func queueURL(name, value string) error {
	if value == "" {
		return fmt.Errorf("%s is required", name)
	}
	if err := absoluteHTTP(name, value); err != nil {
		return err
	}
	u, _ := url.Parse(value)
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), ".fifo") {
		return fmt.Errorf("%s must name a FIFO queue (ending in .fifo)", name)
	}
	return nil
}

// listenAddr checks an optional host:port listen address ("" is off).
func listenAddr(name, value string) error {
	if value == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(value)
	if err != nil {
		return fmt.Errorf("%s %q is not a host:port listen address (such as \":9464\" or \"127.0.0.1:9464\")", name, value)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s %q: port %q is not a number from 0 to 65535", name, value, port)
	}
	return nil
}

func optionalURL(name, value string) error {
	if value == "" {
		return nil
	}
	return absoluteHTTP(name, value)
}

func intRange(name string, v, lo, hi int64) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d is out of range %d..%d", name, v, lo, hi)
	}
	return nil
}

// durationRange checks lo <= d <= hi; wholeSeconds is for values SQS takes in seconds.
func durationRange(name string, d Duration, lo, hi time.Duration, wholeSeconds bool) error {
	if time.Duration(d) < lo || time.Duration(d) > hi {
		return fmt.Errorf("%s %s is out of range %s..%s", name, d, Duration(lo), Duration(hi))
	}
	if wholeSeconds && time.Duration(d)%time.Second != 0 {
		return fmt.Errorf("%s %s must be a whole number of seconds", name, d)
	}
	return nil
}

// groupID checks outbox_group_id against SQS's MessageGroupId rules: 1 to 128
// characters of printable ASCII.
func groupID(v string) error {
	switch v {
	case GroupByKey, GroupByBucket:
		return nil
	case "":
		return errors.New("outbox_group_id is required (\"{key}\", \"{bucket}\" or a fixed id)")
	}
	if strings.ContainsAny(v, "{}") {
		return fmt.Errorf("outbox_group_id %q: the only placeholders are \"{key}\" and \"{bucket}\", alone", v)
	}
	if len(v) > 128 {
		return fmt.Errorf("outbox_group_id is %d characters, more than the 128 SQS allows", len(v))
	}
	for _, r := range v {
		if r < '!' || r > '~' {
			return fmt.Errorf("outbox_group_id %q: SQS allows only printable ASCII without spaces", v)
		}
	}
	return nil
}

func oneOf(name, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return fmt.Errorf("%s %q is not one of %s", name, value, strings.Join(allowed, ", "))
}

// didYouMean returns ` (did you mean "x"?)` for the setting closest to
// name, or "".
func didYouMean(name string) string {
	best := suggest.Closest(name, Fields())
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
