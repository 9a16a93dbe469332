package daemon_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed62486500/resizer/engine/outbox"
)

const outputFieldsRecipe = `name: photos
match: ["photos/**"]
outputs:
  - name: large
    width: 300
    key: "{dir}/{name}/{output}-{hash}.{ext}"
    cache_control: "public, max-age=31536000, immutable"
  - name: thumb
    width: 64
    format: png
    key: "thumbs/{recipe}/{key}.{ext}"
    content_type: "image/x-test-png"
`

const fallbackRecipe = `name: fallback
match: ["never/**"]
outputs:
  - {name: small, width: 32}
`

// TestOutputFieldsReachS3 runs a recipe with key templates and per-output
// Cache-Control and Content-Type on the daemon, and a key that only the
// default_recipe takes: the objects land at the templated keys with the
// headers the outputs ask for.
func TestOutputFieldsReachS3(t *testing.T) {
	e := embedded(t)
	writeRecipe(t, e, outputFieldsRecipe)
	if err := os.WriteFile(filepath.Join(e.cfg.RecipesDir, "fallback.yaml"), []byte(fallbackRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	e.cfg.DefaultRecipe = "fallback"
	var logs syncBuffer
	startDaemon(t, e, &logs)

	rec := process(t, e, "photos/2026/cat.jpg")
	byName := map[string]outbox.Output{}
	for _, o := range rec.Outputs {
		byName[o.Name] = o
	}
	large, thumb := byName["large"], byName["thumb"]
	body, cc, ct := e.getObject(t, large.Key)
	sum := sha256.Sum256(body)
	if want := "processed/photos/2026/cat.jpg/large-" + hex.EncodeToString(sum[:8]) + ".jpg"; large.Key != want {
		t.Errorf("large written to %q, want %q", large.Key, want)
	}
	if cc != "public, max-age=31536000, immutable" || ct != "image/jpeg" {
		t.Errorf("large: Cache-Control %q, Content-Type %q", cc, ct)
	}
	_, cc, ct = e.getObject(t, thumb.Key)
	if thumb.Key != "processed/thumbs/photos/photos/2026/cat.jpg.png" {
		t.Errorf("thumb written to %q", thumb.Key)
	}
	if cc != e.cfg.CacheControl || ct != "image/x-test-png" || thumb.ContentType != "image/x-test-png" {
		t.Errorf("thumb: Cache-Control %q, Content-Type %q (outbox %q)", cc, ct, thumb.ContentType)
	}

	other := process(t, e, "elsewhere/dog.jpg")
	if other.Recipe == nil || other.Recipe.Name != "fallback" || outputNames(other) != "small" {
		t.Errorf("a key no recipe matches went to %+v with outputs %s, want the default recipe", other.Recipe, outputNames(other))
	}
}

func (e env) getObject(t *testing.T, key string) (body []byte, cacheControl, contentType string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, err := e.clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Body.Close()
	body, err = io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, aws.ToString(obj.CacheControl), aws.ToString(obj.ContentType)
}
