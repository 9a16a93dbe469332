package sdk

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Pixels cross the process boundary in files on a memory-backed file
// system (/dev/shm when it is usable), mapped by both processes. A gRPC
// message only carries the file's path and geometry, so image size is not
// bounded by gRPC's message cap and nothing is marshalled.
//
// Who owns what:
//
//   - The host owns every file. Each Client keeps a small pool of slots;
//     a slot is an input file and an output file (mode 0600, O_EXCL,
//     random names carrying the host's pid), each kept open and mapped by
//     the host. A call takes a slot, so concurrent calls never share one.
//   - Reuse, not re-creation: creating a tmpfs file and faulting in its
//     pages costs more than the copies themselves (12 MP: ~30 ms per fresh
//     48 MB file against ~3 ms to copy into a mapped one), so a slot goes
//     back to the pool after a call, and its files keep their pages. Files
//     only grow (ftruncate) when an image needs more room.
//   - The host copies its input into the input file through its mapping
//     (unless the input is a SharedImage, whose own file is named instead)
//     and names the output file in the request. The plugin maps the input
//     privately, copy-on-write (see shm_unix.go): the transformer reads
//     the host's pages, and its writes stay its own. It opens the output
//     file (it never creates one: this differs from the first version of the
//     protocol, where the plugin created it with O_EXCL), grows it if the
//     result needs more room, writes the result through a mapping, and
//     only then answers. The host copies the output from its own mapping
//     straight into the *image.NRGBA it returns: one copy of the input at
//     most, and two of the output.
//   - A slot goes back to the pool only after a call that succeeded: then
//     the plugin has answered, so it is done with both files (the SDK
//     touches them only while serving the call; the transformer never
//     sees them but through its copy-on-write view of the input), and
//     nothing of that call can touch them again. After any
//     error (the plugin's own, a crash, a timeout, a cancelled context) the
//     plugin might still be working on the call, so the host retires the
//     slot: it unmaps, closes and removes both files right away. A late
//     plugin then writes into a file nobody will read again (its pages are
//     freed when the plugin closes it), or finds no file to open; it can
//     never corrupt a later call, which uses other files.
//   - The plugin keeps its mappings of the host's files between calls
//     (peerMaps: at most maxPeerMaps, keyed by device and inode), so a
//     reused slot costs no mmap/munmap either. The SDK only reads or
//     writes through them while it serves a call. It drops a mapping whose
//     file the host has removed (link count 0) at the end of the next
//     call, and every idle one idleRelease after the last call.
//   - Idle slots are released (unmapped, closed, removed) idleRelease after
//     the pool was last used, when the gRPC connection shuts down, and at
//     once when the pool already holds maxIdleSlots or the slot is larger
//     than maxPooledBytes. So the files exist only while a plugin is busy.
//   - If the host itself dies, its files stay behind. File names carry the
//     host's pid; the first client created in a process removes files of
//     hosts that are no longer running (see sweepStale).
//
// MaxPixels bounds both descriptors that cross the boundary, so a broken
// peer cannot make the other side map or allocate without limit. A host
// mapping that a peer shrank under it would fault; the copies in and out of
// mappings run with debug.SetPanicOnFault, so that costs the call, not the
// process.

// MaxPixels is the largest image, in pixels, that crosses the process
// boundary in either direction (4 bytes each).
const MaxPixels = 256 << 20

const (
	sharedPrefix = "resizer-"
	bytesPerPix  = 4
)

// sharedImage is the Go side of pluginv1.SharedImage.
type sharedImage struct {
	Path          string
	Width, Height int
	Stride        int
}

func (d sharedImage) check() error {
	if d.Width <= 0 || d.Height <= 0 {
		return fmt.Errorf("empty image %dx%d", d.Width, d.Height)
	}
	if int64(d.Width)*int64(d.Height) > MaxPixels {
		return fmt.Errorf("image %dx%d is larger than %d pixels", d.Width, d.Height, MaxPixels)
	}
	if d.Stride < d.Width*bytesPerPix || d.Stride > d.Width*bytesPerPix+1<<16 {
		return fmt.Errorf("stride %d does not fit width %d", d.Stride, d.Width)
	}
	if !filepath.IsAbs(d.Path) {
		return fmt.Errorf("shared image path %q is not absolute", d.Path)
	}
	return nil
}

