package sdk_test

import (
	"context"
	"image"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/seed62486500/resizer/plugins/sdk"
	"github.com/seed62486500/resizer/plugins/sdk/sdktest"
)

// scribbler writes over its input before returning a copy of what it read
// first, and keeps the input to read it again after the call.
type scribbler struct {
	mu   sync.Mutex
	kept *image.NRGBA
}

func (*scribbler) Describe(context.Context) (sdk.Info, error) { return identityInfo, nil }
func (*scribbler) Validate(_ context.Context, op string, p sdk.Params) error {
	return sdk.CheckParams(identityInfo, op, p)
}

func (s *scribbler) Transform(_ context.Context, req sdk.Request) (*image.NRGBA, error) {
	out := image.NewNRGBA(req.Image.Rect)
	copy(out.Pix, req.Image.Pix)
	for i := range req.Image.Pix {
		req.Image.Pix[i] = 0xee
	}
	s.mu.Lock()
	s.kept = req.Image
	s.mu.Unlock()
	return out, nil
}

func sharedDirFor(t *testing.T) string {
	dir := "/dev/shm"
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = ""
	}
	d, err := os.MkdirTemp(dir, "zerocopy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// The plugin maps its input privately: what a transformer writes into it
// never reaches the host, and a transformer that keeps its input past the
// call reads something harmless instead of crashing the plugin.
func TestInputIsCopyOnWrite(t *testing.T) {
	dir := sharedDirFor(t)
	impl := &scribbler{}
	tr := sdktest.Connect(t, impl, dir)
	for _, src := range []*image.NRGBA{sdktest.Gradient(300, 200), nil} {
		if src == nil {
			shared, err := sdk.NewSharedImage(dir, 300, 200)
			if err != nil {
				t.Fatal(err)
			}
			defer shared.Release()
			copy(shared.Pix, sdktest.Gradient(300, 200).Pix)
			src = shared.NRGBA
		}
		want := image.NewNRGBA(src.Rect)
		copy(want.Pix, src.Pix)
		got, err := tr.Transform(context.Background(), sdk.Request{Operation: "identity", Image: src})
		if err != nil {
			t.Fatal(err)
		}
		if d := sdktest.Diff(got, want); d != "" {
			t.Fatalf("the plugin read a different input: %s", d)
		}
		if d := sdktest.Diff(src, want); d != "" {
			t.Fatalf("the plugin's writes reached the host's image: %s", d)
		}
		impl.mu.Lock()
		kept := impl.kept
		impl.mu.Unlock()
		sum := 0
		for _, b := range kept.Pix { // after the call: must not fault
			sum += int(b)
		}
		t.Logf("a kept input reads back %d (zero pages after the call)", sum)
	}
}

// A SharedImage crosses to the plugin without a copy into the client's own
// input file: the only files in the directory are the shared image's and
// the slot's (its input file stays empty).
func TestSharedImageIsNotCopied(t *testing.T) {
	dir := sharedDirFor(t)
	tr := sdktest.Connect(t, identity{}, dir)
	shared, err := sdk.NewSharedImage(dir, 640, 480)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Release()
	copy(shared.Pix, sdktest.Gradient(640, 480).Pix)
	got, err := tr.Transform(context.Background(), sdk.Request{Operation: "identity", Image: shared.NRGBA})
	if err != nil {
		t.Fatal(err)
	}
	if d := sdktest.Diff(got, shared.NRGBA); d != "" {
		t.Fatal(d)
	}
	if n := fullInputs(t, dir, len(shared.Pix)); n != 1 {
		t.Errorf("%d input files hold the whole image, want 1 (the shared image's own): it was copied", n)
	}
	// A part of a shared image is a plain image: it is copied and works.
	part := shared.SubImage(image.Rect(10, 10, 100, 80)).(*image.NRGBA)
	got, err = tr.Transform(context.Background(), sdk.Request{Operation: "identity", Image: part})
	if err != nil {
		t.Fatal(err)
	}
	if got.Rect.Dx() != 90 || got.Rect.Dy() != 70 {
		t.Fatalf("part came back %v", got.Rect)
	}
	size := len(shared.Pix)
	shared.Release()
	if n := fullInputs(t, dir, size); n != 0 {
		t.Errorf("the released shared image's file is still there")
	}
}

// fullInputs counts the input files in dir that hold n bytes.
func fullInputs(t *testing.T, dir string, n int) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".in") && fi.Size() == int64(n) {
			count++
		}
	}
	return count
}
