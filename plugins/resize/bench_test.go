package resize

import (
	"testing"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// BenchmarkResize12MPto1600 is the yardstick for the plugin transport's
// overhead (plugins/sdk BenchmarkIdentity12MP): a 4000x3000 image to fit
// 1600x1600 with the default kernel, in process and over gRPC.
func BenchmarkResize12MPto1600(b *testing.B) {
	req := sdk.Request{Operation: "resize", Image: sdktest.Gradient(4000, 3000),
		Params: sdk.Params{"width": 1600, "height": 1600}}
	run := func(b *testing.B, tr sdk.Transformer) {
		for b.Loop() {
			if _, err := tr.Transform(b.Context(), req); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("inprocess", func(b *testing.B) { run(b, Transformer{}) })
	b.Run("grpc", func(b *testing.B) { run(b, sdktest.Connect(b, Transformer{}, "")) })
}
