package sdktest

import (
	"testing"

	"github.com/seed62486500/resizer/plugins/sdk"
)

func TestCheckAssets(t *testing.T) {
	info := sdk.Info{Name: "p", Version: "1.0.0", Operations: []sdk.Operation{{Name: "op", Doc: "Does it.", Params: []sdk.Param{
		{Name: "logo", Type: sdk.TypeString, Doc: "A file.", Asset: true},
		{Name: "label", Type: sdk.TypeString, Doc: "Not a file."},
	}}}}
	tests := []struct {
		name   string
		assets map[string][]byte
		want   int
	}{
		{"asset parameter", map[string][]byte{"logo": {1}}, 0},
		{"plain parameter", map[string][]byte{"label": {1}}, 1},
		{"undeclared", map[string][]byte{"logo": {1}, "icon": {1}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkAssets(info, Case{Operation: "op", Assets: tt.assets}); len(got) != tt.want {
				t.Errorf("checkAssets = %q, want %d problems", got, tt.want)
			}
		})
	}
}
