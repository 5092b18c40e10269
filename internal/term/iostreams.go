// Package term owns the process's streams: TTY detection, colour and the
// small styling helpers every command uses for its human-readable output.
package term

import (
	"bytes"
	"io"
	"os"

	"github.com/fatih/color"
	"golang.org/x/term"
)

// Colour modes accepted by --color.
const (
	ColorAuto   = "auto"
	ColorAlways = "always"
	ColorNever  = "never"
)

// IOStreams are the three standard streams plus what is known about them.
// Commands write only through these, so tests can capture everything.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noColor   bool // NO_COLOR is set
	colorMode string

	// stdinFd is the descriptor behind In when it is a real terminal, for
	// reading passwords without echo and handing the terminal to a child.
	stdinFd int
}

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		noColor:   os.Getenv("NO_COLOR") != "",
		colorMode: ColorAuto,
		stdinFd:   int(os.Stdin.Fd()),
	}
}

// Test returns streams backed by buffers; none of them is a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, colorMode: ColorAuto, stdinFd: -1}, in, out, errOut
}

// SetTTY marks the streams as terminals (for tests of interactive paths).
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// SetColorMode applies --color; the value must already be validated.
func (s *IOStreams) SetColorMode(mode string) { s.colorMode = mode }

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal; progress
// displays and colour depend on it.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// StdinFd is the terminal descriptor behind In, or -1.
func (s *IOStreams) StdinFd() int { return s.stdinFd }

// ColorEnabled decides colour for stderr (ColorEnabledFor).
func (s *IOStreams) ColorEnabled() bool { return s.ColorEnabledFor(s.ErrOut) }

// ColorEnabledFor decides colour for w, one of the streams: NO_COLOR wins
// over everything, then --color, and "auto" means only when w is a
// terminal. Each stream decides for itself: 'ipabr doctor > report.txt'
// from a terminal colours stderr, not the file. Any other writer is not a
// terminal.
func (s *IOStreams) ColorEnabledFor(w io.Writer) bool {
	if s.noColor {
		return false
	}
	switch s.colorMode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	switch w {
	case s.ErrOut:
		return s.stderrTTY
	case s.Out:
		return s.stdoutTTY
	}
	return false
}

// Styles returns colouring functions for text written to stderr.
func (s *IOStreams) Styles() Styles { return s.StylesFor(s.ErrOut) }

// StylesFor returns colouring functions for text written to w, one of the
// streams (ColorEnabledFor).
func (s *IOStreams) StylesFor(w io.Writer) Styles {
	on := s.ColorEnabledFor(w)
	mk := func(attrs ...color.Attribute) func(string) string {
		c := color.New(attrs...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return func(text string) string { return c.Sprint(text) }
	}
	return Styles{
		Error:   mk(color.FgRed, color.Bold),
		Warning: mk(color.FgYellow),
		Success: mk(color.FgGreen),
		Bold:    mk(color.Bold),
		Faint:   mk(color.Faint),
	}
}

// Styles colour text for one stream.
type Styles struct {
	Error, Warning, Success, Bold, Faint func(string) string
}
