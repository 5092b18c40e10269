package process

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"make":       "make",
		"O=/tmp/out": "O=/tmp/out",
		"a b":        "'a b'",
		"it's":       `'it'\''s'`,
		"":           "''",
		"$HOME":      "'$HOME'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRunFailureCarriesCommandAndStderr(t *testing.T) {
	err := OS{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo boom >&2; exit 3"}})
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("want *Error, got %v", err)
	}
	if ExitCode(err) != 3 {
		t.Errorf("exit code = %d, want 3", ExitCode(err))
	}
	if !strings.Contains(err.Error(), "sh -c") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("error %q lacks the command line or stderr", err)
	}
}

func TestEnvironSetsAndUnsets(t *testing.T) {
	t.Setenv("IPABR_PROCESS_TEST_DROP", "x")
	t.Setenv("IPABR_PROCESS_TEST_KEEP", "y")
	out, err := Output(context.Background(), OS{}, Cmd{
		Name:  "sh",
		Args:  []string{"-c", `echo "$IPABR_PROCESS_TEST_DROP|$IPABR_PROCESS_TEST_KEEP|$IPABR_PROCESS_TEST_NEW"`},
		Env:   []string{"IPABR_PROCESS_TEST_NEW=z"},
		Unset: []string{"IPABR_PROCESS_TEST_DROP"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out); got != "|y|z" {
		t.Fatalf("child saw %q, want |y|z", got)
	}
}

// A cancelled grouped process takes its whole tree down: the grandchild that
// ignores nothing special must be gone when Run returns.
func TestCancelKillsWholeGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- OS{GraceTime: 2 * time.Second}.Run(ctx, Cmd{
			Name:  "sh",
			Args:  []string{"-c", "sleep 300 & echo $! > " + pidFile + "; wait"},
			Group: true,
		})
	}()
	var grandchild int
	for i := 0; i < 200 && grandchild == 0; i++ {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 {
			grandchild, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if grandchild == 0 {
		t.Fatal("grandchild never started")
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	// The grandchild may linger as a zombie briefly; signal 0 fails once reaped.
	for i := 0; i < 100; i++ {
		if syscall.Kill(grandchild, 0) != nil {
			return
		}
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(grandchild) + "/stat"); strings.Contains(string(b), ") Z ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("grandchild %d survived cancellation", grandchild)
}
