package processtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/process"
)

// recorder is a T that keeps what the stub reports.
type recorder struct {
	errors   []string
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) end() {
	for _, f := range r.cleanups {
		f()
	}
}

func TestStubAnswersRegisteredCommands(t *testing.T) {
	r := &recorder{}
	s := New(r)
	boom := errors.New("boom")
	s.Register(`^make .* olddefconfig$`, nil)
	s.Register(`^git diff`, func(process.Cmd) error { return boom })
	if err := s.Run(context.Background(), process.Cmd{Name: "make", Args: []string{"-C", "/br", "olddefconfig"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), process.Cmd{Name: "git", Args: []string{"diff", "--stat"}}); !errors.Is(err, boom) {
		t.Fatalf("answer's error: %v", err)
	}
	r.end()
	if len(r.errors) != 0 {
		t.Fatalf("a test that ran what it registered failed: %q", r.errors)
	}
	if got := strings.Join(s.Commands(), "|"); got != "make -C /br olddefconfig|git diff --stat" {
		t.Errorf("commands %q", got)
	}
}

func TestStubFailsUnexpectedAndUnusedCommands(t *testing.T) {
	r := &recorder{}
	s := New(r)
	s.Register(`^make .* olddefconfig$`, nil)
	s.Register(`^make .* savedefconfig$`, nil)
	if err := s.Run(context.Background(), process.Cmd{Name: "rm", Args: []string{"-rf", "/"}}); err == nil {
		t.Error("an unexpected command succeeded")
	}
	if err := s.Run(context.Background(), process.Cmd{Name: "make", Args: []string{"-s", "olddefconfig"}}); err != nil {
		t.Fatal(err)
	}
	// Each registration answers once.
	if err := s.Run(context.Background(), process.Cmd{Name: "make", Args: []string{"-s", "olddefconfig"}}); err == nil {
		t.Error("a registration answered twice")
	}
	r.end()
	want := []string{"unexpected command: rm -rf /", "unexpected command: make -s olddefconfig", `no command ran that matches "^make .* savedefconfig$"`}
	if len(r.errors) != len(want) {
		t.Fatalf("reports %q, want %q", r.errors, want)
	}
	for i, w := range want {
		if !strings.Contains(r.errors[i], w) {
			t.Errorf("report %d = %q, want %q", i, r.errors[i], w)
		}
	}
}
