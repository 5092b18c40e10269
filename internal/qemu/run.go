package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ipabr/ipabr/internal/process"
)

// CheckOptions tune Check.
type CheckOptions struct {
	Timeout  time.Duration // how long the agent has to answer; required
	Interval time.Duration // between probes; default 500ms
	Lines    int           // console lines kept for the result; default 50
	// Serial also receives the console as QEMU writes it (a log file, a live
	// view). Its write errors are ignored: they must not stop QEMU.
	Serial  io.Writer
	Started func(pid int) // called with QEMU's pid once it runs
	Client  *http.Client  // default NewClient()
	Now     func() time.Time
}

// Result is a successful check.
type Result struct {
	URL     string        // the forwarded agent URL, http://127.0.0.1:PORT/
	Elapsed time.Duration // from starting QEMU to the agent's answer
	Answer  *Answer
	PID     int
	Serial  []string // the last console lines
}

// CheckError is a failed check: why, and the end of the console.
type CheckError struct {
	Reason string
	Serial []string // the last console lines
	Stderr []string // what QEMU itself printed last
	PID    int
	Err    error // context.Canceled when the caller gave up
}

func (e *CheckError) Error() string { return e.Reason }
func (e *CheckError) Unwrap() error { return e.Err }

// Check boots c headless and polls the agent until it answers, QEMU exits,
// the timeout passes or ctx is cancelled. QEMU runs in its own process group
// and is stopped (SIGTERM to the group, then SIGKILL after the runner's
// grace time) before Check returns, whatever the outcome; it is also set to
// die with the calling process.
func Check(ctx context.Context, r process.Runner, c Config, o CheckOptions) (*Result, error) {
	c.Mode = ModeCheck
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		return nil, errors.New("check: a timeout is required")
	}
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.Lines <= 0 {
		o.Lines = 50
	}
	if o.Client == nil {
		o.Client = NewClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", c.HostPort)
	serial, stderr := NewRing(o.Lines), NewRing(20)
	var mu sync.Mutex
	pid := 0
	cmd := c.Cmd()
	cmd.Stdout = serial
	if o.Serial != nil {
		cmd.Stdout = &tee{a: serial, b: o.Serial}
	}
	cmd.Stderr = stderr
	cmd.Group = true
	cmd.KillWithParent = true
	cmd.Started = func(p int) {
		mu.Lock()
		pid = p
		mu.Unlock()
		if o.Started != nil {
			o.Started(p)
		}
	}
	getPID := func() int { mu.Lock(); defer mu.Unlock(); return pid }

	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	exited := make(chan error, 1)
	start := o.Now()
	go func() { exited <- r.Run(runCtx, cmd) }()
	// shutdown stops QEMU (SIGTERM: QEMU exits cleanly) and waits for it.
	shutdown := func() { stop(); <-exited }
	fail := func(err error, format string, a ...any) *CheckError {
		return &CheckError{Reason: fmt.Sprintf(format, a...), Serial: serial.Lines(), Stderr: stderr.Lines(), PID: getPID(), Err: err}
	}

	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	lastErr := errors.New("no probe made yet")
	for {
		select {
		case err := <-exited:
			return nil, fail(nil, "QEMU exited %s before the agent answered%s", exitStatus(err), lastLine(stderr.Lines()))
		case <-deadline.C:
			shutdown()
			return nil, fail(nil, "the agent did not answer on %s/ within %s (last probe: %v)", base, o.Timeout, lastErr)
		case <-ctx.Done():
			shutdown()
			return nil, fail(ctx.Err(), "interrupted before the agent answered: %v", ctx.Err())
		case <-tick.C:
			pctx, cancel := context.WithTimeout(ctx, o.Interval+4*time.Second)
			ans, err := Probe(pctx, o.Client, base)
			cancel()
			if err != nil {
				lastErr = err
				continue
			}
			elapsed := o.Now().Sub(start)
			res := &Result{URL: base + "/", Elapsed: elapsed, Answer: ans, PID: getPID()}
			shutdown()
			res.Serial = serial.Lines()
			return res, nil
		}
	}
}

// Run boots c interactively: QEMU gets the given streams (normally the
// terminal, which it puts in raw mode: Ctrl-A X quits, Ctrl-C goes to the
// guest) and Run returns when it exits. QEMU stays in ipabr's process group
// so the terminal keeps working, is signalled when ctx is cancelled, and is
// set to die with the calling process.
func Run(ctx context.Context, r process.Runner, c Config, in io.Reader, out, errOut io.Writer, started func(pid int)) error {
	c.Mode = ModeInteractive
	if err := c.Validate(); err != nil {
		return err
	}
	cmd := c.Cmd()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, errOut
	cmd.KillWithParent = true
	cmd.Started = started
	return r.Run(ctx, cmd)
}

func exitStatus(err error) string {
	if err == nil {
		return "with status 0"
	}
	if sig, ok := process.Signal(err); ok {
		return "on signal " + sig.String()
	}
	if code := process.ExitCode(err); code >= 0 {
		return fmt.Sprintf("with status %d", code)
	}
	var pe *process.Error
	if errors.As(err, &pe) {
		return "(" + pe.Err.Error() + ")"
	}
	return "(" + err.Error() + ")"
}

func lastLine(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return ": " + s
		}
	}
	return ""
}

// tee writes to a, then to b ignoring b's errors.
type tee struct {
	a, b io.Writer
}

func (t *tee) Write(p []byte) (int, error) {
	n, err := t.a.Write(p)
	_, _ = t.b.Write(p)
	return n, err
}
