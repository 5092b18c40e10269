// Package processtest has a strict process.Runner for tests: every command
// a test expects is registered, a command nobody registered fails the
// test, and so does a registration no command used.
package processtest

import (
	"context"
	"fmt"
	"regexp"
	"sync"

	"github.com/ipabr/ipabr/internal/process"
)

// T is the part of testing.TB the stub reports to.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Stub answers registered commands, each registration once, in any order
// among those that match; it records every command it is asked to run.
type Stub struct {
	t     T
	mu    sync.Mutex
	stubs []*stub
	calls []process.Cmd
}

type stub struct {
	pattern *regexp.Regexp
	answer  func(process.Cmd) error
	used    bool
}

// New is a stub that, when the test ends, fails it for every registration
// no command used.
func New(t T) *Stub {
	s := &Stub{t: t}
	t.Cleanup(func() {
		t.Helper()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, st := range s.stubs {
			if !st.used {
				t.Errorf("processtest: no command ran that matches %q", st.pattern)
			}
		}
	})
	return s
}

// Register expects one command whose line (process.Cmd.String) matches
// the regular expression pattern; answer, if not nil, plays the command
// (writing its output, changing files) and returns its error.
func (s *Stub) Register(pattern string, answer func(process.Cmd) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stubs = append(s.stubs, &stub{pattern: regexp.MustCompile(pattern), answer: answer})
}

// Run plays the first unused registration that matches c; a command that
// matches none fails the test and returns an error.
func (s *Stub) Run(_ context.Context, c process.Cmd) error {
	line := c.String()
	s.mu.Lock()
	s.calls = append(s.calls, c)
	var match *stub
	for _, st := range s.stubs {
		if !st.used && st.pattern.MatchString(line) {
			match = st
			match.used = true
			break
		}
	}
	s.mu.Unlock()
	if match == nil {
		s.t.Helper()
		s.t.Errorf("processtest: unexpected command: %s", line)
		return &process.Error{Cmd: line, Err: fmt.Errorf("unexpected command in a test")}
	}
	if match.answer == nil {
		return nil
	}
	return match.answer(c)
}

// Commands are the command lines run so far, in order.
func (s *Stub) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		out = append(out, c.String())
	}
	return out
}

// Calls are the commands run so far, in order.
func (s *Stub) Calls() []process.Cmd {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]process.Cmd(nil), s.calls...)
}
