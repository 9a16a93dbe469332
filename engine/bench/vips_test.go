package bench

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/engine/recipe"
)

// TestMapDefaultRecipe maps the repository's default recipe, the one the
// bench runs, to the vipsthumbnail commands the README shows.
func TestMapDefaultRecipe(t *testing.T) {
	file := filepath.Join("..", "..", "recipes", "default.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	cmds, unmapped := MapRecipe(r)
	want := []string{
		"vipsthumbnail IN --size 1600x1600> -o OUT.jpg[Q=82,strip]",
		"vipsthumbnail IN --size 800x800> -o OUT.jpg[Q=80,strip]",
		"vipsthumbnail IN --size 200x200 --smartcrop attention -o OUT.jpg[Q=75,strip]",
	}
	if len(unmapped) != 0 {
		t.Errorf("unmapped outputs: %+v", unmapped)
	}
	if len(cmds) != len(want) {
		t.Fatalf("got %d commands, want %d: %+v", len(cmds), len(want), cmds)
	}
	for i, c := range cmds {
		if c.String() != want[i] {
			t.Errorf("output %s:\n got %s\nwant %s", c.Output, c.String(), want[i])
		}
	}
	args := cmds[2].Args("/in/photo.jpg", "/out/photo-thumb")
	wantArgs := []string{"/in/photo.jpg", "--size", "200x200", "--smartcrop", "attention", "-o", "/out/photo-thumb.jpg[Q=75,strip]"}
	if strings.Join(args, " ") != strings.Join(wantArgs, " ") {
		t.Errorf("Args = %q, want %q", args, wantArgs)
	}
}

func TestMapOutputs(t *testing.T) {
	tests := []struct {
		name, output string
		want         string // the command, or "unmapped: " and part of the reason
	}{
		{"width only", "{name: a, width: 640}", "vipsthumbnail IN --size 640x> -o OUT.jpg[Q=82,strip]"},
		{"height only", "{name: a, height: 480, format: png}", "vipsthumbnail IN --size x480> -o OUT.png[strip]"},
		{"webp quality", "{name: a, width: 300, height: 300, format: webp, quality: 70}", "vipsthumbnail IN --size 300x300> -o OUT.webp[Q=70,strip]"},
		{"resize with upscale", "{name: a, steps: [resize: {width: 100, height: 100, upscale: true}]}", "vipsthumbnail IN --size 100x100 -o OUT.jpg[Q=82,strip]"},
		{"resize cover", "{name: a, steps: [resize: {width: 100, height: 50, fit: cover}]}", "vipsthumbnail IN --size 100x50 --smartcrop centre -o OUT.jpg[Q=82,strip]"},
		{"resize exact", "{name: a, steps: [resize: {width: 100, height: 50, fit: exact}]}", "vipsthumbnail IN --size 100x50! -o OUT.jpg[Q=82,strip]"},
		{"thumbnail centre", "{name: a, steps: [thumbnail: {width: 64, height: 64}]}", "vipsthumbnail IN --size 64x64 --smartcrop centre -o OUT.jpg[Q=82,strip]"},
		{"resize pad", "{name: a, steps: [resize: {width: 100, height: 50, fit: pad}]}", "unmapped: fit pad"},
		{"cover needs a box", "{name: a, steps: [resize: {width: 100, fit: cover}]}", "unmapped: without both"},
		{"compass gravity", "{name: a, steps: [thumbnail: {width: 64, height: 64, gravity: north}]}", "unmapped: gravity north"},
		{"watermark", "{name: a, steps: [watermark: {text: hi}]}", "unmapped: operation watermark"},
		{"two steps", "{name: a, steps: [resize: {width: 100}, watermark: {text: hi}]}", "unmapped: 2 steps (resize, watermark)"},
		{"source format", "{name: a, width: 100, format: source}", "unmapped: format source"},
		{"gif", "{name: a, width: 100, format: gif}", "unmapped: format gif"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "name: t\nmatch: [\"**\"]\noutputs:\n  - " + tt.output + "\n"
			r, err := recipe.Parse("t.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			cmds, unmapped := MapRecipe(r)
			if reason, ok := strings.CutPrefix(tt.want, "unmapped: "); ok {
				if len(cmds) != 0 || len(unmapped) != 1 || !strings.Contains(unmapped[0].Reason, reason) {
					t.Errorf("got commands %+v, unmapped %+v; want unmapped saying %q", cmds, unmapped, reason)
				}
				return
			}
			if len(cmds) != 1 || len(unmapped) != 0 {
				t.Fatalf("got commands %+v, unmapped %+v", cmds, unmapped)
			}
			if cmds[0].String() != tt.want {
				t.Errorf("\n got %s\nwant %s", cmds[0].String(), tt.want)
			}
		})
	}
}

func TestFindVipsWithoutVips(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := FindVips()
	if !errors.Is(err, ErrNoVips) {
		t.Fatalf("FindVips with an empty PATH: %v, want ErrNoVips", err)
	}
	if !strings.Contains(err.Error(), "apt-get install libvips-tools") {
		t.Errorf("the error does not say how to install it: %v", err)
	}
}
