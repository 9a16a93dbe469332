package main

import (
	"context"
	"image"
	"image/color"
	"os/exec"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// TestConformance runs the SDK's conformance suite: the plugin over the real
// gRPC path, in process.
func TestConformance(t *testing.T) {
	sdktest.Run(t, func() sdk.Transformer { return New() },
		sdktest.Case{Name: "default", Operation: "sepia", WantSize: image.Pt(64, 48)},
		sdktest.Case{Name: "partial", Operation: "sepia", Params: sdk.Params{"amount": 0.8}, WantSize: image.Pt(64, 48)},
		sdktest.Case{Name: "none", Operation: "sepia", Params: sdk.Params{"amount": 0}, WantSize: image.Pt(64, 48)},
		sdktest.Case{Name: "sub-image", Operation: "sepia", Params: sdk.Params{"amount": 0.5},
			Input: sdktest.Gradient(40, 40).SubImage(image.Rect(5, 10, 35, 30)).(*image.NRGBA), WantSize: image.Pt(30, 20)},
	)
}

func TestTone(t *testing.T) {
	grey := color.NRGBA{100, 100, 100, 255}
	tests := []struct {
		name   string
		amount float64
		in     color.NRGBA
		want   color.NRGBA
	}{
		{"none keeps the colour", 0, color.NRGBA{12, 200, 77, 255}, color.NRGBA{12, 200, 77, 255}},
		{"full on grey", 1, grey, color.NRGBA{135, 120, 94, 255}},
		{"half on grey", 0.5, grey, color.NRGBA{118, 110, 97, 255}},
		{"white saturates", 1, color.NRGBA{255, 255, 255, 255}, color.NRGBA{255, 255, 239, 255}},
		{"alpha is kept", 1, color.NRGBA{100, 100, 100, 40}, color.NRGBA{135, 120, 94, 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := image.NewNRGBA(image.Rect(0, 0, 1, 1))
			in.SetNRGBA(0, 0, tt.in)
			out, err := New().Transform(t.Context(), sdk.Request{Operation: "sepia", Params: sdk.Params{"amount": tt.amount}, Image: in})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.NRGBAAt(0, 0); got != tt.want {
				t.Errorf("sepia(%v, amount %v) = %v, want %v", tt.in, tt.amount, got, tt.want)
			}
			if in.NRGBAAt(0, 0) != tt.in {
				t.Error("the input was modified")
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := New().Transform(ctx, sdk.Request{Operation: "sepia", Image: sdktest.Gradient(8, 8)})
	if err != context.Canceled {
		t.Errorf("Transform with a cancelled context = %v, want context.Canceled", err)
	}
}

const module = "github.com/seed62486500/resizer/"

// TestImportsOnlySDK holds the line that makes this a third party's plugin:
// it imports the SDK and the standard library, nothing else of resizer's
// (no engine, no other plugin) and no AWS SDK, directly or not.
func TestImportsOnlySDK(t *testing.T) {
	goList := func(args ...string) []string {
		out, err := exec.Command("go", append([]string{"list"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.Fields(string(out))
	}
	allowed := map[string]bool{module + "plugins/sdk": true, module + "plugins/sdk/sdktest": true}
	for _, imp := range goList("-f", "{{join .Imports \" \"}} {{join .TestImports \" \"}}", ".") {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") && !allowed[imp] {
			t.Errorf("imports %s; a plugin imports only plugins/sdk (and sdktest in tests) and the standard library", imp)
		}
	}
	self := goList(".")[0]
	for _, dep := range goList("-deps", ".") {
		rest, ours := strings.CutPrefix(dep, module)
		switch {
		case dep == self:
		case strings.HasPrefix(dep, "github.com/aws/"):
			t.Errorf("depends on the AWS SDK through %s", dep)
		case ours && rest != "plugins/sdk" && !strings.HasPrefix(rest, "proto/"):
			t.Errorf("depends on resizer's %s", rest)
		}
	}
}
