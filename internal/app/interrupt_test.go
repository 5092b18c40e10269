package app_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/app"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
)

// fakeProject makes a project whose buildroot/ is the fake Buildroot,
// initialised through ipabr itself.
func fakeProject(t *testing.T) string {
	t.Helper()
	dir, err := testenv.MakeFakeProject(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if out, code := runIpabr(dir, "-q", "init"); code != 0 {
		t.Fatalf("init: %s", out)
	}
	return dir
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(stat), ") Z ")
}

// TestBuildInterrupt: SIGINT to ipabr stops make's whole process group,
// waits for it, releases the lock, says where it stopped and exits 130.
// A second build meanwhile is refused by the lock.
func TestBuildInterrupt(t *testing.T) {
	dir := fakeProject(t)
	pidFile := filepath.Join(t.TempDir(), "children")
	exe := ipabrExecutable(t)
	cmd := exec.Command(exe, "--repo", dir, "build")
	cmd.Env = append(os.Environ(), "FAKE_SLEEP=60", "FAKE_CHILD_PIDFILE="+pidFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var children []int
	deadline := time.Now().Add(30 * time.Second)
	for len(children) == 0 && time.Now().Before(deadline) {
		data, _ := os.ReadFile(pidFile)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				children = append(children, pid)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(children) == 0 {
		cmd.Process.Kill()
		t.Fatalf("the fake build never started a child; stderr:\n%s", stderr.String())
	}

	t.Logf("children %v after %v", children, time.Since(deadline.Add(-30*time.Second)))
	// The output is locked while the build runs.
	out, code := runIpabr(dir, "build")
	if code != 1 || !strings.Contains(out, "output is in use by pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("second build: exit %d, %s", code, out)
	}

	t0 := time.Now()
	defer func() { t.Logf("stopped %v after SIGINT", time.Since(t0)) }()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("ipabr exited %d (%v), want 130; stderr:\n%s", code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "build interrupted during ") {
		t.Errorf("no word on where the build stopped:\n%s", stderr.String())
	}
	for _, pid := range children {
		for i := 0; i < 50 && alive(pid); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("make's child %d survived the interrupt", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// The lock is free again: flock(1) gets it at once.
	if _, err := exec.LookPath("flock"); err == nil {
		if err := exec.Command("flock", "-n", filepath.Join(dir, "output", ".ipabr.lock"), "true").Run(); err != nil {
			t.Errorf("lock still held after the interrupt: %v", err)
		}
	}
}

// projectFiles lists every path under dir (directories with a trailing
// slash) with the content of the small files, to compare a project
// before and after a command.
func projectFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.IsDir():
			files[rel+"/"] = ""
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files[rel] = string(data)
		default:
			files[rel] = d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestInitInterrupt: SIGINT, SIGTERM or three SIGINTs in the middle of the
// fetch stop init with exit 130, the project as it was before (no temp
// files, no half-made submodule), and the next plain init completes at the
// pin.
func TestInitInterrupt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals []syscall.Signal
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}},
		{"three SIGINTs", []syscall.Signal{syscall.SIGINT, syscall.SIGINT, syscall.SIGINT}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			commits, err := testenv.MakeFakeBuildrootRepo(filepath.Join(work, "srv", "buildroot.git"))
			if err != nil {
				t.Fatal(err)
			}
			srv, err := testenv.StartGitServer(filepath.Join(work, "srv"))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			stalled := srv.StallPacks()
			dir := filepath.Join(work, "proj")
			if err := testenv.MakeProject(dir, commits.Tagged, srv.URL+"/buildroot.git"); err != nil {
				t.Fatal(err)
			}
			before := projectFiles(t, dir)

			cmd := exec.Command(ipabrExecutable(t), "--repo", dir, "init")
			var stderr lockedBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-stalled:
			case err := <-exited:
				t.Fatalf("init ended (%v) before the pack arrived; stderr:\n%s", err, stderr.String())
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("init never fetched the pack; stderr:\n%s", stderr.String())
			}
			for _, sig := range tc.signals {
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-exited:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("init did not stop after %v; stderr:\n%s", tc.signals, stderr.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != 130 {
				t.Fatalf("init exited %d, want 130; stderr:\n%s", code, stderr.String())
			}
			t.Logf("stderr:\n%s", stderr.String())
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("no word of the interruption:\n%s", stderr.String())
			}
			after := projectFiles(t, dir)
			for name := range after {
				if _, ok := before[name]; !ok {
					t.Errorf("left behind: %s", name)
				}
			}
			for name, content := range before {
				if got, ok := after[name]; !ok {
					t.Errorf("removed: %s", name)
				} else if got != content {
					t.Errorf("changed: %s:\n%s\nwas:\n%s", name, got, content)
				}
			}

			srv.Release()
			if out, code := runIpabr(dir, "init"); code != 0 {
				t.Fatalf("init after the interrupt: exit %d\n%s", code, out)
			}
			head, err := testenv.Git(filepath.Join(dir, "buildroot"), "rev-parse", "HEAD")
			if err != nil || head != commits.Tagged {
				t.Errorf("buildroot/ is at %q (%v), not the pin %s", head, err, commits.Tagged)
			}
		})
	}
}

// TestCommandsHonourCancellation: status and cache-key, run with their
// context already cancelled (the signal arrived while they read the
// trees), stop with exit 130 and say so, rather than finishing with 0.
func TestCommandsHonourCancellation(t *testing.T) {
	dir := fakeProject(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupt signal received"))
	for _, args := range [][]string{
		{"status"},
		{"status", "--json"},
		{"cache-key"},
		{"cache-key", "--for", "output", "--json"},
	} {
		io, _, out, errOut := term.Test()
		code := app.Run(ctx, append([]string{"--repo", dir}, args...), app.Env{IO: io, Runner: process.OS{}, Cwd: dir})
		if code != 130 || !strings.Contains(errOut.String(), "interrupted (interrupt signal received)") {
			t.Errorf("%v: exit %d, want 130 and a word of the interruption; stdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
	}
}

// TestSignalHandlingStartsWithTheCommand: a command takes over SIGINT and
// SIGTERM as it starts and gives them back when it ends; version and help,
// which only print, leave them to their default (a signal ends them) and
// so start without the signal-handling thread.
func TestSignalHandlingStartsWithTheCommand(t *testing.T) {
	dir := fakeProject(t)
	for _, c := range []struct {
		args    []string
		handled bool
	}{
		{[]string{"status"}, true},
		{[]string{"env"}, true},
		{[]string{"version"}, false},
		{[]string{"help", "status"}, false},
		{[]string{"--help"}, false},
		{[]string{"status", "--help"}, false},
	} {
		started, stopped := 0, 0
		io, _, out, errOut := term.Test()
		code := app.Run(context.Background(), append([]string{"--repo", dir}, c.args...), app.Env{IO: io, Runner: process.OS{}, Cwd: dir,
			Interrupts: func() func() {
				started++
				return func() { stopped++ }
			}})
		want := 0
		if c.handled {
			want = 1
		}
		if code != 0 || started != want || stopped != want {
			t.Errorf("%v: exit %d, signal handling started %d and stopped %d times, want %d\nstdout:\n%s\nstderr:\n%s", c.args, code, started, stopped, want, out, errOut)
		}
	}
}
