//go:build unix

package sdk

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

func mapWrite(f *os.File, size int) ([]byte, func() error, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, nil, err
	}
	return mem, func() error { return unix.Munmap(mem) }, nil
}

func mapRead(f *os.File, size int) ([]byte, func() error, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, nil, err
	}
	return mem, func() error { return unix.Munmap(mem) }, nil
}

func writable(dir string) bool { return unix.Access(dir, unix.W_OK) == nil }

func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