// size is the number of bytes the file must hold.
func (d sharedImage) size() int {
	return d.Stride*(d.Height-1) + d.Width*bytesPerPix
}

// Pool policy; see the comment at the top of this file.
const (
	maxIdleSlots   = 2
	maxPooledBytes = 512 << 20
	idleRelease    = 2 * time.Second
)

// arena is one host-owned shared file, kept open and mapped read-write by
// the host.
type arena struct {
	path string
	f    *os.File
	m    mapping // covers at least the bytes of the last image moved
	size int64   // the file's size as the host last saw it
}

func newArena(path string) (*arena, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create shared image: %w", err)
	}
	return &arena{path: path, f: f}, nil
}

// cover maps at least n bytes of the file, which must hold them.
func (a *arena) cover(n int) error {
	if len(a.m.mem) >= n {
		return nil
	}
	if err := a.m.unmap(); err != nil {
		return fmt.Errorf("unmap shared image: %w", err)
	}
	a.m = mapping{}
	m, err := mapShared(a.f, int(a.size))
	if err != nil {
		return fmt.Errorf("map shared image: %w", err)
	}
	a.m = m
	return nil
}

// writeImage copies img into the file, rows packed, and describes it.
func (a *arena) writeImage(img *image.NRGBA) (sharedImage, error) {
	b := img.Rect
	desc := sharedImage{Path: a.path, Width: b.Dx(), Height: b.Dy(), Stride: b.Dx() * bytesPerPix}
	if err := desc.check(); err != nil {
		return sharedImage{}, err
	}
	n := desc.size()
	if int64(n) > a.size {
		if err := a.f.Truncate(int64(n)); err != nil {
			return sharedImage{}, fmt.Errorf("size shared image: %w", err)
		}
		a.size = int64(n)
	}
	if err := a.cover(n); err != nil {
		return sharedImage{}, err
	}
	src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y):]
	if err := guardFault(func() { copyRows(a.m.mem, desc.Stride, src, img.Stride, desc.Width*bytesPerPix, desc.Height) }); err != nil {
		return sharedImage{}, fmt.Errorf("write shared image: %w", err)
	}
	if err := a.m.flush(n); err != nil {
		return sharedImage{}, fmt.Errorf("write shared image: %w", err)
	}
	return desc, nil
}

// readImage copies the image that desc describes (in this arena's file)
// into a new *image.NRGBA in the Go heap.
func (a *arena) readImage(desc sharedImage) (*image.NRGBA, error) {
	if err := desc.check(); err != nil {
		return nil, err
	}
	if desc.Path != a.path {
		return nil, fmt.Errorf("shared image %s is not %s", desc.Path, a.path)
	}
	n := desc.size()
	fi, err := a.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat shared image: %w", err)
	}
	if fi.Size() < int64(n) {
		return nil, fmt.Errorf("shared image %s holds %d bytes, descriptor needs %d", desc.Path, fi.Size(), n)
	}
	a.size = fi.Size()
	if err := a.cover(n); err != nil {
		return nil, err
	}
	if err := a.m.load(n); err != nil {
		return nil, fmt.Errorf("read shared image: %w", err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, desc.Width, desc.Height))
	if err := guardFault(func() { copyRows(img.Pix, img.Stride, a.m.mem, desc.Stride, desc.Width*bytesPerPix, desc.Height) }); err != nil {
		return nil, fmt.Errorf("read shared image: %w", err)
	}
	return img, nil
}

// release unmaps, closes and removes the file. Errors are ignored: there
// is nothing left to do about them.
func (a *arena) release() {
	_ = a.m.unmap()
	a.m = mapping{}
	_ = a.f.Close()
	_ = os.Remove(a.path)
}

// slot is what one call uses: the input file and the output file.
type slot struct{ in, out *arena }

func (s *slot) bytes() int64 { return s.in.size + s.out.size }

