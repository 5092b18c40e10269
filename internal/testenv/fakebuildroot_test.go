//go:build unix

package testenv

// Tests of the fake Buildroot (fakebuildroot/): every target and knob ipabr
// relies on, run with make on a copy of the tree; and, in the upstream tier,
// the formats compared with real Buildroot.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeEnv is a copy of the fake Buildroot, an external tree "TEST" with
// configs/test_defconfig, and an output directory.
type fakeEnv struct {
	t                        *testing.T
	Top, Ext, Out, DL, Cache string
}

func newFakeEnv(t *testing.T) *fakeEnv {
	t.Helper()
	root := t.TempDir()
	e := &fakeEnv{t: t,
		Top: filepath.Join(root, "buildroot"), Ext: filepath.Join(root, "ext"),
		Out: filepath.Join(root, "output"), DL: filepath.Join(root, "dl"), Cache: filepath.Join(root, "ccache"),
	}
	if err := CopyFakeBuildroot(e.Top); err != nil {
		t.Fatal(err)
	}
	if err := MakeExternalTree(e.Ext, "TEST", "Test tree", map[string]string{
		"test_defconfig": "BR2_x86_64=y\n# BR2_TARGET_ENABLE_ROOT_LOGIN is not set\n",
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

type makeResult struct {
	Stdout, Stderr string
	Code           int
}

func (r makeResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// makeEnviron is the environment without an outer make's settings, TERM,
// or Buildroot and fake knobs, plus extra.
func makeEnviron(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "MAKEFLAGS" || k == "MFLAGS" || k == "MAKELEVEL" || k == "MAKEOVERRIDES" || k == "GNUMAKEFLAGS",
			k == "TERM", strings.HasPrefix(k, "BR2_"), strings.HasPrefix(k, "FAKE_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func runMake(t *testing.T, env []string, args ...string) makeResult {
	t.Helper()
	cmd := exec.Command("make", args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("make %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return makeResult{stdout.String(), stderr.String(), code}
}

func (e *fakeEnv) environ(extra ...string) []string {
	return makeEnviron(append([]string{"BR2_DL_DIR=" + e.DL, "BR2_CCACHE_DIR=" + e.Cache}, extra...)...)
}

// make runs `make -C <fake> O=<out> BR2_EXTERNAL=<ext> args`, as ipabr does.
func (e *fakeEnv) make(env []string, args ...string) makeResult {
	e.t.Helper()
	return runMake(e.t, append(e.environ(), env...),
		append([]string{"-C", e.Top, "O=" + e.Out, "BR2_EXTERNAL=" + e.Ext}, args...)...)
}

// makeOut runs `make -C <out> args`, through the output directory's wrapper.
func (e *fakeEnv) makeOut(env []string, args ...string) makeResult {
	e.t.Helper()
	return runMake(e.t, append(e.environ(), env...), append([]string{"-C", e.Out}, args...)...)
}

func (e *fakeEnv) mustMake(args ...string) makeResult {
	e.t.Helper()
	r := e.make(nil, args...)
	if r.Code != 0 {
		e.t.Fatalf("make %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// configure loads test_defconfig, plus the utils/config commands given.
func (e *fakeEnv) configure(configArgs ...string) {
	e.t.Helper()
	e.mustMake("-s", "test_defconfig")
	if len(configArgs) > 0 {
		e.utilsConfig(append([]string{"--file", e.path(".config")}, configArgs...)...)
	}
}

func (e *fakeEnv) utilsConfig(args ...string) string {
	e.t.Helper()
	out, err := exec.Command(filepath.Join(e.Top, "utils", "config"), args...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("utils/config %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (e *fakeEnv) path(rel string) string { return filepath.Join(e.Out, rel) }

func (e *fakeEnv) read(path string) string {
	e.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(data)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// steps returns the ">>> ..." lines of make output, escape codes removed.
func steps(out string) []string {
	var s []string
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, ">>> "); i >= 0 {
			s = append(s, stripEscapes(line[i:]))
		}
	}
	return s
}

var escapeRE = regexp.MustCompile(`\x1b(\[[0-9;]*[@-~]|.)`)

func stripEscapes(s string) string { return escapeRE.ReplaceAllString(s, "") }

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestFakeListDefconfigs(t *testing.T) {
	e := newFakeEnv(t)
	r := e.mustMake("-s", "list-defconfigs")
	want := "Built-in configs:\n" +
		"  fake_x86_64_defconfig               - Build for fake_x86_64\n" +
		"\n" +
		"External configs in \"Test tree\":\n" +
		"  test_defconfig                      - Build for test\n" +
		"\n"
	if r.Stdout != want {
		t.Errorf("list-defconfigs:\n%q\nwant\n%q", r.Stdout, want)
	}
	// desc: is optional; the name stands in for it.
	if err := os.WriteFile(filepath.Join(e.Ext, "external.desc"), []byte("name: TEST\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.mustMake("-s", "list-defconfigs"); !strings.Contains(r.Stdout, "External configs in \"TEST\":\n") {
		t.Errorf("without desc:\n%s", r.Stdout)
	}
	// A bad external tree is make's error.
	r = runMake(t, e.environ(), "-s", "-C", e.Top, "O="+e.Out, "BR2_EXTERNAL="+e.Ext+"-missing", "list-defconfigs")
	if r.Code != 2 || !strings.Contains(r.Stderr, "'"+e.Ext+"-missing': no such file or directory.  Stop.") {
		t.Errorf("missing external: %s", r)
	}
}

func TestFakeDefconfig(t *testing.T) {
	e := newFakeEnv(t)
	r := e.mustMake("test_defconfig")
	for _, want := range []string{
		"  GEN     " + e.Out + "/Makefile\n",
		"#\n# configuration written to " + e.Out + "/.config\n#\n",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
	config := e.read(e.path(".config"))
	want := "#\n# Automatically generated file; DO NOT EDIT.\n# Buildroot 2026.02.3-fake Configuration\n#\n" +
		"BR2_HAVE_DOT_CONFIG=y\n" +
		"BR2_EXTERNAL_NAMES=\"TEST\"\n" +
		"BR2_EXTERNAL_TEST_PATH=\"" + e.Ext + "\"\n" +
		"BR2_EXTERNAL_TEST_VERSION=\"\"\n" +
		"BR2_x86_64=y\n" +
		"# BR2_TARGET_ENABLE_ROOT_LOGIN is not set\n" +
		"BR2_DL_DIR=\"$(TOPDIR)/dl\"\n" +
		"BR2_DEFCONFIG=\"" + e.Ext + "/configs/test_defconfig\"\n" +
		"# BR2_PER_PACKAGE_DIRECTORIES is not set\n"
	if config != want {
		t.Errorf(".config:\n%s\nwant\n%s", config, want)
	}
	if mk := e.read(e.path("Makefile")); !strings.Contains(mk, "Automatically generated") || !strings.Contains(mk, "-C "+e.Top) {
		t.Errorf("O/Makefile:\n%s", mk)
	}

	// The external tree's defconfig wins over a built-in one of that name;
	// a defconfig that sets BR2_PER_PACKAGE_DIRECTORIES keeps its value.
	if err := os.WriteFile(filepath.Join(e.Top, "configs", "test_defconfig"), []byte("BR2_BUILTIN=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.Ext, "configs", "ppd_defconfig"), []byte("BR2_PER_PACKAGE_DIRECTORIES=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustMake("-s", "test_defconfig")
	if c := e.read(e.path(".config")); strings.Contains(c, "BR2_BUILTIN") || !strings.Contains(c, "BR2_x86_64=y") {
		t.Errorf("external defconfig does not win:\n%s", c)
	}
	e.mustMake("-s", "fake_x86_64_defconfig")
	if c := e.read(e.path(".config")); !strings.Contains(c, "BR2_DEFCONFIG=\""+e.Top+"/configs/fake_x86_64_defconfig\"\n") {
		t.Errorf("built-in defconfig:\n%s", c)
	}
	e.mustMake("-s", "ppd_defconfig")
	if c := e.read(e.path(".config")); !strings.Contains(c, "\nBR2_PER_PACKAGE_DIRECTORIES=y\n") || strings.Contains(c, "PER_PACKAGE_DIRECTORIES is not set") {
		t.Errorf("ppd_defconfig:\n%s", c)
	}

	r = e.make(nil, "nosuch_defconfig")
	if r.Code != 2 || !regexp.MustCompile(`(?m)^Makefile:\d+: \*\*\* "Can't find nosuch_defconfig"\.  Stop\.$`).MatchString(r.Stderr) {
		t.Errorf("nosuch_defconfig: %s", r)
	}
}

func TestFakeSavedefconfig(t *testing.T) {
	e := newFakeEnv(t)
	defconfig := filepath.Join(e.Ext, "configs", "test_defconfig")
	original := e.read(defconfig)
	e.configure()

	// To the .config's BR2_DEFCONFIG: the defconfig comes back unchanged.
	if err := os.Remove(defconfig); err != nil {
		t.Fatal(err)
	}
	if r := e.makeOut(nil, "-s", "savedefconfig"); r.Code != 0 || r.Stdout != "  GEN     "+e.Out+"/Makefile\n" {
		t.Fatalf("savedefconfig: %s", r)
	}
	if got := e.read(defconfig); got != original {
		t.Errorf("saved %q, want %q", got, original)
	}

	// utils/config edits survive olddefconfig, in order; a symbol set back
	// to its default leaves the defconfig.
	e.utilsConfig("--file", e.path(".config"),
		"--set-str", "BR2_TARGET_GENERIC_HOSTNAME", "ipa",
		"--enable", "BR2_PER_PACKAGE_DIRECTORIES",
		"--set-val", "BR2_JLEVEL", "4",
		"--enable", "BR2_TARGET_ENABLE_ROOT_LOGIN")
	if r := e.makeOut(nil, "-s", "olddefconfig"); r.Code != 0 || !strings.Contains(r.Stdout, "# configuration written to "+e.Out+"/.config\n") {
		t.Fatalf("olddefconfig: %s", r)
	}
	e.utilsConfig("--file", e.path(".config"), "--disable", "BR2_PER_PACKAGE_DIRECTORIES")
	// BR2_DEFCONFIG on the command line wins.
	saved := filepath.Join(t.TempDir(), "sub", "saved_defconfig")
	if r := e.make(nil, "-s", "savedefconfig", "BR2_DEFCONFIG="+saved); r.Code != 0 {
		t.Fatalf("savedefconfig: %s", r)
	}
	want := "BR2_x86_64=y\nBR2_TARGET_ENABLE_ROOT_LOGIN=y\nBR2_TARGET_GENERIC_HOSTNAME=\"ipa\"\nBR2_JLEVEL=4\n"
	if got := e.read(saved); got != want {
		t.Errorf("saved %q, want %q", got, want)
	}
	if got := e.read(defconfig); got != original {
		t.Errorf("the .config's BR2_DEFCONFIG was written: %q", got)
	}

	// Without BR2_DEFCONFIG anywhere: O/defconfig.
	e.utilsConfig("--file", e.path(".config"), "--undefine", "BR2_DEFCONFIG")
	if r := e.makeOut(nil, "-s", "update-defconfig"); r.Code != 0 {
		t.Fatalf("update-defconfig: %s", r)
	}
	if got := e.read(e.path("defconfig")); got != want {
		t.Errorf("O/defconfig %q, want %q", got, want)
	}
	// olddefconfig puts the default BR2_DEFCONFIG back.
	e.makeOut(nil, "-s", "olddefconfig")
	if c := e.read(e.path(".config")); !strings.Contains(c, "BR2_DEFCONFIG=\"$(CONFIG_DIR)/defconfig\"\n") {
		t.Errorf(".config after olddefconfig:\n%s", c)
	}
}

func TestFakeUtilsConfig(t *testing.T) {
	e := newFakeEnv(t)
	file := filepath.Join(t.TempDir(), ".config")
	if err := os.WriteFile(file, []byte("BR2_A=y\n# BR2_B is not set\nBR2_S=\"old\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.utilsConfig("--file", file, "--disable", "a", "--enable", "BR2_B", "--set-str", "s", `new "x"`,
		"--set-val", "N", "3", "--package", "--enable", "foo-bar", "--keep-case", "--enable", "BR2_PACKAGE_lower")
	want := "# BR2_A is not set\nBR2_B=y\nBR2_S=\"new \\\"x\\\"\"\nBR2_N=3\nBR2_PACKAGE_FOO_BAR=y\nBR2_PACKAGE_lower=y\n"
	if got := e.read(file); got != want {
		t.Errorf("utils/config wrote\n%s\nwant\n%s", got, want)
	}
	got := e.utilsConfig("--file", file, "--state", "A", "--state", "B", "--state", "S", "--state", "N",
		"--undefine", "N", "--state", "N")
	if want := "n\ny\nnew \"x\"\n3\nundef\n"; got != want {
		t.Errorf("--state: %q, want %q", got, want)
	}
	if out, err := exec.Command(filepath.Join(e.Top, "utils", "config"), "--file", file, "--bogus", "X").CombinedOutput(); err == nil {
		t.Errorf("--bogus accepted: %s", out)
	}
}

// The steps of a default build, in order.
var fakeDefaultSteps = []string{
	">>> host-skeleton  Extracting", ">>> host-skeleton  Patching", ">>> host-skeleton  Configuring",
	">>> host-skeleton  Building", ">>> host-skeleton  Installing to host directory",
	">>> skeleton  Extracting", ">>> skeleton  Patching", ">>> skeleton  Configuring",
	">>> skeleton  Building", ">>> skeleton  Installing to target",
	">>> busybox 1.37.0 Downloading", ">>> busybox 1.37.0 Extracting", ">>> busybox 1.37.0 Patching",
	">>> busybox 1.37.0 Configuring", ">>> busybox 1.37.0 Building", ">>> busybox 1.37.0 Installing to target",
	">>> linux 6.19.14 Downloading", ">>> linux 6.19.14 Extracting", ">>> linux 6.19.14 Patching",
	">>> linux 6.19.14 Updating kernel config with fixups", ">>> linux 6.19.14 Configuring",
	">>> linux 6.19.14 Building", ">>> linux 6.19.14 Installing to target",
	">>> linux 6.19.14 Installing to images directory",
	">>> python3 3.14.5 Downloading", ">>> python3 3.14.5 Extracting", ">>> python3 3.14.5 Patching",
	">>> python3 3.14.5 Configuring", ">>> python3 3.14.5 Building",
	">>> python3 3.14.5 Installing to staging directory", ">>> python3 3.14.5 Installing to target",
}

var fakeFinalSteps = []string{
	">>>   Finalizing host directory", ">>>   Finalizing target directory",
	">>>   Sanitizing RPATH in target tree", ">>>   Sanity check in overlays",
	">>>   Generating root filesystems common tables", ">>>   Generating filesystem image rootfs.cpio",
}

func TestFakeBuild(t *testing.T) {
	e := newFakeEnv(t)
	if r := e.make(nil, "-s"); r.Code != 2 || !strings.Contains(r.Stderr, `*** Please configure Buildroot first (e.g. "make menuconfig").  Stop.`) {
		t.Errorf("make without .config: %s", r)
	}
	e.configure()
	r := e.make(nil)
	if r.Code != 0 {
		t.Fatalf("make: %s", r)
	}
	if got, want := steps(r.Stdout), append(slices.Clone(fakeDefaultSteps), fakeFinalSteps...); !slices.Equal(got, want) {
		t.Errorf("steps:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(r.Stdout, "\x1b") {
		t.Errorf("escape codes without TERM:\n%q", r.Stdout)
	}
	for _, f := range []string{
		"images/bzImage", "images/rootfs.cpio", "images/rootfs.cpio.xz",
		"build/busybox-1.37.0/.stamp_built", "build/linux-6.19.14/.stamp_built", "build/linux-6.19.14/.config",
		"build/python3-3.14.5/.stamp_installed", "build/host-skeleton/.stamp_host_installed",
		"build/skeleton/.stamp_target_installed", "target/usr/lib/os-release", "target/etc/os-release",
		"host/share/fake/host-skeleton", "staging",
	} {
		if !exists(e.path(f)) {
			t.Errorf("no %s", f)
		}
	}
	for _, f := range []string{"busybox/busybox-1.37.0.tar.bz2", "linux/linux-6.19.14.tar.xz", "python3/Python-3.14.5.tar.xz"} {
		if !exists(filepath.Join(e.DL, f)) {
			t.Errorf("no %s in BR2_DL_DIR", f)
		}
	}
	bz := e.read(e.path("images/bzImage"))
	if bz != "fake bzImage: linux 6.19.14\n" {
		t.Errorf("bzImage %q", bz)
	}

	// Again, through the wrapper: packages are done; the images are remade.
	r = e.makeOut(nil)
	if r.Code != 0 || !slices.Equal(steps(r.Stdout), fakeFinalSteps) {
		t.Errorf("second make: %s", r)
	}
	if !strings.HasPrefix(r.Stdout, "make: Entering directory '"+e.Out+"'\n") {
		t.Errorf("wrapper output: %q", r.Stdout)
	}

	// clean keeps .config; the sources stay downloaded.
	e.mustMake("-s", "clean")
	for _, f := range []string{"build", "images", "target", "host", "staging"} {
		if exists(e.path(f)) {
			t.Errorf("clean left %s", f)
		}
	}
	if !exists(e.path(".config")) {
		t.Error("clean removed .config")
	}
	r = e.mustMake("-s", "busybox")
	if got := steps(r.Stdout); slices.Contains(got, ">>> busybox 1.37.0 Downloading") || !slices.Contains(got, ">>> busybox 1.37.0 Building") {
		t.Errorf("busybox after clean: %q", got)
	}
}

func TestFakeBuildMessageFormat(t *testing.T) {
	tput := Program(t, "hermetic", "tput")
	smso, err := exec.Command(tput, "-T", "xterm", "smso").Output()
	if err != nil {
		t.Skipf("no xterm terminfo: %v", err)
	}
	rmso, _ := exec.Command(tput, "-T", "xterm", "rmso").Output()
	e := newFakeEnv(t)
	e.configure("--set-str", "BR2_FAKE_PACKAGES", "host-skeleton")
	r := e.make([]string{"TERM=xterm"}, "-s")
	if r.Code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{
		string(smso) + ">>> host-skeleton  Building" + string(rmso) + "\n",
		string(smso) + ">>>   Finalizing target directory" + string(rmso) + "\n",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%q", want, r.Stdout)
		}
	}
}

func TestFakeBuildFailure(t *testing.T) {
	e := newFakeEnv(t)
	e.configure()
	failRE := regexp.MustCompile(`(?m)^make: \*\*\* \[package/pkg-generic\.mk:\d+: ` + regexp.QuoteMeta(e.Out) + `/build/busybox-1\.37\.0/\.stamp_built\] Error 1$`)
	r := e.make(nil, "FAKE_FAIL_PKG=busybox")
	if r.Code != 2 || !failRE.MatchString(r.Stderr) || !strings.Contains(r.Stderr, "src/fake.c:42:5: error: ") {
		t.Fatalf("FAKE_FAIL_PKG=busybox: %s", r)
	}
	got := steps(r.Stdout)
	if len(got) == 0 || got[len(got)-1] != ">>> busybox 1.37.0 Building" || exists(e.path("build/busybox-1.37.0/.stamp_built")) {
		t.Errorf("steps after the failure: %q", got)
	}
	if exists(e.path("build/linux-6.19.14")) {
		t.Error("make went on after the failure without -k")
	}

	// -k: the other packages are built, not the images. The environment
	// works as well as a make variable.
	r = e.make([]string{"FAKE_FAIL_PKG=busybox"}, "-k")
	if r.Code != 2 || !strings.Contains(r.Stderr, "make: Target 'all' not remade because of errors.") {
		t.Fatalf("-k: %s", r)
	}
	got = steps(r.Stdout)
	if !slices.Contains(got, ">>> python3 3.14.5 Installing to target") || slices.Contains(got, ">>>   Finalizing target directory") {
		t.Errorf("-k steps: %q", got)
	}
	if exists(e.path("images/rootfs.cpio.xz")) {
		t.Error("images made despite the failure")
	}
	// Through the wrapper the failing make is a sub-make.
	r = e.makeOut(nil, "-s", "FAKE_FAIL_PKG=busybox")
	if r.Code != 2 || !strings.Contains(r.Stderr, "make[1]: *** [package/pkg-generic.mk:") || !strings.Contains(r.Stderr, "make: *** [Makefile:") {
		t.Errorf("via the wrapper: %s", r)
	}
}

func TestFakeBuildLog(t *testing.T) {
	e := newFakeEnv(t)
	e.configure("--set-str", "BR2_FAKE_PACKAGES", "busybox")
	start := time.Now()
	r := e.make(nil, "-s", "FAKE_LOG_MB=3")
	if r.Code != 0 {
		t.Fatal(r)
	}
	if n := len(r.Stdout); n < 3<<20-4096 || n > 3<<20+4096 {
		t.Errorf("FAKE_LOG_MB=3 printed %d bytes", n)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("FAKE_LOG_MB=3 took %v", d)
	}
}

func TestFakeBuildSleep(t *testing.T) {
	e := newFakeEnv(t)
	e.configure("--set-str", "BR2_FAKE_PACKAGES", "busybox")
	start := time.Now()
	if r := e.make([]string{"FAKE_SLEEP=1"}, "-s"); r.Code != 0 {
		t.Fatal(r)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("FAKE_SLEEP=1 took %v", d)
	}
}

// alive reports whether pid runs; a zombie does not count.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}

func TestFakeBuildChildPidfile(t *testing.T) {
	e := newFakeEnv(t)
	e.configure("--set-str", "BR2_FAKE_PACKAGES", "busybox")
	pidfile := filepath.Join(t.TempDir(), "pids")
	cmd := exec.Command("make", "-s", "-C", e.Top, "O="+e.Out, "BR2_EXTERNAL="+e.Ext,
		"FAKE_SLEEP=60", "FAKE_CHILD_PIDFILE="+pidfile)
	cmd.Env = e.environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}()

	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(deadline); {
		if data, err := os.ReadFile(pidfile); err == nil && strings.HasSuffix(string(data), "\n") {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("no pid in FAKE_CHILD_PIDFILE")
	}
	if !alive(pid) {
		t.Fatalf("child %d is not running", pid)
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if len(comm) > 0 && strings.TrimSpace(string(comm)) != "sleep" {
		t.Errorf("pid %d is %q, not sleep", pid, comm)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err == nil {
			t.Error("make succeeded despite SIGTERM")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("make outlived SIGTERM")
	}
	for deadline := time.Now().Add(5 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("child %d survived", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFakePackageTargets(t *testing.T) {
	e := newFakeEnv(t)
	e.configure()
	e.mustMake("-s")
	dir := e.Out + "/build/busybox-1.37.0"

	r := e.makeOut(nil, "busybox-rebuild")
	if r.Code != 0 {
		t.Fatal(r)
	}
	for _, f := range []string{".stamp_installed", ".stamp_staging_installed", ".stamp_target_installed",
		".stamp_images_installed", ".stamp_host_installed", ".stamp_built"} {
		if !strings.Contains(r.Stdout, "rm -f "+dir+"/"+f+"\n") {
			t.Errorf("busybox-rebuild does not remove %s:\n%s", f, r.Stdout)
		}
	}
	if got, want := steps(r.Stdout), []string{">>> busybox 1.37.0 Building", ">>> busybox 1.37.0 Installing to target"}; !slices.Equal(got, want) {
		t.Errorf("busybox-rebuild steps %q, want %q", got, want)
	}
	r = e.makeOut(nil, "-s", "python3-reconfigure")
	want := []string{">>> python3 3.14.5 Configuring", ">>> python3 3.14.5 Building",
		">>> python3 3.14.5 Installing to staging directory", ">>> python3 3.14.5 Installing to target"}
	if got := steps(r.Stdout); r.Code != 0 || !slices.Equal(got, want) {
		t.Errorf("python3-reconfigure: %q, want %q\n%s", got, want, r)
	}
	r = e.makeOut(nil, "busybox-dirclean")
	if r.Code != 0 || !strings.Contains(r.Stdout, "rm -Rf "+dir+"\n") || exists(dir) {
		t.Errorf("busybox-dirclean: %s", r)
	}
	r = e.makeOut(nil, "-s", "busybox")
	if got := steps(r.Stdout); len(got) != 5 || got[0] != ">>> busybox 1.37.0 Extracting" {
		t.Errorf("busybox after dirclean: %q", got)
	}
	for target, want := range map[string]string{
		"busybox-show-version": "1.37.0\n",
		"linux-show-depends":   "host-skeleton skeleton\n",
	} {
		if r := e.makeOut(nil, "-s", target); r.Stdout != want {
			t.Errorf("%s: %s", target, r)
		}
	}
}

func TestFakeInformation(t *testing.T) {
	e := newFakeEnv(t)
	e.configure()
	r := e.makeOut(nil, "-s", "show-targets")
	if want := "busybox host-skeleton linux python3 skeleton rootfs-cpio\n"; r.Stdout != want {
		t.Errorf("show-targets %q, want %q", r.Stdout, want)
	}
	r = e.makeOut(nil, "-s", "show-info")
	if !strings.HasPrefix(r.Stdout, `{ "busybox": { "type": "target", "name": "busybox", "virtual": false, "version": "1.37.0", `) ||
		!strings.HasSuffix(r.Stdout, " } } \n") {
		t.Errorf("show-info: %q", r.Stdout)
	}
	var info map[string]map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		t.Fatalf("show-info: %v\n%s", err, r.Stdout)
	}
	var names []string
	for n := range info {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{"busybox", "host-skeleton", "linux", "python3", "rootfs-common", "rootfs-cpio", "skeleton"}; !slices.Equal(names, want) {
		t.Errorf("show-info entries %q, want %q", names, want)
	}
	hs := info["host-skeleton"]
	if hs["type"] != "host" || hs["name"] != "skeleton" || hs["virtual"] != false || hs["version"] != "" ||
		fmt.Sprint(hs["reverse_dependencies"]) != "[busybox linux python3 skeleton]" {
		t.Errorf("host-skeleton: %v", hs)
	}
	if _, ok := hs["install_target"]; ok {
		t.Error("host package with install_target")
	}
	bb := info["busybox"]
	if bb["stamp_dir"] != "build/busybox-1.37.0" || bb["build_dir"] != "build/busybox-1.37.0/" ||
		fmt.Sprint(bb["dependencies"]) != "[host-skeleton skeleton]" || bb["install_target"] != true {
		t.Errorf("busybox: %v", bb)
	}
	if sk := info["skeleton"]; sk["virtual"] != true || sk["version"] != nil {
		t.Errorf("skeleton: %v", sk)
	}
	if fs := info["rootfs-cpio"]; fs["type"] != "rootfs" || fs["image_name"] != "rootfs.cpio" {
		t.Errorf("rootfs-cpio: %v", fs)
	}

	// BR2_FAKE_PACKAGES picks the packages, in build order.
	e.utilsConfig("--file", e.path(".config"), "--set-str", "BR2_FAKE_PACKAGES", "host-foo foo linux rootfs-ext2")
	if r := e.makeOut(nil, "-s", "show-targets"); r.Stdout != "foo host-foo linux rootfs-ext2\n" {
		t.Errorf("show-targets with BR2_FAKE_PACKAGES: %s", r)
	}
	r = e.makeOut(nil, "-s")
	want := []string{">>> host-foo 1.0 Downloading", ">>> host-foo 1.0 Extracting"}
	if got := steps(r.Stdout); r.Code != 0 || len(got) < 2 || !slices.Equal(got[:2], want) || got[len(got)-1] != ">>>   Generating filesystem image rootfs.ext2" {
		t.Errorf("build with BR2_FAKE_PACKAGES: %q\n%s", got, r)
	}
	if !exists(e.path("images/rootfs.ext2")) || !exists(filepath.Join(e.DL, "foo", "foo-1.0.tar.gz")) {
		t.Error("no rootfs.ext2 or foo-1.0.tar.gz")
	}
	if r := e.makeOut(nil, "-s", "external-deps"); r.Stdout != "foo-1.0.tar.gz\nlinux-6.19.14.tar.xz\n" {
		t.Errorf("external-deps: %s", r)
	}

	r = e.makeOut(nil, "-s", "printvars", "VARS=LINUX_DIR LINUX_VERSION DL_DIR BR2_DEFCONFIG")
	want2 := "BR2_DEFCONFIG=\"" + e.Ext + "/configs/test_defconfig\"\nDL_DIR=" + e.DL + "\n" +
		"LINUX_DIR=" + e.Out + "/build/linux-6.19.14\nLINUX_VERSION=6.19.14\n"
	if r.Stdout != want2 {
		t.Errorf("printvars:\n%s\nwant\n%s", r.Stdout, want2)
	}
	if r := e.makeOut(nil, "-s", "printvars", "VARS=DL_DIR", "QUOTED_VARS=1"); r.Stdout != "DL_DIR='"+e.DL+"'\n" {
		t.Errorf("printvars QUOTED_VARS: %s", r)
	}
	if r := e.makeOut(nil, "-s", "printvars"); r.Code != 2 || !strings.Contains(r.Stderr, "Please pass a non-empty VARS to 'make printvars'") {
		t.Errorf("printvars without VARS: %s", r)
	}
	if r := e.makeOut(nil, "-s", "help"); r.Code != 0 || !strings.Contains(r.Stdout, "list-defconfigs") {
		t.Errorf("help: %s", r)
	}
	if r := e.make(nil, "-s", "nosuchtarget"); r.Code != 2 || r.Stderr != "make: *** No rule to make target 'nosuchtarget'.  Stop.\n" {
		t.Errorf("unknown target: %s", r)
	}
}

func TestFakeSource(t *testing.T) {
	e := newFakeEnv(t)
	e.configure()
	r := e.mustMake("-s", "source")
	want := []string{">>> busybox 1.37.0 Downloading", ">>> linux 6.19.14 Downloading", ">>> python3 3.14.5 Downloading"}
	if got := steps(r.Stdout); !slices.Equal(got, want) {
		t.Errorf("source: %q, want %q", got, want)
	}
	if r := e.mustMake("-s", "source"); r.Stdout != "" {
		t.Errorf("second source: %q", r.Stdout)
	}
	if r := e.mustMake("-s", "external-deps"); r.Stdout != "Python-3.14.5.tar.xz\nbusybox-1.37.0.tar.bz2\nlinux-6.19.14.tar.xz\n" {
		t.Errorf("external-deps: %q", r.Stdout)
	}
}

func TestFakeConfigurators(t *testing.T) {
	e := newFakeEnv(t)
	e.configure()
	for _, target := range []string{"menuconfig", "nconfig", "linux-menuconfig", "busybox-menuconfig"} {
		r := e.makeOut(nil, "-s", target)
		if r.Code != 2 || !strings.Contains(r.Stderr, "Error opening terminal: unknown.\n") {
			t.Errorf("%s without a terminal: %s", target, r)
		}
	}
	linuxConfig := e.path("build/linux-6.19.14/.config")
	if c := e.read(linuxConfig); !strings.Contains(c, "CONFIG_FAKE_DEFAULT=y\n") {
		t.Errorf("linux .config:\n%s", c)
	}

	// Saving the configurations back.
	if r := e.makeOut(nil, "-s", "linux-update-defconfig"); r.Code != 2 || !strings.Contains(r.Stderr, "No rule to make target 'linux-update-defconfig'") {
		t.Errorf("linux-update-defconfig without a custom config file: %s", r)
	}
	kconfig := filepath.Join(e.Ext, "board", "linux.config")
	bbconfig := filepath.Join(e.Ext, "board", "busybox.config")
	e.utilsConfig("--file", e.path(".config"), "--set-str", "BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE", kconfig,
		"--set-str", "BR2_PACKAGE_BUSYBOX_CONFIG", "$(BR2_EXTERNAL_TEST_PATH)/board/busybox.config")
	if err := os.WriteFile(linuxConfig, []byte("#\n# header\n#\nCONFIG_A=y\n# CONFIG_B is not set\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.makeOut(nil, "linux-update-defconfig")
	if r.Code != 0 || !strings.Contains(r.Stdout, "cp -f "+e.Out+"/build/linux-6.19.14/defconfig "+kconfig+"\n") {
		t.Fatalf("linux-update-defconfig: %s", r)
	}
	if got := e.read(kconfig); got != "CONFIG_A=y\n# CONFIG_B is not set\n" {
		t.Errorf("linux defconfig %q", got)
	}
	if r := e.makeOut(nil, "-s", "busybox-update-config"); r.Code != 0 {
		t.Fatalf("busybox-update-config: %s", r)
	}
	if got := e.read(bbconfig); got != e.read(e.path("build/busybox-1.37.0/.config")) || !strings.Contains(got, "CONFIG_DESKTOP=y\n") {
		t.Errorf("busybox config %q", got)
	}
	e.utilsConfig("--file", e.path(".config"), "--set-str", "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", "/x.fragment")
	if r := e.makeOut(nil, "-s", "linux-update-defconfig"); r.Code != 2 || !strings.Contains(r.Stdout, "Unable to perform linux-update-defconfig when fragment files are set") {
		t.Errorf("linux-update-defconfig with fragments: %s", r)
	}
	e.mustMake("-s", "busybox-dirclean")
	if r := e.makeOut(nil, "-s", "busybox-update-config"); r.Code != 2 || r.Stdout != "busybox is not yet configured\n" {
		t.Errorf("busybox-update-config unconfigured: %s", r)
	}
}

// scriptPTY runs args under util-linux script(1), so that make's stdin is a
// terminal; input is what is typed.
func scriptPTY(t *testing.T, env []string, input string, args ...string) makeResult {
	t.Helper()
	prog := Program(t, "hermetic", "script")
	if out, err := exec.Command(prog, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "util-linux") {
		t.Skip("script(1) is not util-linux's")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmd := exec.Command(prog, "-qec", strings.Join(quoted, " "), "/dev/null")
	cmd.Env = env
	cmd.Stdin = strings.NewReader(input)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return makeResult{Stdout: strings.ReplaceAll(out.String(), "\r\n", "\n"), Code: code}
}

func TestFakeConfiguratorsOnTerminal(t *testing.T) {
	e := newFakeEnv(t)
	e.configure()
	env := e.environ("TERM=dumb")
	r := scriptPTY(t, env, "y\n", "make", "-s", "-C", e.Out, "menuconfig")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Toggle BR2_FAKE_OPTION? [y/N] ") || !strings.Contains(r.Stdout, "*** End of the configuration.") {
		t.Fatalf("menuconfig: %s", r)
	}
	if c := e.read(e.path(".config")); !strings.Contains(c, "\nBR2_FAKE_OPTION=y\n") {
		t.Errorf(".config after menuconfig:\n%s", c)
	}
	r = scriptPTY(t, env, "y\n", "make", "-s", "-C", e.Out, "nconfig")
	if c := e.read(e.path(".config")); r.Code != 0 || !strings.Contains(c, "\n# BR2_FAKE_OPTION is not set\n") {
		t.Errorf("nconfig: %s\n.config:\n%s", r, c)
	}
	r = scriptPTY(t, env, "n\n", "make", "-s", "-C", e.Out, "menuconfig")
	if c := e.read(e.path(".config")); r.Code != 0 || !strings.Contains(c, "\n# BR2_FAKE_OPTION is not set\n") {
		t.Errorf("menuconfig answered n: %s\n.config:\n%s", r, c)
	}
	for _, pkg := range []string{"linux-6.19.14", "busybox-1.37.0"} {
		name, _, _ := strings.Cut(pkg, "-")
		r = scriptPTY(t, env, "y\n", "make", "-s", "-C", e.Out, name+"-menuconfig")
		if r.Code != 0 || !strings.Contains(r.Stdout, "Toggle CONFIG_FAKE_OPTION? [y/N] ") {
			t.Errorf("%s-menuconfig: %s", name, r)
		}
		if c := e.read(e.path("build/" + pkg + "/.config")); !strings.Contains(c, "\nCONFIG_FAKE_OPTION=y\n") {
			t.Errorf("%s .config:\n%s", name, c)
		}
	}
}

// TestFakeBuildrootConformance compares the fake with real Buildroot where
// that is cheap: no package is built.
func TestFakeBuildrootConformance(t *testing.T) {
	repo := Env(t, "upstream", "IPABR_TEST_BUILDROOT")
	Program(t, "upstream", "git")
	Program(t, "upstream", "gcc")
	repo, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	realTop := filepath.Join(root, "real")
	if out, err := exec.Command("git", "-c", "advice.detachedHead=false", "clone", "-q", "--depth", "1", "--branch", "2026.02.3", "file://"+repo, realTop).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	e := newFakeEnv(t)
	ext := filepath.Join(root, "ext")
	if err := MakeExternalTree(ext, "CONF", "Conformance tree", map[string]string{"tiny_defconfig": "BR2_x86_64=y\n"}); err != nil {
		t.Fatal(err)
	}
	e.Ext = ext
	realOut := filepath.Join(root, "real-output")
	realEnv := makeEnviron("BR2_DL_DIR="+filepath.Join(root, "real-dl"), "BR2_CCACHE_DIR="+filepath.Join(root, "real-ccache"))
	realMake := func(args ...string) makeResult {
		t.Helper()
		return runMake(t, realEnv, append([]string{"-C", realTop, "O=" + realOut, "BR2_EXTERNAL=" + ext}, args...)...)
	}
	both := func(args ...string) (real, fake makeResult) {
		t.Helper()
		real, fake = realMake(args...), e.make(nil, args...)
		if real.Code != fake.Code {
			t.Errorf("make %s: exit %d, fake %d\nreal: %s\nfake: %s", strings.Join(args, " "), real.Code, fake.Code, real, fake)
		}
		return real, fake
	}

	t.Run("list-defconfigs", func(t *testing.T) {
		real, fake := both("-s", "list-defconfigs")
		for _, out := range []string{real.Stdout, fake.Stdout} {
			checkListDefconfigs(t, out)
		}
		_, realExt, _ := strings.Cut(real.Stdout, "\nExternal configs in ")
		_, fakeExt, _ := strings.Cut(fake.Stdout, "\nExternal configs in ")
		if realExt == "" || realExt != fakeExt {
			t.Errorf("external section: real %q, fake %q", realExt, fakeExt)
		}
	})

	t.Run("no .config", func(t *testing.T) {
		for _, goal := range []string{"all", "nosuchtarget"} {
			real, fake := both("-s", goal)
			if r, f := stripMakefileLine(real.Stderr), stripMakefileLine(fake.Stderr); r != f {
				t.Errorf("make %s: stderr %q, fake %q", goal, r, f)
			}
		}
	})

	t.Run("defconfig", func(t *testing.T) {
		for _, goal := range []string{"tiny_defconfig", "nosuch_defconfig"} {
			real, fake := both("-s", goal)
			if r, f := stripMakefileLine(real.Stderr), stripMakefileLine(fake.Stderr); r != f {
				t.Errorf("make %s: stderr %q, fake %q", goal, r, f)
			}
			if goal == "tiny_defconfig" {
				for _, c := range []struct{ out, dir string }{{real.Stdout, realOut}, {fake.Stdout, e.Out}} {
					want := "  GEN     " + c.dir + "/Makefile\n#\n# configuration written to " + c.dir + "/.config\n#\n"
					if c.out != want {
						t.Errorf("tiny_defconfig printed %q, want %q", c.out, want)
					}
				}
			}
		}
		for _, config := range []string{filepath.Join(realOut, ".config"), e.path(".config")} {
			c := e.read(config)
			if !regexp.MustCompile(`^#\n# Automatically generated file; DO NOT EDIT.\n# Buildroot \S+ Configuration\n#\n`).MatchString(c) {
				t.Errorf("%s header:\n%.200s", config, c)
			}
			for _, want := range []string{
				"BR2_HAVE_DOT_CONFIG=y", "BR2_x86_64=y", `BR2_EXTERNAL_NAMES="CONF"`,
				`BR2_EXTERNAL_CONF_PATH="` + ext + `"`, `BR2_DL_DIR="$(TOPDIR)/dl"`,
				`BR2_DEFCONFIG="` + ext + `/configs/tiny_defconfig"`, "# BR2_PER_PACKAGE_DIRECTORIES is not set",
			} {
				if !slices.Contains(lines(c), want) {
					t.Errorf("%s lacks %q", config, want)
				}
			}
		}
	})

	t.Run("savedefconfig", func(t *testing.T) {
		for _, config := range []string{filepath.Join(realOut, ".config"), e.path(".config")} {
			e.utilsConfig("--file", config, "--enable", "BR2_PER_PACKAGE_DIRECTORIES", "--set-str", "BR2_TARGET_GENERIC_HOSTNAME", "ipa")
		}
		real, fake := both("-s", "olddefconfig")
		for _, c := range []struct{ out, dir string }{{real.Stdout, realOut}, {fake.Stdout, e.Out}} {
			if want := "  GEN     " + c.dir + "/Makefile\n#\n# configuration written to " + c.dir + "/.config\n#\n"; c.out != want {
				t.Errorf("olddefconfig printed %q, want %q", c.out, want)
			}
		}
		realSaved, fakeSaved := filepath.Join(root, "real_defconfig"), filepath.Join(root, "fake_defconfig")
		realMake("-s", "savedefconfig", "BR2_DEFCONFIG="+realSaved)
		e.make(nil, "-s", "savedefconfig", "BR2_DEFCONFIG="+fakeSaved)
		r, f := e.read(realSaved), e.read(fakeSaved)
		if want := "BR2_x86_64=y\nBR2_PER_PACKAGE_DIRECTORIES=y\nBR2_TARGET_GENERIC_HOSTNAME=\"ipa\"\n"; r != want || f != want {
			t.Errorf("savedefconfig: real %q, fake %q, want %q", r, f, want)
		}
		for _, out := range []string{realOut, e.Out} {
			e.utilsConfig("--file", filepath.Join(out, ".config"), "--disable", "BR2_PER_PACKAGE_DIRECTORIES")
		}
	})

	t.Run("utils/config", func(t *testing.T) {
		dir := t.TempDir()
		args := []string{"--enable", "foo", "--disable", "BR2_A", "--set-str", "HOST", "a b", "--set-val", "N", "3",
			"--undefine", "BR2_C", "--state", "BR2_A", "--state", "host", "--state", "n", "--state", "foo",
			"--state", "nothere", "-p", "--enable", "bar-baz"}
		var outs, files [2]string
		for i, top := range []string{realTop, e.Top} {
			file := filepath.Join(dir, fmt.Sprint(i))
			if err := os.WriteFile(file, []byte("BR2_A=y\n# BR2_FOO is not set\nBR2_C=y\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(filepath.Join(top, "utils", "config"), append([]string{"--file", file}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s/utils/config: %v\n%s", top, err, out)
			}
			outs[i], files[i] = string(out), e.read(file)
		}
		if outs[0] != outs[1] || files[0] != files[1] {
			t.Errorf("utils/config: real printed %q and wrote %q; fake %q and %q", outs[0], files[0], outs[1], files[1])
		}
	})

	// One make run each (real Buildroot takes seconds to parse its
	// packages), through the output directory's Makefile: show-targets,
	// then show-info, then printvars.
	t.Run("show-targets, show-info and printvars through O/Makefile", func(t *testing.T) {
		var info [2]string
		for i, c := range []struct {
			env     []string
			dir, dl string
		}{{realEnv, realOut, filepath.Join(root, "real-dl")}, {e.environ(), e.Out, e.DL}} {
			r := runMake(t, c.env, "-s", "-C", c.dir, "show-targets", "show-info", "printvars",
				"VARS=BR2_DEFCONFIG BR2_x86_64 DL_DIR", "QUOTED_VARS=1")
			ls := strings.SplitAfter(r.Stdout, "\n")
			if r.Code != 0 || len(ls) != 6 {
				t.Fatalf("make show-targets show-info printvars: %.500s", r)
			}
			checkShowTargets(t, ls[0])
			if info[i] = ls[1]; !strings.HasPrefix(info[i], `{ "`) || !strings.HasSuffix(info[i], " } } \n") {
				t.Errorf("show-info: %.300s...", info[i])
			}
			want := "BR2_DEFCONFIG='\"" + ext + "/configs/tiny_defconfig\"'\nBR2_x86_64='y'\nDL_DIR='" + c.dl + "'\n"
			if got := strings.Join(ls[2:], ""); got != want {
				t.Errorf("printvars: %q, want %q", got, want)
			}
		}
		// The same fields, in the same order, with the same JSON types,
		// for each kind of entry.
		for _, kind := range [][2]string{
			{"busybox", "busybox"}, {"host-skeleton", "host-skeleton"}, {"skeleton", "skeleton"},
			{"rootfs-tar", "rootfs-cpio"}, {"rootfs-common", "rootfs-common"},
		} {
			r, f := infoFields(t, info[0], kind[0]), infoFields(t, info[1], kind[1])
			if !slices.Equal(r, f) {
				t.Errorf("show-info fields of %s: real\n%q\nfake %s:\n%q", kind[0], r, kind[1], f)
			}
		}
	})

	t.Run("MESSAGE", func(t *testing.T) {
		// Real Buildroot's MESSAGE macro, run on its own.
		mk := filepath.Join(root, "message.mk")
		if err := os.WriteFile(mk, []byte("include $(REAL)/support/misc/utils.mk\n"+
			"BUSYBOX_NAME = busybox\nBUSYBOX_VERSION = 1.37.0\nHOST_SKELETON_NAME = host-skeleton\n"+
			"all:\n\t@$(call MESSAGE,\"$(STEP)\")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		overlay := filepath.Join(root, "overlay")
		script := filepath.Join(root, "script.sh")
		if err := os.MkdirAll(overlay, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		e.utilsConfig("--file", e.path(".config"), "--set-str", "BR2_ROOTFS_OVERLAY", overlay,
			"--set-str", "BR2_ROOTFS_POST_BUILD_SCRIPT", script, "--set-str", "BR2_ROOTFS_POST_FAKEROOT_SCRIPT", script,
			"--set-str", "BR2_ROOTFS_POST_IMAGE_SCRIPT", script)
		fake := e.make([]string{"TERM=xterm"}, "-s")
		if fake.Code != 0 {
			t.Fatal(fake)
		}
		for _, c := range [][2]string{{"BUSYBOX", "Building"}, {"HOST_SKELETON", "Installing to host directory"}, {"", "Finalizing target directory"}} {
			real := runMake(t, makeEnviron("TERM=xterm"), "-s", "-f", mk, "REAL="+realTop, "PKG="+c[0], "STEP="+c[1])
			if real.Code != 0 || !strings.HasSuffix(real.Stdout, "\n") {
				t.Fatalf("real MESSAGE: %s", real)
			}
			if !strings.Contains(fake.Stdout, "\n"+real.Stdout) {
				t.Errorf("fake lacks real's line %q:\n%q", real.Stdout, fake.Stdout)
			}
		}
		// Every step the fake prints is one of real's messages.
		patterns := realMessages(t, realTop)
		for _, s := range steps(fake.Stdout) {
			text := strings.SplitN(strings.TrimPrefix(s, ">>> "), " ", 3)[2]
			if !slices.ContainsFunc(patterns, func(re *regexp.Regexp) bool { return re.MatchString(text) }) {
				t.Errorf("step %q (%s) is not in real Buildroot's messages", text, s)
			}
		}
	})
}

// stripMakefileLine drops the "Makefile:NNN: " of make errors.
func stripMakefileLine(s string) string {
	return regexp.MustCompile(`(?m)^Makefile:\d+: `).ReplaceAllString(s, "")
}

func checkListDefconfigs(t *testing.T, out string) {
	t.Helper()
	header := regexp.MustCompile(`^(Built-in configs:|External configs in "[^"]+":)$`)
	entry := regexp.MustCompile(`^  (\S+_defconfig) +- Build for \S+$`)
	ls := lines(out)
	if len(ls) < 3 || !header.MatchString(ls[0]) || ls[len(ls)-1] != "" {
		t.Errorf("list-defconfigs: %q", out)
		return
	}
	for i, l := range ls {
		switch m := entry.FindStringSubmatch(l); {
		case m != nil:
			if want := fmt.Sprintf("  %-35s - Build for %s", m[1], strings.TrimSuffix(m[1], "_defconfig")); l != want {
				t.Errorf("line %q, want %q", l, want)
			}
		case l == "":
			if i+1 < len(ls) && !header.MatchString(ls[i+1]) {
				t.Errorf("blank line before %q", ls[i+1])
			}
		case header.MatchString(l):
			if i > 0 && ls[i-1] != "" {
				t.Errorf("no blank line before %q", l)
			}
		default:
			t.Errorf("list-defconfigs line %q", l)
		}
	}
}

func checkShowTargets(t *testing.T, out string) {
	t.Helper()
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*( [a-z0-9][a-z0-9._+-]*)*\n$`).MatchString(out) {
		t.Errorf("show-targets: %q", out)
		return
	}
	var pkgs, fs []string
	for _, w := range strings.Fields(out) {
		if strings.HasPrefix(w, "rootfs-") {
			fs = append(fs, w)
		} else if len(fs) > 0 {
			t.Errorf("show-targets: package %s after the filesystems: %q", w, out)
		} else {
			pkgs = append(pkgs, w)
		}
	}
	if !slices.IsSorted(pkgs) || !slices.IsSorted(fs) || len(fs) == 0 {
		t.Errorf("show-targets not sorted packages then filesystems: %q", out)
	}
}

// infoFields lists "key:kind" for entry name of a show-info output, in
// order, without the fields only some packages have.
func infoFields(t *testing.T, info, name string) []string {
	t.Helper()
	var all map[string]json.RawMessage
	if err := json.Unmarshal([]byte(info), &all); err != nil {
		t.Fatal(err)
	}
	raw, ok := all[name]
	if !ok {
		t.Fatalf("show-info has no %s", name)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		switch key {
		case "cpe-id", "ignore_cves", "provides":
			continue
		}
		kind := "string"
		switch v[0] {
		case '[':
			kind = "array"
		case '{':
			kind = "object"
		case 't', 'f':
			kind = "bool"
		case 'n':
			kind = "null"
		}
		fields = append(fields, fmt.Sprintf("%s:%s", key, kind))
	}
	return fields
}

// realMessages turns the MESSAGE texts of real Buildroot's makefiles into
// patterns, make references matching anything.
func realMessages(t *testing.T, top string) []*regexp.Regexp {
	t.Helper()
	var res []*regexp.Regexp
	msg := regexp.MustCompile(`MESSAGE,"([^"]*)"|TERM_BOLD\)>>> +(.*?)\$\$\(TERM_RESET\)`)
	for _, f := range []string{"Makefile", "support/misc/utils.mk", "package/pkg-generic.mk", "fs/common.mk", "linux/linux.mk"} {
		data, err := os.ReadFile(filepath.Join(top, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msg.FindAllStringSubmatch(string(data), -1) {
			text := m[1] + m[2]
			var re strings.Builder
			for i := 0; i < len(text); i++ {
				if text[i] != '$' {
					re.WriteString(regexp.QuoteMeta(text[i : i+1]))
					continue
				}
				for i < len(text) && text[i] == '$' {
					i++
				}
				depth := 0
				for ; i < len(text); i++ {
					if text[i] == '(' {
						depth++
					} else if text[i] == ')' {
						if depth--; depth == 0 {
							break
						}
					}
				}
				re.WriteString("\x00")
			}
			// A reference may expand to nothing, taking its space along
			// (MESSAGE strips the text).
			p := strings.ReplaceAll(re.String(), " \x00", "( .*)?")
			res = append(res, regexp.MustCompile("^"+strings.ReplaceAll(p, "\x00", ".*")+"$"))
		}
	}
	if len(res) < 10 {
		t.Fatalf("only %d messages found in real Buildroot", len(res))
	}
	return res
}
