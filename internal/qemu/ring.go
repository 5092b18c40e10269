package qemu

import (
	"strings"
	"sync"
)

// Ring is an io.Writer that keeps the last N lines written to it, cleaned of
// terminal control sequences (firmware and consoles clear the screen and
// move the cursor), for showing the end of a serial console.
type Ring struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
	esc     int // escape-sequence state carried across writes
}

// NewRing keeps the last n lines (at least 1).
func NewRing(n int) *Ring {
	if n < 1 {
		n = 1
	}
	return &Ring{max: n}
}

// Escape-sequence states.
const (
	escNone = iota
	escStart
	escCSI
)

// Write never fails.
func (r *Ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range p {
		switch r.esc {
		case escStart:
			if c == '[' {
				r.esc = escCSI
			} else {
				r.esc = escNone // a two-byte sequence such as ESC c
			}
			continue
		case escCSI:
			if c >= 0x40 && c <= 0x7e {
				r.esc = escNone
			}
			continue
		}
		switch {
		case c == 0x1b:
			r.esc = escStart
		case c == '\n':
			r.push(string(r.partial))
			r.partial = r.partial[:0]
		case c == '\t' || c >= 0x20 && c != 0x7f:
			if len(r.partial) < 4096 {
				r.partial = append(r.partial, c)
			}
		}
		// Other control bytes (\r, NUL, bell, backspace) are dropped.
	}
	return len(p), nil
}

func (r *Ring) push(line string) {
	line = strings.ToValidUTF8(strings.TrimRight(line, " \t"), "?")
	if len(r.lines) == r.max {
		copy(r.lines, r.lines[1:])
		r.lines = r.lines[:r.max-1]
	}
	r.lines = append(r.lines, line)
}

// Lines returns the kept lines, oldest first, including an unfinished last
// line, with leading and trailing blank lines left out.
func (r *Ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.lines...)
	if tail := strings.TrimRight(string(r.partial), " \t"); tail != "" {
		out = append(out, strings.ToValidUTF8(tail, "?"))
		if len(out) > r.max {
			out = out[1:]
		}
	}
	for len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}
