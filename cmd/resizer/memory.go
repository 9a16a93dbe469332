package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// gcPercent is the garbage collector's target when GOGC is not set. Jobs
// allocate large pixel buffers that hold no pointers, so a collection costs
// little however big they are, while Go's default (100: let the heap grow
// to twice what survived the last collection) would let every in-flight
// job's dead buffers double its footprint.
const gcPercent = 25

// tuneMemory applies the daemon's garbage collector settings, leaving
// whatever GOGC and GOMEMLIMIT the operator set: gcPercent, and a soft
// memory limit of 90% of the cgroup's memory.max (systemd's MemoryMax) so
// that the collector works harder before the kernel would kill the
// process.
func tuneMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if max, ok := cgroupMemoryMax("/sys/fs/cgroup/memory.max"); ok {
			debug.SetMemoryLimit(max / 10 * 9)
		}
	}
}

// cgroupMemoryMax reads a cgroup v2 memory.max file: a byte count, or
// "max" for none.
func cgroupMemoryMax(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
