package pluginhost

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks the kernel to SIGKILL the plugin when its
// parent dies, so that no plugin outlives a daemon killed with SIGKILL.
//
// The kernel's "parent" here is the OS thread that forked the child, not
// the process: when that thread exits, the plugin is killed although the
// daemon lives on. Go's runtime ends a thread when a goroutine exits while
// locked to it (runtime.LockOSThread), so a fork from a caller that happens
// to hold a locked thread would tie the plugin to that caller. Every start
// therefore happens on the plugin's own supervisor goroutine, which locks
// its thread for its whole life (see supervisor.run): whatever the runtime
// does with idle threads, the forking thread lives exactly as long as the
// supervisor, which stops its plugin before it returns. Go's fork also
// checks, after arming the signal, that the parent did not die meanwhile.
func setParentDeathSignal(cmd *exec.Cmd) {
	if withoutParentDeathSignal {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