func (s *slot) release() {
	s.in.release()
	s.out.release()
}

// shmPool holds a Client's idle slots.
type shmPool struct {
	dir string

	mu     sync.Mutex
	idle   []*slot // most recently used last
	closed bool
	timer  *time.Timer
}

func newShmPool(dir string) *shmPool { return &shmPool{dir: dir} }

// get returns an idle slot, or new files.
func (p *shmPool) get() (*slot, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()
	inPath, outPath, err := newSharedPath(p.dir)
	if err != nil {
		return nil, fmt.Errorf("name shared image: %w", err)
	}
	in, err := newArena(inPath)
	if err != nil {
		return nil, err
	}
	out, err := newArena(outPath)
	if err != nil {
		in.release()
		return nil, err
	}
	return &slot{in: in, out: out}, nil
}

// put takes back a slot after a call that succeeded; see the comment at
// the top of this file for why only then.
func (p *shmPool) put(s *slot) {
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdleSlots || s.bytes() > maxPooledBytes {
		p.mu.Unlock()
		s.release()
		return
	}
	p.idle = append(p.idle, s)
	if p.timer == nil {
		p.timer = time.AfterFunc(idleRelease, p.trim)
	} else {
		p.timer.Reset(idleRelease)
	}
	p.mu.Unlock()
}

// trim releases every idle slot.
func (p *shmPool) trim() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, s := range idle {
		s.release()
	}
}

// close releases the idle slots and makes put release from now on.
func (p *shmPool) close() {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	p.trim()
}

// Plugin-side cache of mappings (see the comment at the top of this file).
const maxPeerMaps = 4

// peerMaps is the plugin's cache of its mappings of the host's files, so
// that a slot's files, reused call after call, are not mapped and unmapped
// every time. The SDK only reads or writes through a mapping while it
// serves a call; between calls an entry is idle, only mapped.
type peerMaps struct {
	mu      sync.Mutex
	entries []*peerMap
	timer   *time.Timer
}

type peerMap struct {
	f     *os.File
	id    fileID
	write bool
	m     mapping
	busy  bool
}

