package term

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// StatusLine shows a long operation's progress: on a terminal one line
// rewritten in place ("[ 12/143] python3 3.12 Building  03:12"); elsewhere
// one timestamped line per change, with no escape codes.
type StatusLine struct {
	w     io.Writer
	tty   bool
	start time.Time
	now   func() time.Time

	mu      sync.Mutex
	done    int
	total   int
	current string
	shown   bool
}

// NewStatusLine starts a status display on w.
func NewStatusLine(w io.Writer, tty bool, now func() time.Time) *StatusLine {
	return &StatusLine{w: w, tty: tty, start: now(), now: now}
}

// Set records progress; off a terminal it prints a line.
func (s *StatusLine) Set(done, total int, current string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done, s.total, s.current = done, total, current
	if s.tty {
		s.draw()
		return
	}
	fmt.Fprintf(s.w, "%s %s %s\n", s.now().Format("15:04:05"), s.counter(), current)
}

// Tick redraws the elapsed time on a terminal.
func (s *StatusLine) Tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty && s.shown {
		s.draw()
	}
}

// Clear removes the live line so ordinary output can follow.
func (s *StatusLine) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty && s.shown {
		fmt.Fprint(s.w, "\r\x1b[K")
		s.shown = false
	}
}

// Elapsed is the time since the display started.
func (s *StatusLine) Elapsed() time.Duration { return s.now().Sub(s.start) }

func (s *StatusLine) counter() string {
	if s.total > 0 {
		return fmt.Sprintf("[%*d/%d]", len(fmt.Sprint(s.total)), s.done, s.total)
	}
	return fmt.Sprintf("[%d]", s.done)
}

func (s *StatusLine) draw() {
	el := s.now().Sub(s.start).Round(time.Second)
	fmt.Fprintf(s.w, "\r\x1b[K%s %s  %02d:%02d", s.counter(), s.current, int(el.Minutes()), int(el.Seconds())%60)
	s.shown = true
}
