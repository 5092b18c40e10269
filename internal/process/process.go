// Package process is the one door to external programs. Commands describe a
// process as a Cmd and hand it to a Runner; tests swap in processtest.Stub.
package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cmd describes one external process.
type Cmd struct {
	Name string
	Args []string
	Dir  string
	// Env holds KEY=VALUE pairs set on top of the inherited environment.
	Env []string
	// Unset names inherited variables the child must not see.
	Unset  []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Group starts the process in its own process group, so a cancelled
	// context signals the whole tree (make and everything it spawned).
	// Leave it false for programs that must own the terminal.
	Group bool
	// KillWithParent has the kernel SIGKILL the process when ipabr itself
	// dies, even by SIGKILL (Linux PR_SET_PDEATHSIG; no effect elsewhere),
	// so a long-running child such as QEMU never outlives ipabr.
	KillWithParent bool
	// Started, when set, is called with the process id once it started.
	Started func(pid int)
}

// String renders the command line the way a shell user would type it.
func (c Cmd) String() string {
	parts := []string{Quote(c.Name)}
	for _, a := range c.Args {
		parts = append(parts, Quote(a))
	}
	return strings.Join(parts, " ")
}

// Quote shell-quotes s when it needs it.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Runner runs processes. Run returns *Error when the process fails.
type Runner interface {
	Run(ctx context.Context, c Cmd) error
}

// Error is a failed process: the command line, why, and the tail of what it
// printed on stderr when that was captured.
type Error struct {
	Cmd    string
	Err    error
	Stderr string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Cmd, e.Err)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + LastLine(s)
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// LastLine is the last line of s.
func LastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// ExitCode is the process's exit status, or -1 when it did not exit normally.
func ExitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// Signal is the signal that ended the process, if one did.
func Signal(err error) (syscall.Signal, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal(), true
		}
	}
	return 0, false
}

// OS runs real processes.
type OS struct {
	// GraceTime is how long a cancelled process group gets between SIGTERM
	// and SIGKILL.
	GraceTime time.Duration
}

// Run starts c and waits for it. When ctx is cancelled a grouped process
// receives SIGTERM on its whole group, then SIGKILL after the grace time; Run
// returns only after the process has exited.
func (o OS) Run(ctx context.Context, c Cmd) error {
	cmd := exec.Command(c.Name, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = Environ(c.Env, c.Unset)
	cmd.Stdin, cmd.Stdout = c.Stdin, c.Stdout
	var stderrTail *tailBuffer
	if c.Stderr != nil {
		cmd.Stderr = c.Stderr
	} else {
		stderrTail = &tailBuffer{max: 4096}
		cmd.Stderr = stderrTail
	}
	if c.Group || c.KillWithParent {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: c.Group}
		if c.KillWithParent {
			setParentDeathSignal(cmd.SysProcAttr)
		}
	}
	if err := cmd.Start(); err != nil {
		return &Error{Cmd: c.String(), Err: err}
	}
	if c.Started != nil {
		c.Started(cmd.Process.Pid)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
		case <-ctx.Done():
			o.stop(cmd.Process.Pid, c.Group, done)
		}
	}()
	err := cmd.Wait()
	close(done)
	wg.Wait()
	if err != nil {
		e := &Error{Cmd: c.String(), Err: err}
		if stderrTail != nil {
			e.Stderr = stderrTail.String()
		}
		if ctx.Err() != nil {
			e.Err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return e
	}
	return nil
}

func (o OS) stop(pid int, group bool, done <-chan struct{}) {
	target := pid
	if group {
		target = -pid
	}
	_ = syscall.Kill(target, syscall.SIGTERM)
	grace := o.GraceTime
	if grace == 0 {
		grace = 20 * time.Second
	}
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(target, syscall.SIGKILL)
	}
	if group {
		// Children that outlived the leader are still in the group.
		_ = syscall.Kill(target, syscall.SIGKILL)
	}
}

// Environ is the process environment with extra set and unset names removed.
func Environ(extra, unset []string) []string {
	drop := map[string]bool{}
	for _, k := range unset {
		drop[k] = true
	}
	for _, kv := range extra {
		drop[strings.SplitN(kv, "=", 2)[0]] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if !drop[strings.SplitN(kv, "=", 2)[0]] {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// Output runs c and returns its standard output.
func Output(ctx context.Context, r Runner, c Cmd) (string, error) {
	var out bytes.Buffer
	c.Stdout = &out
	err := r.Run(ctx, c)
	return out.String(), err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