// acquire opens path, makes sure it holds n bytes (growing it when write
// is set, failing otherwise), and returns a mapping of at least n bytes of
// it, for the caller's use alone until release.
func (c *peerMaps) acquire(path string, n int, write bool) (*peerMap, error) {
	flag := os.O_RDONLY
	if write {
		// The host created the file; a missing one means that the host
		// gave up on the call. Never create it: nobody would remove it.
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("open shared image: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("shared image %s is not a regular file", path)
	}
	if err == nil && fi.Size() < int64(n) {
		if write {
			err = f.Truncate(int64(n))
		} else {
			err = fmt.Errorf("shared image %s holds %d bytes, descriptor needs %d", path, fi.Size(), n)
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	size := max(fi.Size(), int64(n))
	id, ok := statID(fi)
	if ok {
		c.mu.Lock()
		for _, e := range c.entries {
			if !e.busy && e.id == id && e.write == write && len(e.m.mem) >= n && int64(len(e.m.mem)) <= size {
				e.busy = true
				c.mu.Unlock()
				_ = f.Close()
				return e, nil
			}
		}
		c.mu.Unlock()
	}
	var m mapping
	if write {
		m, err = mapShared(f, n)
	} else {
		m, err = mapRead(f, n)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("map shared image: %w", err)
	}
	return &peerMap{f: f, id: id, write: write, m: m, busy: true}, nil
}

// release ends the caller's use of e. A mapping that failed, or of a file
// that cannot be told apart from others, is dropped; so are mappings of
// files the host has removed, and the least recently used beyond
// maxPeerMaps. All are dropped idleRelease after the last call.
func (c *peerMaps) release(e *peerMap, keep bool) {
	var drop []*peerMap
	c.mu.Lock()
	e.busy = false
	kept := c.entries[:0]
	for _, o := range c.entries {
		if o != e {
			kept = append(kept, o)
		}
	}
	if keep && e.id != (fileID{}) {
		kept = append(kept, e) // most recently used last
	} else {
		drop = append(drop, e)
	}
	c.entries = kept[:0]
	for i, o := range kept {
		if !o.busy && (len(kept)-i > maxPeerMaps || removed(o.f)) {
			drop = append(drop, o)
			continue
		}
		c.entries = append(c.entries, o)
	}
	clear(kept[len(c.entries):])
	if c.timer == nil {
		c.timer = time.AfterFunc(idleRelease, c.trim)
	} else {
		c.timer.Reset(idleRelease)
	}
	c.mu.Unlock()
	for _, o := range drop {
		o.close()
	}
}

// trim drops every idle mapping.
func (c *peerMaps) trim() {
	var drop []*peerMap
	c.mu.Lock()
	kept := c.entries[:0]
	for _, e := range c.entries {
		if e.busy {
			kept = append(kept, e)
		} else {
			drop = append(drop, e)
		}
	}
	clear(c.entries[len(kept):])
	c.entries = kept
	c.mu.Unlock()
	for _, e := range drop {
		e.close()
	}
}

func (e *peerMap) close() {
	_ = e.m.unmap()
	_ = e.f.Close()
}

// removed says whether f's last name is gone: the host retired the file.
func removed(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return true
	}
	n, ok := linkCount(fi)
	return ok && n == 0
}

// readInput is the plugin's side of the input: it copies the image that
// desc describes into a new *image.NRGBA in the Go heap, which the
// transformer owns.
func (c *peerMaps) readInput(desc sharedImage) (*image.NRGBA, error) {
	if err := desc.check(); err != nil {
		return nil, err
	}
	e, err := c.acquire(desc.Path, desc.size(), false)
	if err != nil {
		return nil, err
	}
	img := image.NewNRGBA(image.Rect(0, 0, desc.Width, desc.Height))
	err = guardFault(func() { copyRows(img.Pix, img.Stride, e.m.mem, desc.Stride, desc.Width*bytesPerPix, desc.Height) })
	c.release(e, err == nil)
	if err != nil {
		return nil, fmt.Errorf("read shared image: %w", err)
	}
	return img, nil
}

// writeOutput is the plugin's side of the output: it writes img, rows
// packed, into the file the host created at path, growing it when it is
// too small. When it returns, it no longer touches the file.
func (c *peerMaps) writeOutput(path string, img *image.NRGBA) (sharedImage, error) {
	b := img.Rect
	desc := sharedImage{Path: path, Width: b.Dx(), Height: b.Dy(), Stride: b.Dx() * bytesPerPix}
	if err := desc.check(); err != nil {
		return sharedImage{}, err
	}
	n := desc.size()
	e, err := c.acquire(path, n, true)
	if err != nil {
		return sharedImage{}, err
	}
	src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y):]
	err = guardFault(func() { copyRows(e.m.mem, desc.Stride, src, img.Stride, desc.Width*bytesPerPix, desc.Height) })
	if err == nil {
		err = e.m.flush(n)
	}
	c.release(e, err == nil)
	if err != nil {
		return sharedImage{}, fmt.Errorf("write shared image: %w", err)
	}
	return desc, nil
}

// guardFault runs fn (a copy), turning a memory fault in it (a mapping whose file
// a peer shrank) into an error instead of a crash.
func guardFault(fn func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if re, ok := r.(runtime.Error); ok {
				err = fmt.Errorf("memory fault in shared mapping: %v", re)
				return
			}
			panic(r)
		}
	}()
	fn()
	return nil
}

func copyRows(dst []byte, dstStride int, src []byte, srcStride, rowBytes, rows int) {
	if dstStride == rowBytes && srcStride == rowBytes {
		copy(dst[:rowBytes*rows], src[:rowBytes*rows])
		return
	}
	for y := 0; y < rows; y++ {
		copy(dst[y*dstStride:y*dstStride+rowBytes], src[y*srcStride:y*srcStride+rowBytes])
	}
}

// newSharedPath returns fresh paths in dir for a slot's input and output
// files.
func newSharedPath(dir string) (in, out string, err error) {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", "", err
	}
	base := filepath.Join(dir, sharedPrefix+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(r[:]))
	return base + ".in", base + ".out", nil
}

