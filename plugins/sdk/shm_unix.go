//go:build unix

package sdk

import (
	"errors"
	"fmt"
	"image"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapping is a memory mapping of a shared file.
type mapping struct{ mem []byte }

// mapShared maps size bytes of f read-write and shared: writes reach the
// file, and so the other process.
func mapShared(f *os.File, size int) (mapping, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|mapPopulate)
	if err != nil {
		return mapping{}, err
	}
	return mapping{mem: mem}, nil
}

// mapRead maps size bytes of f read-only.
func mapRead(f *os.File, size int) (mapping, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED|mapPopulate)
	if err != nil {
		return mapping{}, err
	}
	return mapping{mem: mem}, nil
}

func (m mapping) unmap() error {
	if m.mem == nil {
		return nil
	}
	return unix.Munmap(m.mem)
}

// flush makes the first n bytes written to m visible to the other
// process: with a shared mapping they already are.
func (m mapping) flush(int) error { return nil }

// load makes the first n bytes of m show what the other process wrote:
// with a shared mapping they already do.
func (m mapping) load(int) error { return nil }

func writable(dir string) bool { return unix.Access(dir, unix.W_OK) == nil }

func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// fileID tells files apart: a cached mapping is reused only for the same
// file.
type fileID struct{ dev, ino uint64 }

func statID(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // types differ between systems
}

func linkCount(fi os.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true //nolint:unconvert // types differ between systems
}

// Inputs are mapped, not copied: the plugin maps the host's input file
// privately (copy on write), so the transformer reads the host's pages and
// a transformer that writes gets pages of its own; the host never sees a
// change. A 12-megapixel input then costs the plugin no 48 MB copy.
//
// The mapping lives in a region of address space that the plugin keeps:
// when the call is over, the region is mapped again as anonymous zero
// pages (which cost nothing until touched) and waits for the next call's
// input, which is mapped over it. So nothing is ever unmapped under a
// transformer that, against the contract, still reads its input after
// Transform returned: it reads zeros or a later input, and does not
// crash the plugin.

// maxIdleRegions bounds the regions kept between calls (one per call
// running at once is enough).
const maxIdleRegions = 4

// inputViews holds the plugin's idle input regions.
type inputViews struct {
	mu   sync.Mutex
	idle []inputRegion
}

type inputRegion struct {
	addr unsafe.Pointer
	size int // bytes reserved, a multiple of the page size
}

// view maps the input that desc describes and returns it as an image with
// a function that ends the view; the image must not be used after that.
func (v *inputViews) view(desc sharedImage, _ *peerMaps) (*image.NRGBA, func(), error) {
	if err := desc.check(); err != nil {
		return nil, nil, err
	}
	n := desc.size()
	f, err := os.Open(desc.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("open shared image: %w", err)
	}
	defer f.Close() // the mapping outlives the descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat shared image: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() < int64(n) {
		return nil, nil, fmt.Errorf("shared image %s is not a regular file of at least %d bytes", desc.Path, n)
	}
	r, err := v.take(roundToPage(n))
	if err != nil {
		return nil, nil, err
	}
	if _, err := unix.MmapPtr(int(f.Fd()), 0, r.addr, uintptr(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED); err != nil {
		v.put(r)
		return nil, nil, fmt.Errorf("map shared image: %w", err)
	}
	mem := unsafe.Slice((*byte)(r.addr), n)
	populateRead(mem)
	img := &image.NRGBA{Pix: mem, Stride: desc.Stride, Rect: image.Rect(0, 0, desc.Width, desc.Height)}
	return img, func() { v.put(r) }, nil
}

// take returns an idle region of at least size bytes, or reserves one.
func (v *inputViews) take(size int) (inputRegion, error) {
	v.mu.Lock()
	for i, r := range v.idle {
		if r.size >= size {
			v.idle = append(v.idle[:i], v.idle[i+1:]...)
			v.mu.Unlock()
			return r, nil
		}
	}
	v.mu.Unlock()
	addr, err := unix.MmapPtr(-1, 0, nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return inputRegion{}, fmt.Errorf("reserve input region: %w", err)
	}
	return inputRegion{addr: addr, size: size}, nil
}

// put drops the file's pages from r (mapping zero pages over the whole
// region) and keeps r for a later call; beyond maxIdleRegions the
// smallest region is unmapped instead.
func (v *inputViews) put(r inputRegion) {
	if _, err := unix.MmapPtr(-1, 0, r.addr, uintptr(r.size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED); err != nil {
		// The region still maps the file: leave it be rather than
		// unmap it under a straggler; it is not reused.
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.idle = append(v.idle, r)
	if len(v.idle) > maxIdleRegions {
		smallest := 0
		for i, o := range v.idle {
			if o.size < v.idle[smallest].size {
				smallest = i
			}
		}
		drop := v.idle[smallest]
		v.idle = append(v.idle[:smallest], v.idle[smallest+1:]...)
		_ = unix.MunmapPtr(drop.addr, uintptr(drop.size))
	}
}

func roundToPage(n int) int {
	p := os.Getpagesize()
	return (n + p - 1) / p * p
}
