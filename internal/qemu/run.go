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
	// The agent check's phase that failed, whether it ran out of its own
	// time, and what the check saw until then.
	Phase        Phase
	PhaseTimeout bool
	Report       *Report
}

func (e *CheckError) Error() string { return e.Reason }
func (e *CheckError) Unwrap() error { return e.Err }

// machine is a headless QEMU started for a check: its console and stderr
// rings, and a way to stop it that waits for it to be gone.
type machine struct {
	serial, stderr *Ring
	start          time.Time
	done           chan struct{} // closed when QEMU has exited
	err            error         // QEMU's exit, once done is closed
	stop           context.CancelFunc

	mu  sync.Mutex
	pid int
}

// boot starts c in check mode in its own process group, set to die with
// the calling process. It does not wait for anything.
func boot(ctx context.Context, r process.Runner, c Config, o CheckOptions) *machine {
	m := &machine{serial: NewRing(o.Lines), stderr: NewRing(20), done: make(chan struct{})}
	cmd := c.Cmd()
	cmd.Stdout = m.serial
	if o.Serial != nil {
		cmd.Stdout = &tee{a: m.serial, b: o.Serial}
	}
	cmd.Stderr = m.stderr
	cmd.Group = true
	cmd.KillWithParent = true
	cmd.Started = func(p int) {
		m.mu.Lock()
		m.pid = p
		m.mu.Unlock()
		if o.Started != nil {
			o.Started(p)
		}
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	m.start = o.Now()
	go func() {
		m.err = r.Run(runCtx, cmd)
		close(m.done)
	}()
	return m
}

func (m *machine) getPID() int { m.mu.Lock(); defer m.mu.Unlock(); return m.pid }

// shutdown stops QEMU (SIGTERM to its group: QEMU exits cleanly; SIGKILL
// after the runner's grace time) and waits for it. It may be called again.
func (m *machine) shutdown() { m.stop(); <-m.done }

// fail is a CheckError with the console's and QEMU's last lines.
func (m *machine) fail(err error, format string, a ...any) *CheckError {
	return &CheckError{Reason: fmt.Sprintf(format, a...), Serial: m.serial.Lines(), Stderr: m.stderr.Lines(), PID: m.getPID(), Err: err}
}

// exitedEarly is the error for QEMU ending before what was awaited.
func (m *machine) exitedEarly(what string) *CheckError {
	return m.fail(nil, "QEMU exited %s before %s%s", exitStatus(m.err), what, lastLine(m.stderr.Lines()))
}

// defaults fills in the options' defaults.
func (o *CheckOptions) defaults() error {
	if o.Timeout <= 0 {
		return errors.New("check: a timeout is required")
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
	return nil
}

// Check boots c headless and polls the agent until it answers, QEMU exits,
// the timeout passes or ctx is cancelled: the plain probe, for images that
// run without Ironic (CheckAgent proves the whole agent). QEMU runs in its
// own process group and is stopped (SIGTERM to the group, then SIGKILL
// after the runner's grace time) before Check returns, whatever the
// outcome; it is also set to die with the calling process.
func Check(ctx context.Context, r process.Runner, c Config, o CheckOptions) (*Result, error) {
	c.Mode = ModeCheck
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", c.HostPort)
	m := boot(ctx, r, c, o)
	defer m.shutdown()

	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	lastErr := errors.New("no probe made yet")
	for {
		select {
		case <-m.done:
			return nil, m.exitedEarly("the agent answered")
		case <-deadline.C:
			m.shutdown()
			return nil, m.fail(nil, "the agent did not answer on %s/ within %s (last probe: %v)", base, o.Timeout, lastErr)
		case <-ctx.Done():
			m.shutdown()
			return nil, m.fail(ctx.Err(), "interrupted before the agent answered: %v", ctx.Err())
		case <-tick.C:
			pctx, cancel := context.WithTimeout(ctx, o.Interval+4*time.Second)
			ans, err := Probe(pctx, o.Client, base)
			cancel()
			if err != nil {
				lastErr = err
				continue
			}
			res := &Result{URL: base + "/", Elapsed: o.Now().Sub(m.start), Answer: ans, PID: m.getPID()}
			m.shutdown()
			res.Serial = m.serial.Lines()
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
