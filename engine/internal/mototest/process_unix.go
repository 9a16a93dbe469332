//go:build unix

package mototest

import (
	"os/exec"
	"syscall"
)

// moto_server is often a shim script (pyenv, venv) that starts python as a
// child: run it in its own process group and stop the whole group.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
