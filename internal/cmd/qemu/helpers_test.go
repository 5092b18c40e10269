package qemucmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/ironic/ironictest"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

// fakeQEMUEnv turns the test binary into a stand-in for qemu-system-x86_64
// (see fakeQEMU); its value is the behaviour.
const fakeQEMUEnv = "IPABR_TEST_FAKE_QEMU"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeQEMUEnv); mode != "" {
		os.Exit(fakeQEMU(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeQEMU stands in for qemu-img (create makes the file) and for QEMU: it
// prints a console and then, by mode: "answer" serves IPA's root document on
// the forwarded port, "agent" plays IPA against the Ironic API named by
// -append (ironictest, with the variant of fixture.agent=), "silent" waits,
// "die" fails like QEMU refusing a kernel. It runs until SIGTERM, as QEMU
// does.
func fakeQEMU(mode string, args []string) int {
	if len(args) == 6 && args[0] == "create" {
		if err := os.WriteFile(args[4], nil, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fake qemu-img:", err)
			return 1
		}
		return 0
	}
	for i := 1; i <= 60; i++ {
		fmt.Printf("fake console line %d\r\n", i)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	switch mode {
	case "agent":
		var appendArgs string
		for i, a := range args {
			if a == "-append" && i+1 < len(args) {
				appendArgs = args[i+1]
			}
		}
		ag, err := ironictest.FromKernelArgs(appendArgs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake qemu:", err)
			return 2
		}
		ag.Listen = "127.0.0.1:" + hostPort(args)
		go func() {
			if err := ag.Run(ctx); err != nil && ctx.Err() == nil {
				fmt.Println("fake agent:", err)
			}
		}()
		fmt.Println("fake: agent starting")
	case "die":
		fmt.Fprintln(os.Stderr, "qemu-system-x86_64: could not load kernel: fake")
		return 1
	case "answer":
		port := hostPort(args)
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake qemu:", err)
			return 1
		}
		go func() {
			_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"name": "OpenStack Ironic Python Agent API", "versions": [{"id": "v1"}]}`))
			}))
		}()
		fmt.Println("fake: agent up on port " + port)
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "qemu-system-x86_64: terminating on signal 15")
		return 0
	case <-time.After(5 * time.Minute):
		return 3
	}
}

// hostPort is the host port QEMU's arguments forward to the agent.
func hostPort(args []string) string {
	m := regexp.MustCompile(`hostfwd=tcp:127\.0\.0\.1:(\d+)-:9999`).FindStringSubmatch(strings.Join(args, " "))
	if m == nil {
		return "0"
	}
	return m[1]
}

// env is one fake machine around the command.
type env struct {
	t       *testing.T
	root    string // the project root
	images  string // its output's images/
	io      *term.IOStreams
	out     *bytes.Buffer
	errOut  *bytes.Buffer
	f       *cmdutil.Factory
	kvm     error // what the KVM check says; nil means usable
	lookErr error
	quiet   bool   // -q
	realKVM bool   // use the command's own KVM check instead of kvm
	tmp     string // TMPDIR, where the check makes its temporary directory

	mu      sync.Mutex
	pids    []int
	apiURLs []string // the stand-in Ironic APIs the command started
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	images := filepath.Join(root, "output", "images")
	if err := os.MkdirAll(images, 0o755); err != nil {
		t.Fatal(err)
	}
	io, _, out, errOut := term.Test()
	e := &env{t: t, root: root, images: images, io: io, out: out, errOut: errOut, kvm: errors.New("forced TCG by the test"), tmp: t.TempDir()}
	t.Setenv("TMPDIR", e.tmp)
	p := &project.Project{Root: root, Output: filepath.Join(root, "output"), Buildroot: filepath.Join(root, "buildroot")}
	e.f = &cmdutil.Factory{
		IOStreams: io,
		Runner:    process.OS{GraceTime: 5 * time.Second},
		Settings:  func() (*config.Settings, error) { return &config.Settings{Project: p, Quiet: e.quiet}, nil },
		Now:       time.Now,
		LookPath: func(name string) (string, error) {
			if e.lookErr != nil {
				return "", e.lookErr
			}
			return exec.LookPath(name)
		},
		FileExists: func(p string) bool { _, err := os.Stat(p); return err == nil },
		Context:    context.Background(),
	}
	return e
}

// fakeEnv is an env with images in place and the test binary acting as
// QEMU in mode.
func fakeEnv(t *testing.T, mode string) *env {
	t.Helper()
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.withFakeQEMU(mode)
	return e
}

// withFakeQEMU makes qemu-system-x86_64 the test binary acting in mode.
func (e *env) withFakeQEMU(mode string) {
	e.t.Setenv(fakeQEMUEnv, mode)
	self, err := os.Executable()
	if err != nil {
		e.t.Fatal(err)
	}
	e.f.LookPath = func(string) (string, error) { return self, nil }
}

// touch creates files under images/.
func (e *env) touch(names ...string) {
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(e.images, n), []byte("fake "+n), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
}

// command is `ipabr qemu` with the test's KVM answer and pid recording.
func (e *env) command() *cobra.Command {
	cmd := NewCmdQemu(e.f, func(o *Options) error {
		if !e.realKVM {
			o.KVM = func(string) error { return e.kvm }
		}
		o.Started = func(pid int) {
			e.mu.Lock()
			e.pids = append(e.pids, pid)
			e.mu.Unlock()
		}
		o.APIStarted = func(url string) {
			e.mu.Lock()
			e.apiURLs = append(e.apiURLs, url)
			e.mu.Unlock()
		}
		return runQemu(o)
	})
	cmd.SetOut(e.io.Out)
	cmd.SetErr(e.io.ErrOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	return cmd
}

// run executes `ipabr qemu ARGS` and returns its exit code.
func (e *env) run(ctx context.Context, args ...string) int {
	e.t.Helper()
	e.out.Reset()
	e.errOut.Reset()
	cmd := e.command()
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(e.errOut, "error: %v\n", err)
	}
	e.t.Logf("ipabr qemu %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), cmdutil.ExitCode(err), e.out, e.errOut)
	return cmdutil.ExitCode(err)
}

// cancelAfterStart calls cancel a while after the command started QEMU:
// Ctrl-C in the middle of a check.
func (e *env) cancelAfterStart(cancel context.CancelFunc, after time.Duration) {
	defer cancel()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		e.mu.Lock()
		started := len(e.pids) > 0
		e.mu.Unlock()
		if started {
			time.Sleep(after)
			return
		}
	}
}

// assertNoSurvivors fails if any QEMU the command started is still running,
// a stand-in Ironic API still listens or the check's temporary directory
// (scratch disks, capture) is left.
func (e *env) assertNoSurvivors() {
	e.t.Helper()
	e.mu.Lock()
	pids := append([]int(nil), e.pids...)
	urls := append([]string(nil), e.apiURLs...)
	e.mu.Unlock()
	for _, u := range urls {
		if c, err := net.Dial("tcp", strings.TrimPrefix(u, "http://")); err == nil {
			c.Close()
			e.t.Errorf("the stand-in Ironic API still listens on %s", u)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(e.tmp, "ipabr-qemu-*")); len(left) > 0 {
		e.t.Errorf("temporary files left: %v", left)
	}
	if len(pids) == 0 {
		e.t.Fatal("the command reported no QEMU pid")
	}
	for _, pid := range pids {
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				e.t.Fatalf("QEMU pid %d survived the command", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// alive reports whether pid runs (a zombie awaiting its reaper does not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return !strings.Contains(string(b), ") Z ")
}

// holdPort listens on a free 127.0.0.1 port until the test ends.
func holdPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
