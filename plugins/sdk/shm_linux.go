package sdk

import "golang.org/x/sys/unix"

// mapPopulate pre-faults the whole mapping in one system call; the pixels
// are all touched right away, so faulting them page by page only costs.
const mapPopulate = unix.MAP_POPULATE
