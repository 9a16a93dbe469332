//go:build unix && !linux

package sdk

const mapPopulate = 0

// populateRead does nothing here: pages fault in as they are read.
func populateRead([]byte) {}