var (
	defaultDirOnce sync.Once
	defaultDir     string
)

// defaultSharedDir is /dev/shm when it is a writable directory, else the
// temporary directory (which may be disk-backed: slower, still correct).
func defaultSharedDir() string {
	defaultDirOnce.Do(func() {
		defaultDir = os.TempDir()
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() && writable("/dev/shm") {
			defaultDir = "/dev/shm"
		}
	})
	return defaultDir
}

var swept sync.Map // dir -> struct{}

// sweepStale removes, once per directory and process, the shared image
// files left behind by hosts that are no longer running.
func sweepStale(dir string) {
	if _, done := swept.LoadOrStore(dir, struct{}{}); done {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := sharedFilePID(e)
		if !ok || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			continue
		}
	}
}

func sharedFilePID(e fs.DirEntry) (int, bool) {
	name := e.Name()
	if !e.Type().IsRegular() || !strings.HasPrefix(name, sharedPrefix) ||
		!(strings.HasSuffix(name, ".in") || strings.HasSuffix(name, ".out")) {
		return 0, false
	}
	pidText, _, ok := strings.Cut(strings.TrimPrefix(name, sharedPrefix), "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}

// SharedImage is an image whose pixels live in a memory-backed file, for
// hosts: a Client passes it to a plugin by naming the file, without the
// copy into a slot's input file. Allocate the source of several plugin
// calls this way; Release it when the calls are over.
type SharedImage struct {
	*image.NRGBA
	a *arena
}

// shared maps the first pixel of every live SharedImage to its file.
var shared sync.Map // *uint8 -> *arena

// NewSharedImage returns a transparent w×h image whose pixels are in a new
// file in dir ("" for the directory Clients use by default: /dev/shm when
// usable). A Client whose GRPCPlugin has the same SharedDir sends it
// without copying; anything else treats it as a plain image.
func NewSharedImage(dir string, w, h int) (*SharedImage, error) {
	if dir == "" {
		dir = defaultSharedDir()
	}
	desc := sharedImage{Width: w, Height: h, Stride: w * bytesPerPix}
	in, _, err := newSharedPath(dir)
	if err != nil {
		return nil, fmt.Errorf("name shared image: %w", err)
	}
	desc.Path = in
	if err := desc.check(); err != nil {
		return nil, err
	}
	a, err := newArena(in)
	if err != nil {
		return nil, err
	}
	n := desc.size()
	if err := a.f.Truncate(int64(n)); err != nil {
		a.release()
		return nil, fmt.Errorf("size shared image: %w", err)
	}
	a.size = int64(n)
	if err := a.cover(n); err != nil {
		a.release()
		return nil, err
	}
	img := &image.NRGBA{Pix: a.m.mem[:n:n], Stride: desc.Stride, Rect: image.Rect(0, 0, w, h)}
	shared.Store(&img.Pix[0], a)
	return &SharedImage{NRGBA: img, a: a}, nil
}

// Release unmaps and removes the file. The pixels must not be used
// afterwards; a plugin still reading them keeps its own mapping.
func (s *SharedImage) Release() {
	if s == nil || s.a == nil {
		return
	}
	shared.Delete(&s.Pix[0])
	s.a.release()
	s.a = nil
	s.NRGBA = nil
}

// sharedDescriptor describes img for a plugin when img is a SharedImage's
// image (not a part of it) in dir.
func sharedDescriptor(img *image.NRGBA, dir string) (sharedImage, bool) {
	if len(img.Pix) == 0 || img.Rect.Min != (image.Point{}) {
		return sharedImage{}, false
	}
	v, ok := shared.Load(&img.Pix[0])
	if !ok {
		return sharedImage{}, false
	}
	a := v.(*arena)
	desc := sharedImage{Path: a.path, Width: img.Rect.Dx(), Height: img.Rect.Dy(), Stride: img.Stride}
	if filepath.Dir(a.path) != dir || desc.check() != nil || int64(desc.size()) > a.size || desc.size() > len(img.Pix) {
		return sharedImage{}, false
	}
	return desc, true
}
