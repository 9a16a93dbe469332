//go:build !linux

package pluginhost

import "os/exec"

// setParentDeathSignal does nothing where the kernel has no parent-death
// signal; the plugin's own watch of its parent (sdk.Serve) ends it.
func setParentDeathSignal(*exec.Cmd) {}
