//go:build !unix

package storage

// processRuns cannot tell on this system; nothing is swept.
func processRuns(int) bool { return true }
