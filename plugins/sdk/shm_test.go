package sdk

import (
	"bytes"
	"errors"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

func testImage(w, h int, seed byte) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i*7) ^ seed
	}
	return img
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func samePix(t *testing.T, got, want *image.NRGBA) {
	t.Helper()
	if got.Rect.Size() != want.Rect.Size() {
		t.Fatalf("size %v, want %v", got.Rect.Size(), want.Rect.Size())
	}
	w := want.Rect.Dx() * 4
	for y := 0; y < want.Rect.Dy(); y++ {
		g := got.Pix[got.PixOffset(got.Rect.Min.X, got.Rect.Min.Y+y):][:w]
		x := want.Pix[want.PixOffset(want.Rect.Min.X, want.Rect.Min.Y+y):][:w]
		if !bytes.Equal(g, x) {
			t.Fatalf("row %d differs", y)
		}
	}
}

// roundTrip does what Client.Transform and server.Transform do around the
// RPC, with out as the plugin's result.
func roundTrip(t *testing.T, p *shmPool, peer *peerMaps, in, out *image.NRGBA) (*slot, *image.NRGBA) {
	t.Helper()
	s, err := p.get()
	if err != nil {
		t.Fatal(err)
	}
	desc, err := s.in.writeImage(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := peer.readInput(desc)
	if err != nil {
		t.Fatal(err)
	}
	samePix(t, got, in)
	if out == nil {
		out = got
	}
	od, err := peer.writeOutput(s.out.path, out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.out.readImage(od)
	if err != nil {
		t.Fatal(err)
	}
	samePix(t, img, out)
	return s, img
}

// TestPoolReusesFiles: successful calls reuse one slot's files, whatever
// the sizes, and closing the pool removes them.
func TestPoolReusesFiles(t *testing.T) {
	dir := t.TempDir()
	p := newShmPool(dir)
	var peer peerMaps
	defer peer.trim()

	big := testImage(300, 200, 1)
	sub := testImage(500, 400, 2).SubImage(image.Rect(17, 33, 260, 190)).(*image.NRGBA)
	var first []string
	for i, c := range []struct{ in, out *image.NRGBA }{
		{big, nil},
		{testImage(10, 10, 3), nil},   // smaller: no new files
		{big, testImage(640, 480, 4)}, // the plugin grows the output file
		{sub, nil},                    // a strided input
		{testImage(700, 500, 5), testImage(3, 2, 6)},     // the host grows the input file
		{testImage(1, 1, 7), sub},                        // a strided output
		{testImage(640, 480, 8), testImage(640, 480, 9)}, // back to a size seen before
	} {
		s, _ := roundTrip(t, p, &peer, c.in, c.out)
		p.put(s)
		names := files(t, dir)
		if i == 0 {
			first = names
			if len(first) != 2 {
				t.Fatalf("one slot made files %v", first)
			}
		} else if !slicesEqual(names, first) {
			t.Fatalf("call %d: files %v, want the first call's %v", i, names, first)
		}
	}
	p.close()
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("closed pool left %v", names)
	}
	// After close, a slot in use is released when it comes back.
	s, _ := roundTrip(t, p, &peer, big, nil)
	p.put(s)
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("slot put back after close left %v", names)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRetiredSlotCannotCorruptLaterCalls: after a failed call the host
// removes the slot's files, so a plugin still at work on that call either
// finds no output file or writes into one that no later call reads.
func TestRetiredSlotCannotCorruptLaterCalls(t *testing.T) {
	dir := t.TempDir()
	p := newShmPool(dir)
	defer p.close()
	var late, peer peerMaps
	defer late.trim()
	defer peer.trim()

	in := testImage(64, 48, 1)
	s, err := p.get()
	if err != nil {
		t.Fatal(err)
	}
	desc, err := s.in.writeImage(in)
	if err != nil {
		t.Fatal(err)
	}
	// The plugin of the failed call has the output file open and mapped.
	busy, err := late.acquire(s.out.path, desc.size(), true)
	if err != nil {
		t.Fatal(err)
	}
	outPath := s.out.path
	s.release() // the host gives up: what Client.Transform does on error
	if names := files(t, dir); len(names) != 0 {
		t.Fatalf("retired slot left %v", names)
	}
	// A plugin that had not opened the output yet cannot create it.
	if _, err := late.writeOutput(outPath, in); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("late output after retirement: %v, want not exist", err)
	}
	if _, err := os.Stat(outPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("late output created %s", outPath)
	}

	// Later calls use new files; the late plugin scribbling into its
	// mapping of the retired file changes nothing they read.
	want := testImage(64, 48, 9)
	s2, err := p.get()
	if err != nil {
		t.Fatal(err)
	}
	if s2.out.path == outPath {
		t.Fatal("a retired output file came back")
	}
	d2, err := s2.in.writeImage(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := peer.readInput(d2)
	if err != nil {
		t.Fatal(err)
	}
	od, err := peer.writeOutput(s2.out.path, got)
	if err != nil {
		t.Fatal(err)
	}
	for i := range busy.m.mem {
		busy.m.mem[i] = 0xAA
	}
	late.release(busy, true)
	img, err := s2.out.readImage(od)
	if err != nil {
		t.Fatal(err)
	}
	samePix(t, img, want)
	p.put(s2)

	// The late plugin's cache drops its mapping of the removed file.
	late.mu.Lock()
	n := len(late.entries)
	late.mu.Unlock()
	if n != 0 {
		t.Errorf("plugin keeps %d mappings of removed files", n)
	}
}

// TestPeerMapsReuse: the plugin maps a slot's files once, not per call,
// and lets go of them when trimmed.
func TestPeerMapsReuse(t *testing.T) {
	p := newShmPool(t.TempDir())
	defer p.close()
	var peer peerMaps
	in := testImage(100, 80, 1)
	s, _ := roundTrip(t, p, &peer, in, nil)
	p.put(s)
	peer.mu.Lock()
	before := append([]*peerMap(nil), peer.entries...)
	peer.mu.Unlock()
	if runtime.GOOS != "windows" && len(before) != 2 {
		t.Fatalf("%d cached mappings after one call, want 2", len(before))
	}
	s, _ = roundTrip(t, p, &peer, testImage(100, 80, 2), nil)
	p.put(s)
	peer.mu.Lock()
	after := append([]*peerMap(nil), peer.entries...)
	peer.mu.Unlock()
	for _, e := range after {
		found := false
		for _, o := range before {
			found = found || o == e
		}
		if !found {
			t.Errorf("second call mapped again")
		}
	}
	peer.trim()
	if len(peer.entries) != 0 {
		t.Errorf("trim kept %d mappings", len(peer.entries))
	}
}

// TestShrunkFileIsAnError: a file shrunk under a mapping costs the call,
// not the process.
func TestShrunkFileIsAnError(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mappings")
	}
	dir := t.TempDir()
	a, err := newArena(filepath.Join(dir, "x.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.release()
	img := testImage(256, 256, 1)
	desc, err := a.writeImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(a.path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.readImage(desc); err == nil {
		t.Fatal("read of a shrunk file succeeded")
	}
	// Past the size check, the copy itself faults.
	err = guardFault(func() { copyRows(make([]byte, len(a.m.mem)), 0, a.m.mem, 0, len(a.m.mem), 1) })
	if err == nil {
		t.Fatal("copy from a truncated mapping did not fail")
	}
}
