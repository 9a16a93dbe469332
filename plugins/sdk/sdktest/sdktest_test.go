package sdktest_test

import (
	"strings"
	"testing"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

func TestCheckInfo(t *testing.T) {
	withParam := func(p sdk.Param) sdk.Info {
		return sdk.Info{Name: "p", Version: "1.0.0", Operations: []sdk.Operation{{Name: "op", Doc: "Does it.", Params: []sdk.Param{p}}}}
	}
	tests := []struct {
		name string
		info sdk.Info
		want string // a substring of the one expected problem; "" for none
	}{
		{"string asset", withParam(sdk.Param{Name: "logo", Type: sdk.TypeString, Doc: "A file.", Asset: true}), ""},
		{"int asset", withParam(sdk.Param{Name: "logo", Type: sdk.TypeInt, Doc: "A file.", Asset: true}), "only string parameters can be assets"},
		{"enum asset", withParam(sdk.Param{Name: "logo", Type: sdk.TypeEnum, Enum: []string{"a"}, Doc: "A file.", Asset: true}), "only string parameters can be assets"},
		{"no doc", withParam(sdk.Param{Name: "n", Type: sdk.TypeInt}), "has no doc"},
		{"bad default", withParam(sdk.Param{Name: "n", Type: sdk.TypeInt, Doc: "N.", Default: 20, Max: sdk.Bound(10)}), "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := sdktest.CheckInfo(tt.info)
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("CheckInfo = %q, want no problems", problems)
			case tt.want != "" && (len(problems) != 1 || !strings.Contains(problems[0], tt.want)):
				t.Errorf("CheckInfo = %q, want one problem about %q", problems, tt.want)
			}
		})
	}
}
