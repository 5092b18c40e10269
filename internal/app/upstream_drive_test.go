package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ipabr/ipabr/internal/app"
	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
)

// upstream is one project with real Buildroot at the pin and this
// repository's buildroot-ipa, shared by the upstream-tier tests.
var upstream struct {
	once sync.Once
	dir  string
	err  error
}

func upstreamProject(t *testing.T) string {
	src := testenv.Env(t, "upstream", "IPABR_TEST_BUILDROOT")
	upstream.once.Do(func() {
		dir, err := os.MkdirTemp("", "ipabr-upstream-")
		if err != nil {
			upstream.err = err
			return
		}
		upstream.dir = dir
		if err := testenv.MakeProject(dir, gitsub.DefaultPin, gitsub.DefaultURL); err != nil {
			upstream.err = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		tree := filepath.Join(filepath.Dir(file), "..", "..", "buildroot-ipa")
		if err := os.RemoveAll(filepath.Join(dir, "buildroot-ipa")); err != nil {
			upstream.err = err
			return
		}
		if err := os.CopyFS(filepath.Join(dir, "buildroot-ipa"), os.DirFS(tree)); err != nil {
			upstream.err = err
			return
		}
		if out, code := runIpabr(dir, "init", "--url", src); code != 0 {
			upstream.err = &runError{out}
		}
	})
	if upstream.err != nil {
		t.Fatal(upstream.err)
	}
	return upstream.dir
}

type runError struct{ out string }

func (e *runError) Error() string { return "ipabr init failed: " + e.out }

// runIpabr runs ipabr in-process in dir and returns stdout+stderr and the exit code.
func runIpabr(dir string, args ...string) (string, int) {
	io, _, out, errOut := term.Test()
	code := app.Run(context.Background(), append([]string{"--repo", dir}, args...), app.Env{
		IO: io, Runner: process.OS{}, Cwd: dir,
	})
	return out.String() + errOut.String(), code
}

func TestUpstreamDriveBuildroot(t *testing.T) {
	dir := upstreamProject(t)

	out, code := runIpabr(dir, "list", "--json")
	if code != 0 {
		t.Fatalf("list: %d %s", code, out)
	}
	if !strings.Contains(out, `"name": "openstack_ipa_defconfig",`) || !strings.Contains(out, `"external": true`) {
		t.Fatalf("list --json lacks the external openstack_ipa_defconfig:\n%.2000s", out)
	}

	if out, code = runIpabr(dir, "configure"); code != 0 {
		t.Fatalf("configure: %d\n%s", code, out)
	}
	if strings.Contains(out, "warning:") {
		t.Errorf("kconfig warnings while loading the defconfig:\n%s", out)
	}

	// The committed defconfig is canonical: savedefconfig gives it back.
	out, code = runIpabr(dir, "save", "--buildroot", "--dry-run")
	if code != 0 || !strings.Contains(out, "Buildroot defconfig: buildroot-ipa/configs/openstack_ipa_defconfig unchanged") {
		t.Fatalf("save --dry-run after configure: %d\n%s", code, out)
	}

	// show-info through the escape hatch is Buildroot's JSON.
	out, code = runIpabr(dir, "-q", "make", "--", "-s", "show-info")
	if code != 0 {
		t.Fatalf("make -- show-info: %d\n%.2000s", code, out)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("show-info is not JSON: %v\n%.500s", err, out)
	}
	if _, ok := info["python3"]; !ok {
		t.Errorf("show-info lacks python3 (%d packages)", len(info))
	}

	// rebuild's check without make agrees with make: every package
	// show-info lists is one of the output's, and a typo or a disabled
	// package is refused before make runs.
	cfg, err := buildroot.ReadConfigFile(filepath.Join(dir, "output", ".config"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := buildroot.FindPackages(filepath.Join(dir, "buildroot"), filepath.Join(dir, "buildroot-ipa"))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range info {
		if entry, _ := v.(map[string]any); entry["type"] == "rootfs" {
			continue
		}
		if err := buildroot.CheckPackage(pkgs, cfg, name); err != nil {
			t.Errorf("show-info's %s: %v", name, err)
		}
	}
	for pkg, want := range map[string]string{"busybx": `did you mean "busybox"?`, "nginx": "BR2_PACKAGE_NGINX is not set"} {
		if out, code = runIpabr(dir, "rebuild", pkg); code != 2 || !strings.Contains(out, want) {
			t.Errorf("rebuild %s: exit %d\n%s", pkg, code, out)
		}
	}
}

// TestUpstreamMenuconfigPTY drives real mconf through a pseudo-terminal:
// search for the compiler-cache option, toggle it, save, and check .config.
func TestUpstreamMenuconfigPTY(t *testing.T) {
	dir := upstreamProject(t)
	if out, code := runIpabr(dir, "-O", "output/menu", "configure"); code != 0 {
		t.Fatalf("configure: %s", out)
	}
	cfgPath := filepath.Join(dir, "output", "menu", ".config")
	before, _ := os.ReadFile(cfgPath)
	wasOn := bytes.Contains(before, []byte("\nBR2_CCACHE=y\n"))

	exe := ipabrExecutable(t)
	cmd := exec.Command(exe, "--repo", dir, "-O", "output/menu", "menuconfig")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=xterm", "IPABR_COLOR=never")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var screen lockedBuffer
	go func() { _, _ = copyAll(&screen, ptmx) }()
	// sendAndWait types keys and waits for the screen: until it shows
	// what (if not "") among what arrived after them and has then stayed
	// still for a moment, so that mconf has drawn its new dialog and waits
	// for a key (a dialog may drop keys typed before it was drawn). ncurses
	// sends only the cells that change, so a text shown again may not
	// arrive whole: the steps that only redraw wait for any change.
	sendAndWait := func(keys, what string) {
		t.Helper()
		mark := len(screen.String())
		_, _ = ptmx.Write([]byte(keys))
		deadline := time.Now().Add(90 * time.Second)
		seen, last, still := false, -1, 0
		for time.Now().Before(deadline) {
			shown := screen.String()
			seen = seen || (what == "" && len(shown) > mark) || (what != "" && strings.Contains(plain(shown[mark:]), what))
			if seen && len(shown) == last {
				if still++; still >= 6 {
					return
				}
			} else {
				still = 0
			}
			last = len(shown)
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("menuconfig never showed %q after %q; screen tail:\n%s", what, keys, tail(plain(screen.String()), 3000))
	}
	sendAndWait("", "Target options")
	sendAndWait("/", "Search Configuration Parameter")
	sendAndWait("BR2_CCACHE\r", "Search Results")
	sendAndWait("1", "Build options") // jump to the first result's menu
	sendAndWait(" ", "")              // toggle it
	sendAndWait("\x1b\x1b", "")       // back to the results
	sendAndWait("\x1b\x1b", "")       // back to the main menu
	sendAndWait("\x1b\x1b", "Do you wish to save your new configuration")
	_, _ = ptmx.Write([]byte("\r"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ipabr menuconfig: %v\n%s", err, tail(plain(screen.String()), 2000))
	}
	after, _ := os.ReadFile(cfgPath)
	if nowOn := bytes.Contains(after, []byte("\nBR2_CCACHE=y\n")); nowOn == wasOn {
		t.Fatalf("BR2_CCACHE still %v after toggling it in menuconfig", wasOn)
	}
	if !strings.Contains(plain(screen.String()), "The configuration changed. Run 'ipabr save'") {
		t.Errorf("no reminder of ipabr save:\n%s", tail(plain(screen.String()), 500))
	}
}

// ipabrExecutable is a link named ipabr to this test binary, which
// testscript.Main runs as ipabr.
func ipabrExecutable(t *testing.T) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ipabr")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	return link
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func copyAll(w *lockedBuffer, r *os.File) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			w.Write(buf[:k])
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// plain drops terminal control sequences (cursor moves, colours, charset
// switches) so the text a menu drew can be searched.
var controlSeq = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78])`)

func plain(s string) string { return controlSeq.ReplaceAllString(s, "") }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
