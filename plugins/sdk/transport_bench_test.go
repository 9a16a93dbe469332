package sdk_test

import (
	"context"
	"image"
	"slices"
	"sync"
	"testing"

	"github.com/seed62486500/resizer/plugins/resize"
	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// transportIdentity returns its input: the transport's cost and nothing else.
type transportIdentity struct{}

var transportIdentityInfo = sdk.Info{Name: "pass", Version: "0.1.0", Operations: []sdk.Operation{{Name: "pass", Doc: "Returns the image."}}}

func (transportIdentity) Describe(context.Context) (sdk.Info, error) {
	return transportIdentityInfo, nil
}

func (transportIdentity) Validate(_ context.Context, op string, p sdk.Params) error {
	return sdk.CheckParams(transportIdentityInfo, op, p)
}

func (transportIdentity) Transform(ctx context.Context, req sdk.Request) (*image.NRGBA, error) {
	return req.Image, ctx.Err()
}

// BenchmarkTransport12MP measures item 5's target in one run: the cost of
// one gRPC plugin call with an identity transform on a 12 MP image, less
// the same call in process, as a share of a resize of that image (4000x3000
// to fit 1600x1600, default kernel, in process). With -count N, testing
// runs each sub-benchmark N times in a row; the last one, ratio, reports
// the share computed from the medians of those N runs as overhead-% (the
// same number on each of its N lines).
//
//	go test -run '^$' -bench Transport12MP -count 5 ./plugins/sdk/
func BenchmarkTransport12MP(b *testing.B) {
	in := sdktest.Gradient(4000, 3000)
	var mu sync.Mutex
	perOp := map[string][]float64{} // ns/op of each run
	// run measures tr, or the transformer that connect returns when tr is
	// nil.
	run := func(name string, tr sdk.Transformer, connect func(testing.TB) sdk.Transformer, req sdk.Request) {
		b.Run(name, func(b *testing.B) {
			if connect != nil {
				tr = connect(b)
			}
			for b.Loop() {
				if _, err := tr.Transform(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
			mu.Lock()
			perOp[name] = append(perOp[name], float64(b.Elapsed().Nanoseconds())/float64(b.N))
			mu.Unlock()
		})
	}
	identity := sdk.Request{Operation: "pass", Image: in}
	run("identity/inprocess", transportIdentity{}, nil, identity)
	run("identity/grpc", nil, func(tb testing.TB) sdk.Transformer { return sdktest.Connect(tb, transportIdentity{}, "") }, identity)
	run("resize/inprocess", resize.Transformer{}, nil, sdk.Request{Operation: "resize", Image: in,
		Params: sdk.Params{"width": 1600, "height": 1600}})
	b.Run("ratio", func(b *testing.B) {
		mu.Lock()
		defer mu.Unlock()
		local, remote, resized := benchMedian(perOp["identity/inprocess"]), benchMedian(perOp["identity/grpc"]), benchMedian(perOp["resize/inprocess"])
		if local == 0 || remote == 0 || resized == 0 {
			b.Skip("run the three other sub-benchmarks with this one")
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(100*(remote-local)/resized, "overhead-%")
	})
}

func benchMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
