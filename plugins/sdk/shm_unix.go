//go:build unix

package sdk

import (
	"errors"
	"os"
	"syscall"

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
