package sdk

import "golang.org/x/sys/unix"

// mapPopulate pre-faults the whole mapping in one system call; the pixels
// are all touched right away, so faulting them page by page only costs.
const mapPopulate = unix.MAP_POPULATE

// populateRead maps every page of mem readable in one system call, without
// breaking copy-on-write (MAP_POPULATE on a private writable mapping would
// copy every page). Kernels before 5.14 refuse it; then pages fault in as
// they are read.
func populateRead(mem []byte) { _ = unix.Madvise(mem, unix.MADV_POPULATE_READ) }
