package process

import "syscall"

// setParentDeathSignal makes the kernel send SIGKILL to the child when the
// thread that started it exits. Go keeps its threads alive unless a goroutine
// exits while locked to one, so in practice this fires when ipabr dies.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
