//go:build unix

package functions

import (
	"os/exec"
	"syscall"
)

// isolate puts the process cmd starts in a process group of its own, so
// that killGroup ends it together with any process its function started.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group of cmd's process, and the process
// itself should it have left the group.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
