package term

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Notifier prints what a long operation has to say on stderr: notes
// unless quiet, warnings (marked) unless quiet, details only when verbose.
type Notifier struct {
	IO             *IOStreams
	Quiet, Verbose bool
}

// Note prints a progress note.
func (n Notifier) Note(format string, a ...any) {
	if !n.Quiet {
		fmt.Fprintf(n.IO.ErrOut, format+"\n", a...)
	}
}

// Warn prints a warning.
func (n Notifier) Warn(format string, a ...any) {
	if !n.Quiet {
		fmt.Fprintf(n.IO.ErrOut, "%s %s\n", n.IO.Styles().Warning("warning:"), fmt.Sprintf(format, a...))
	}
}

// Detail prints a verbose-only line.
func (n Notifier) Detail(format string, a ...any) {
	if n.Verbose {
		fmt.Fprintf(n.IO.ErrOut, format+"\n", a...)
	}
}

// Raw is where make's own output goes besides the log: stderr with
// --verbose.
func (n Notifier) Raw() io.Writer {
	if n.Verbose {
		return n.IO.ErrOut
	}
	return nil
}

// BuildDisplay shows a build: a live status line of the package steps
// (redrawn every second on a terminal), make's raw output with --verbose,
// and the log's tail when the build fails.
type BuildDisplay struct {
	Notifier
	line *StatusLine
	stop chan struct{}
	wg   sync.WaitGroup
}

// NewBuildDisplay starts the display.
func NewBuildDisplay(n Notifier, now func() time.Time) *BuildDisplay {
	d := &BuildDisplay{Notifier: n, line: NewStatusLine(n.IO.ErrOut, n.IO.IsStderrTTY(), now), stop: make(chan struct{})}
	if d.Live() && n.IO.IsStderrTTY() {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-d.stop:
					return
				case <-t.C:
					d.line.Tick()
				}
			}
		}()
	}
	return d
}

// Live: the status line is shown (not with --quiet or --verbose).
func (d *BuildDisplay) Live() bool { return !d.Quiet && !d.Verbose }

// Progress shows a package step.
func (d *BuildDisplay) Progress(done, total int, step string) {
	if d.Live() {
		d.line.Set(done, total, step)
	}
}

// Stopped ends the live line.
func (d *BuildDisplay) Stopped() {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	d.wg.Wait()
	d.line.Clear()
}

// Failed shows where a build failed, the last lines of its log (tail,
// lines of them; without colour, without escape sequences) and where the
// whole log is.
func (d *BuildDisplay) Failed(where, tail string, lines int, logShown, logPath string) {
	w := d.IO.ErrOut
	fmt.Fprintf(w, "%s build failed in %s\n", d.IO.Styles().Error("✗"), where)
	if !d.IO.ColorEnabled() {
		// Buildroot's ">>>" lines are in reverse video (tput smso).
		tail = StripEscapes(tail)
	}
	if tail != "" {
		fmt.Fprintf(w, "--- last %d lines of %s ---\n%s--- end of log ---\n", lines, logShown, tail)
	}
	fmt.Fprintf(w, "full log: %s\n", logPath)
}

// Succeeded says how long the build took.
func (d *BuildDisplay) Succeeded(elapsed time.Duration) {
	if !d.Quiet {
		fmt.Fprintf(d.IO.ErrOut, "%s built in %s\n", d.IO.Styles().Success("✓"), elapsed.Round(time.Second))
	}
}
