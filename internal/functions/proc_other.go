//go:build !unix

package functions

import "os/exec"

// isolate does nothing where there are no process groups.
func isolate(cmd *exec.Cmd) {}

// killGroup kills cmd's process only: where there are no process groups,
// processes its function started outlive it.
func killGroup(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
}
