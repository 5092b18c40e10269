package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/process"
)

// consoleScript prints 100 console lines, starts a child that would outlive
// a careless stop (its pid in $1), then waits like QEMU does.
const consoleScript = `i=1; while [ $i -le 100 ]; do printf 'console line %%d\r\n' $i; i=$((i+1)); done
`

// childScript starts a child that would outlive a careless stop, its pid
// in the file named by %s.
const childScript = `sleep 300 & echo $! > "%s"
`

type pids struct {
	mu   sync.Mutex
	list []int
}

func (p *pids) add(pid int) { p.mu.Lock(); p.list = append(p.list, pid); p.mu.Unlock() }

// checkConfig is a configuration whose binary is a fake QEMU script that
// prints a console, starts a child (its pid lands in childFile), then runs
// body.
func checkConfig(t *testing.T, port int, body string) (c Config, childFile string) {
	t.Helper()
	childFile = filepath.Join(t.TempDir(), "child")
	c = base()
	c.HostPort = port
	//lint:ignore SA1006 consoleScript is a format string: Sprintf turns its %% into %
	c.Binary = fakeQEMU(t, fmt.Sprintf(consoleScript)+fmt.Sprintf(childScript, childFile)+body)
	return c, childFile
}

// assertGone fails unless every pid (and the script's child) has exited.
func assertGone(t *testing.T, childFile string, list ...int) {
	t.Helper()
	if b, err := os.ReadFile(childFile); err == nil {
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
			list = append(list, pid)
		}
	}
	if len(list) == 0 {
		t.Fatal("no pid to check")
	}
	for _, pid := range list {
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("process %d survived", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return !strings.Contains(string(b), ") Z ")
}

func fastOptions(p *pids, timeout time.Duration) CheckOptions {
	return CheckOptions{Timeout: timeout, Interval: 50 * time.Millisecond, Started: p.add}
}

var runner = process.OS{GraceTime: 2 * time.Second}

func TestCheckAgentAnswers(t *testing.T) {
	agent := serve(t, map[string]string{"/": ipaRoot})
	port, _ := strconv.Atoi(agent[strings.LastIndex(agent, ":")+1:])
	c, child := checkConfig(t, port, "wait")
	var p pids
	var log bytes.Buffer
	o := fastOptions(&p, 10*time.Second)
	o.Serial = &syncBuffer{b: &log}
	res, err := Check(context.Background(), runner, c, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer.Name != "OpenStack Ironic Python Agent API" || res.Elapsed <= 0 || res.URL != agent+"/" {
		t.Fatalf("result %+v", res)
	}
	if len(p.list) != 1 || res.PID != p.list[0] {
		t.Fatalf("pid %d, started %v", res.PID, p.list)
	}
	assertGone(t, child, res.PID)
	if !strings.Contains(log.String(), "console line 100\r\n") {
		t.Fatalf("the serial copy lacks the console: %q", log.String())
	}
}

func TestCheckTimeoutKeepsLastLines(t *testing.T) {
	port, _ := FreePort()
	c, child := checkConfig(t, port, "wait")
	var p pids
	start := time.Now()
	_, err := Check(context.Background(), runner, c, fastOptions(&p, time.Second))
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CheckError, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a 1s check took %s", d)
	}
	want := fmt.Sprintf("the agent did not answer on http://127.0.0.1:%d/ within 1s (last probe: connection refused)", port)
	if ce.Reason != want {
		t.Fatalf("reason %q, want %q", ce.Reason, want)
	}
	if len(ce.Serial) != 50 || ce.Serial[0] != "console line 51" || ce.Serial[49] != "console line 100" {
		t.Fatalf("serial %d lines: %q … %q", len(ce.Serial), ce.Serial[0], ce.Serial[len(ce.Serial)-1])
	}
	assertGone(t, child, p.list...)
}

func TestCheckQEMUExits(t *testing.T) {
	port, _ := FreePort()
	c := base()
	c.HostPort = port
	//lint:ignore SA1006 consoleScript is a format string: Sprintf turns its %% into %
	c.Binary = fakeQEMU(t, fmt.Sprintf(consoleScript)+`echo "qemu-system-x86_64: could not load kernel '/img/bzImage'" >&2; exit 1`)
	var p pids
	_, err := Check(context.Background(), runner, c, fastOptions(&p, 10*time.Second))
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CheckError, got %v", err)
	}
	if want := "QEMU exited with status 1 before the agent answered: qemu-system-x86_64: could not load kernel '/img/bzImage'"; ce.Reason != want {
		t.Fatalf("reason %q, want %q", ce.Reason, want)
	}
	if len(ce.Serial) == 0 {
		t.Fatal("no serial lines")
	}
	assertGone(t, filepath.Join(t.TempDir(), "none"), p.list...)
}

// QEMU that ignores SIGTERM still goes: SIGKILL after the grace time.
func TestCheckKillsStubbornQEMU(t *testing.T) {
	port, _ := FreePort()
	c, child := checkConfig(t, port, "trap '' TERM; while :; do sleep 1; done")
	var p pids
	start := time.Now()
	_, err := Check(context.Background(), runner, c, fastOptions(&p, 500*time.Millisecond))
	if err == nil {
		t.Fatal("check passed without an agent")
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Fatalf("stopping took %s", d)
	}
	assertGone(t, child, p.list...)
}

func TestCheckCancelled(t *testing.T) {
	port, _ := FreePort()
	c, child := checkConfig(t, port, "wait")
	var p pids
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	_, err := Check(ctx, runner, c, fastOptions(&p, time.Minute))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertGone(t, child, p.list...)
}

func TestRunInteractive(t *testing.T) {
	c := base()
	c.Binary = fakeQEMU(t, `echo "args: $*"; read line; echo "guest got $line"; echo "qemu warning" >&2`)
	var out, errOut bytes.Buffer
	var p pids
	err := Run(context.Background(), runner, c, strings.NewReader("hello\n"), &out, &errOut, p.add)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "args: "+strings.Join(c.Args(), " ")) || !strings.Contains(out.String(), "guest got hello") {
		t.Fatalf("stdout %q", out.String())
	}
	if errOut.String() != "qemu warning\n" || len(p.list) != 1 {
		t.Fatalf("stderr %q, pids %v", errOut.String(), p.list)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
