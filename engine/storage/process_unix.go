//go:build unix

package storage

import (
	"errors"
	"syscall"
)

// processRuns reports whether a process with this pid exists (a pid taken
// by an unrelated process counts as running: its files are left alone).
func processRuns(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
