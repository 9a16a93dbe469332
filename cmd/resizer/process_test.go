package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/engine/samples"
)

// shippedRecipes copies recipes/ and its examples into one folder.
func shippedRecipes(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"default.yaml", "examples/products.yaml", "examples/avatars.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "recipes", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// figureRE reads one image of the contact sheet and its caption.
var figureRE = regexp.MustCompile(`<img src="([^"]+)"[^>]*><figcaption><b>([^<]+)</b> · (\d+)×(\d+) · (\w+) · [^<]*?(\d+) bytes`)

// TestProcessContactSheet runs recipes on local files with no AWS and checks
// the outputs and the contact sheet: every image it references exists, and
// decodes to the dimensions, format and size its caption gives.
func TestProcessContactSheet(t *testing.T) {
	in := t.TempDir()
	files := map[string][]byte{"shoe.jpg": samples.JPEG(1200, 800, 5, 85), "logo box.png": samples.PNGWithAlpha(500, 400, 6)}
	var args []string
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(in, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Join(in, name))
	}
	out := filepath.Join(t.TempDir(), "preview")
	var stdout, stderr bytes.Buffer
	cmd := append([]string{"process", "--recipes", shippedRecipes(t), "--key", "products/shoes/"}, args...)
	cmd = append(cmd, "-o", out, "--html")
	if code := run(cmd, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	// Every src and href must name a file under out.
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
	if len(refs) != 2*(1+3) {
		t.Errorf("the page references %d files, want 8 (2 sources and 3 outputs each)", len(refs))
	}
	for _, m := range refs {
		rel, err := url.PathUnescape(m[1])
		if err != nil || strings.HasPrefix(rel, "/") || strings.Contains(rel, "..") {
			t.Errorf("reference %q is not a plain relative path", m[1])
			continue
		}
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(rel))); err != nil {
			t.Errorf("referenced file missing: %v", err)
		}
	}
	figures := figureRE.FindAllStringSubmatch(string(page), -1)
	if len(figures) != len(refs) {
		t.Fatalf("%d captions for %d images", len(figures), len(refs))
	}
	names := map[string]int{}
	for _, f := range figures {
		rel, _ := url.PathUnescape(f[1])
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(rel)))
		if err != nil {
			continue // reported above
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		w, _ := strconv.Atoi(f[3])
		h, _ := strconv.Atoi(f[4])
		n, _ := strconv.Atoi(f[6])
		if err != nil || cfg.Width != w || cfg.Height != h || format != f[5] || len(data) != n {
			t.Errorf("%s: file is %s %dx%d, %d bytes (%v); caption says %s %dx%d, %d bytes", rel, format, cfg.Width, cfg.Height, len(data), err, f[5], w, h, n)
		}
		names[f[2]]++
		if f[2] == "listing" {
			sum := sha256.Sum256(data)
			if !strings.Contains(rel, "listing-"+hex.EncodeToString(sum[:8])+".jpg") {
				t.Errorf("listing key %s does not carry the content hash", rel)
			}
			if w != 800 || h != 800 {
				t.Errorf("listing is %dx%d, want the 800x800 square", w, h)
			}
		}
	}
	for name, want := range map[string]int{"source": 2, "zoom": 2, "listing": 2, "thumb": 2} {
		if names[name] != want {
			t.Errorf("%d images captioned %s, want %d", names[name], name, want)
		}
	}
	if !strings.Contains(string(page), "Cache-Control: public, max-age=31536000, immutable") {
		t.Error("the listing's own Cache-Control is not shown")
	}
}

func TestProcessRefuses(t *testing.T) {
	in := filepath.Join(t.TempDir(), "a.jpg")
	if err := os.WriteFile(in, samples.JPEG(64, 64, 1, 80), 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "notes.jpg")
	if err := os.WriteFile(text, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	recipes := shippedRecipes(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no recipe", []string{"--key", "docs/a.pdf", in}, exitFailure, `no recipe matches the key "docs/a.pdf"`},
		{"output prefix", []string{"--key", "processed/a.jpg", in}, exitFailure, `is under the output prefix "processed/"`},
		{"not an image", []string{text}, exitFailure, `decode "notes.jpg"`},
		{"one key, two files", []string{"--key", "a.jpg", in, in}, exitUsage, "--key names one source"},
		{"no output dir", []string{in}, exitUsage, "Usage: resizer process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"process", "--recipes", recipes}, tt.args...)
			if tt.name != "no output dir" {
				args = append(args, "-o", t.TempDir())
			}
			var stdout, stderr bytes.Buffer
			if code := run(args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr.String(), tt.code, tt.want)
			}
		})
	}
}
