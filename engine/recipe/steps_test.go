package recipe

import (
	"context"
	"strings"
	"testing"

	"github.com/seed62486500/resizer/plugins/resize"
	"github.com/seed62486500/resizer/plugins/sdk"
)

const stepsHead = "name: r\nmatch: [\"**\"]\noutputs:\n"

func TestParseSteps(t *testing.T) {
	r, err := Parse("r.yaml", []byte(stepsHead+`  - name: branded
    steps:
      - resize: {width: 1200, fit: inside}
      - watermark: {image: assets/logo.png, opacity: 0.4, tile: true}
      - sepia:
`))
	if err != nil {
		t.Fatal(err)
	}
	steps := r.Outputs[0].Steps
	if len(steps) != 3 {
		t.Fatalf("%d steps, want 3", len(steps))
	}
	if steps[0].Op != "resize" || steps[0].Params["width"] != int64(1200) || steps[0].Params["fit"] != "inside" {
		t.Errorf("step 0 = %+v", steps[0])
	}
	if steps[1].Params["opacity"] != 0.4 || steps[1].Params["tile"] != true {
		t.Errorf("step 1 = %+v", steps[1])
	}
	if p := steps[1].ParamPos["opacity"]; p.Line != 7 || p.Column != 54 {
		t.Errorf("opacity at %v, want r.yaml:7:54", p)
	}
	if steps[2].Op != "sepia" || len(steps[2].Params) != 0 || steps[2].Pos.Line != 8 {
		t.Errorf("step 2 = %+v", steps[2])
	}
	if got := r.Outputs[0].Plan(); len(got) != 3 {
		t.Errorf("Plan of an output with steps = %d steps", len(got))
	}
}

func TestPlanShorthand(t *testing.T) {
	plan := Output{Name: "o", Width: 800}.Plan()
	if len(plan) != 1 || plan[0].Op != "resize" || plan[0].Params["width"] != 800 || plan[0].Params["fit"] != "inside" {
		t.Fatalf("Plan = %+v", plan)
	}
	if _, ok := plan[0].Params["height"]; ok {
		t.Fatal("an unset height must not become a parameter")
	}
}

func TestParseStepErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"steps and size", "  - name: o\n    width: 5\n    steps: [{resize: {width: 5}}]\n", `r.yaml:4:5: output "o": give either steps or width/height`},
		{"not a list", "  - name: o\n    steps: {resize: {}}\n", "r.yaml:5:12: steps must be a list"},
		{"empty", "  - name: o\n    steps: []\n", "r.yaml:5:12: steps needs at least one step"},
		{"two ops in one step", "  - name: o\n    steps:\n      - {resize: {width: 1}, sepia: {}}\n", "r.yaml:6:9: a step is one operation"},
		{"bad op name", "  - name: o\n    steps:\n      - Resize!: {}\n", `r.yaml:6:9: step operation "Resize!" is not an operation name`},
		{"params not a mapping", "  - name: o\n    steps:\n      - resize: 5\n", "r.yaml:6:17: parameters of resize must be a mapping"},
		{"list value", "  - name: o\n    steps:\n      - resize: {width: [1, 2]}\n", "r.yaml:6:25: resize parameter width must be a single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(stepsHead+tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDigestCoversSteps(t *testing.T) {
	a, _ := Parse("a.yaml", []byte(stepsHead+"  - name: o\n    steps: [{resize: {width: 5}}]\n"))
	b, _ := Parse("b.yaml", []byte(stepsHead+"  - name: o\n    steps: [{resize: {width: 6}}]\n"))
	c, _ := Parse("c.yaml", []byte(stepsHead+"  - name: o\n    steps:\n      - resize: {width: 5}\n"))
	if a.Digest() == b.Digest() {
		t.Error("a parameter change did not change the digest")
	}
	if a.Digest() != c.Digest() {
		t.Error("formatting changed the digest")
	}
}

// builtin adapts one in-process plugin to Operations.
type builtin struct{ t sdk.Transformer }

func (b builtin) Operation(op string) (sdk.Operation, string, bool) {
	info, _ := b.t.Describe(context.Background())
	o, ok := info.Operation(op)
	return o, info.Name, ok
}

func (b builtin) Validate(ctx context.Context, op string, p sdk.Params) error {
	return b.t.Validate(ctx, op, p)
}

func TestCheckAgainstPluginSpecs(t *testing.T) {
	set := func(yaml string) *Set {
		r, err := Parse("r.yaml", []byte(stepsHead+yaml))
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSet(r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ops := builtin{resize.Transformer{}}
	if err := set("  - name: o\n    steps: [{resize: {width: 5, fit: cover}}]\n").Check(context.Background(), ops); err != nil {
		t.Fatalf("valid recipe: %v", err)
	}
	tests := []struct{ name, yaml, want string }{
		{"unknown op", "  - name: o\n    steps:\n      - blur: {}\n", `r.yaml:6:9: output "o": no plugin offers the operation "blur"`},
		{"out of range", "  - name: o\n    steps:\n      - resize: {width: 0}\n", `r.yaml:6:25: output "o": resize: parameter "width"`},
		{"bad enum", "  - name: o\n    steps:\n      - resize: {width: 5, fit: squash}\n", `r.yaml:6:33: output "o": resize: parameter "fit"`},
		{"wrong type", "  - name: o\n    steps:\n      - resize: {width: wide}\n", `r.yaml:6:25: output "o": resize: parameter "width"`},
		{"unknown param", "  - name: o\n    steps:\n      - resize: {width: 5, colour: red}\n", `r.yaml:6:36: output "o": resize: unknown parameter "colour" (known: background, fit, height, kernel, upscale, width)`},
		{"misspelt param", "  - name: o\n    steps:\n      - resize: {width: 5, heigth: 5}\n", `r.yaml:6:36: output "o": resize: unknown parameter "heigth" (did you mean "height"?)`},
		{"plugin's own validation", "  - name: o\n    steps:\n      - resize: {fit: cover}\n", `output "o": resize: parameter "width"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := set(tt.yaml).Check(context.Background(), ops)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
