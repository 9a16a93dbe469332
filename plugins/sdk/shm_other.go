//go:build !unix

package sdk

import (
	"image"
	"os"
)

// Without mmap a "mapping" is a heap buffer that flush writes to the file
// and load reads from it: slower, and the same protocol.
type mapping struct {
	mem []byte
	f   *os.File
}

func mapShared(f *os.File, size int) (mapping, error) {
	return mapping{mem: make([]byte, size), f: f}, nil
}

func mapRead(f *os.File, size int) (mapping, error) {
	m := mapping{mem: make([]byte, size), f: f}
	if err := m.load(size); err != nil {
		return mapping{}, err
	}
	return m, nil
}

func (m mapping) unmap() error { return nil }

func (m mapping) flush(n int) error {
	_, err := m.f.WriteAt(m.mem[:n], 0)
	return err
}

func (m mapping) load(n int) error {
	_, err := m.f.ReadAt(m.mem[:n], 0)
	return err
}

func writable(string) bool { return true }

// processAlive says yes: without a portable liveness check, nothing is swept.
func processAlive(int) bool { return true }

// fileID would tell files apart; without it nothing is cached.
type fileID struct{}

func statID(os.FileInfo) (fileID, bool) { return fileID{}, false }

func linkCount(os.FileInfo) (uint64, bool) { return 0, false }

// inputViews, without mmap, copies the input (see peerMaps.readInput).
type inputViews struct{}

func (*inputViews) view(desc sharedImage, maps *peerMaps) (*image.NRGBA, func(), error) {
	img, err := maps.readInput(desc)
	return img, func() {}, err
}
