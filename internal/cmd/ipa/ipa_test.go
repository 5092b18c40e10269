package ipa

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/ipa/ipatest"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
	"github.com/ipabr/ipabr/internal/workspace"
)

// env is a throwaway project: the package's real files in its external
// tree, a Buildroot stand-in that only says which Python and glibc the
// image has, and the settings and streams the commands get.
type env struct {
	t        *testing.T
	p        *project.Project
	f        *cmdutil.Factory
	out, err *bytes.Buffer
	quiet    bool
	ctx      context.Context // nil: context.Background()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	p := &project.Project{
		Root:      root,
		Buildroot: filepath.Join(root, "buildroot"),
		External:  filepath.Join(root, "buildroot-ipa"),
		Output:    filepath.Join(root, "output"),
		DL:        filepath.Join(root, "dl"),
		CCache:    filepath.Join(root, "ccache"),
	}
	copyTree(t, filepath.Join(repoRoot(t), "buildroot-ipa", "package", ipa.Package), ipa.PackageDir(p.External))
	testenv.WriteFile(t, filepath.Join(p.Buildroot, "package", "python3", "python3.mk"), "PYTHON3_VERSION_MAJOR = 3.14\n")
	testenv.WriteFile(t, filepath.Join(p.Buildroot, "package", "glibc", "glibc.mk"), "GLIBC_VERSION = 2.42-67-g4ebd33dd77\n")
	testenv.WriteFile(t, filepath.Join(p.Buildroot, "Makefile"), "# not run: the tests record make\n")
	io, _, out, errb := term.Test()
	testenv.WriteFile(t, filepath.Join(p.External, "external.desc"), "name: IPA\n")
	for _, k := range []string{"IPABR_IPA_REQUIREMENTS_URL", "IPABR_IPA_CONSTRAINTS_URL", "IPABR_IPA_INDEX_URL", "IPABR_IPA_PYTHON"} {
		t.Setenv(k, "")
	}
	e := &env{t: t, p: p, out: out, err: errb}
	e.f = &cmdutil.Factory{
		IOStreams: io,
		Runner:    process.OS{},
		// The settings as ipabr loads them: the environment and the
		// project's ipabr.yaml; the project's directories are e.p's,
		// which the upstream tests point at real Buildroot.
		Settings: func() (*config.Settings, error) {
			l := &config.Loader{Flags: pflag.NewFlagSet("ipabr", pflag.ContinueOnError), Cwd: root}
			s, err := l.Load(false, e.quiet)
			if err == nil {
				s.Project = e.p
			}
			return s, err
		},
		Now:     time.Now,
		Context: context.Background(),
	}
	return e
}

// setenv sets a variable for the rest of the test.
func (e *env) setenv(k, v string) { e.t.Setenv(k, v) }

// locker is what ipabr build uses to make a missing lock.
func (e *env) locker() *workspace.Locker {
	e.t.Helper()
	s, err := e.f.Settings()
	if err != nil {
		e.t.Fatal(err)
	}
	return e.f.Locker(s)
}

// world points the ipa.* settings at the stand-in OpenStack.
func (e *env) world() *ipatest.OpenStack {
	e.t.Helper()
	testenv.Program(e.t, "hermetic", "python3")
	if err := exec.Command("python3", "-m", "pip", "--version").Run(); err != nil {
		fmt.Println("SKIP hermetic: pip not installed for python3 (apt-get install python3-pip)")
		e.t.Skip("SKIP hermetic: pip not installed for python3")
	}
	home := e.t.TempDir()
	e.t.Setenv("HOME", home)
	e.t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	o := ipatest.New(e.t)
	e.setenv("IPABR_IPA_REQUIREMENTS_URL", o.IPAURL)
	e.setenv("IPABR_IPA_CONSTRAINTS_URL", o.RequirementsURL)
	e.setenv("IPABR_IPA_INDEX_URL", o.Index.URL)
	return o
}

// run executes `ipabr ipa ARGS` and returns its exit code.
func (e *env) run(args ...string) int {
	e.t.Helper()
	e.out.Reset()
	e.err.Reset()
	cmd := NewCmdIPA(e.f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(e.out)
	cmd.SetErr(e.err)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(e.err, "error: %v\n", err)
	}
	e.t.Logf("ipabr ipa %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), cmdutil.ExitCode(err), e.out, e.err)
	return cmdutil.ExitCode(err)
}

func (e *env) lockFiles(series string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	dir := ipa.LockDir(e.p.External, series)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, en := range entries {
		if !en.IsDir() {
			data, _ := os.ReadFile(filepath.Join(dir, en.Name()))
			out[en.Name()] = string(data)
		}
	}
	return out
}

func (e *env) config(lines ...string) {
	e.t.Helper()
	testenv.WriteFile(e.t, filepath.Join(e.p.Output, ".config"), strings.Join(lines, "\n")+"\n")
}

func deadURL(t *testing.T, path string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + path
	ln.Close()
	return u
}

func TestLockShowAndIndexDown(t *testing.T) {
	e := newEnv(t)
	o := e.world()
	if code := e.run("lock", "--release", "2026.1"); code != 0 {
		t.Fatalf("lock: exit %d", code)
	}
	files := e.lockFiles("2026.1")
	for _, f := range []string{ipa.LockFile, ipa.HashFile, ipa.ManifestFile} {
		if files[f] == "" {
			t.Errorf("%s was not written", f)
		}
	}
	if !strings.Contains(e.out.String(), "locked OpenStack 2026.1: ironic-python-agent 11.0.1 and 17 more wheels") {
		t.Errorf("summary: %s", e.out)
	}
	if !strings.Contains(e.err.String(), "IPA's newest release on stable/2026.1: 11.0.1") {
		t.Errorf("progress: %s", e.err)
	}
	// Each wheel's hash as Buildroot reads it, from the served file.
	hashes, err := ipa.ReadHashFile(filepath.Join(ipa.LockDir(e.p.External, "2026.1"), ipa.HashFile))
	if err != nil || len(hashes) != 18 {
		t.Fatalf("hash file: %d entries, %v", len(hashes), err)
	}
	for file, sum := range hashes {
		data, err := os.ReadFile(filepath.Join(o.Index.Dir, file))
		if err != nil {
			t.Errorf("%s is not a file of the index", file)
			continue
		}
		if got := sha256Hex(data); got != sum {
			t.Errorf("%s: hash file says %s, file is %s", file, sum, got)
		}
	}

	// show, before any output is configured: the package's default.
	if code := e.run("show"); code != 0 {
		t.Fatalf("show: exit %d", code)
	}
	for _, want := range []string{"series:    2026.1 (the package's default)", "ipa:       11.0.1 from " + o.Index.URL, "packages:  18 wheels", "locks:     2026.1", "glibc:     2.42\n"} {
		if !strings.Contains(e.out.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, e.out)
		}
	}
	if code := e.run("show", "--json"); code != 0 {
		t.Fatal("show --json failed")
	}
	var res workspace.LockState
	if err := json.Unmarshal(e.out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Locked || res.Packages != 18 || res.IPAVersion != "11.0.1" || res.Size <= 0 || res.Python != "3.14" || res.Glibc != "2.42" || res.Command != "ipabr ipa lock --release 2026.1" {
		t.Errorf("show --json: %+v", res)
	}

	// The index goes down: exit 1, the URL named, the lock as it was.
	dead := deadURL(t, "/simple")
	if code := e.run("lock", "--release", "2026.1", "--index-url", dead); code != cmdutil.ExitFailure {
		t.Errorf("index down: exit %d, want 1", code)
	}
	if !strings.Contains(e.err.String(), dead) {
		t.Errorf("the error does not name %s: %s", dead, e.err)
	}
	if after := e.lockFiles("2026.1"); !reflect.DeepEqual(after, files) {
		t.Error("a failed lock changed the previous one")
	}
	// So does a conflict.
	if code := e.run("lock", "--release", "2026.1", "--extra", "pbr>=8"); code != cmdutil.ExitFailure {
		t.Errorf("conflict: exit %d, want 1", code)
	}
	if !strings.Contains(e.err.String(), "upper-constraints pins pbr===7.0.3") {
		t.Errorf("conflict message: %s", e.err)
	}
	if after := e.lockFiles("2026.1"); !reflect.DeepEqual(after, files) {
		t.Error("a conflict changed the previous lock")
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestLockBadInputIsExit2(t *testing.T) {
	e := newEnv(t)
	// No network at all for these: the URLs lead nowhere.
	e.setenv("IPABR_IPA_INDEX_URL", deadURL(t, "/simple"))
	for _, args := range [][]string{
		{"lock", "--release", "../2026.1"},
		{"lock", "--release", "2026.1;id"},
		{"lock", "--release", "stable/2026.1"},
		{"lock", "--release", "2026.1", "--extra", "pbr >= 8"},
		{"lock", "--release", "2026.1", "--ipa-source", "https://example.invalid/ipa"},
		{"lock", "--release", "2026.1", "--python-version", "3"},
		{"lock", "--release", "2026.1", "--glibc-version", "2"},
		{"lock", "--release", "2026.1", "--glibc-version", "3.1"},
		{"lock", "--release", "2026.1", "--ipa-version", "latest"},
		{"use", "$(reboot)"},
		{"use", "2026.1/../x"},
	} {
		if code := e.run(args...); code != cmdutil.ExitUsage {
			t.Errorf("ipabr ipa %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
	if _, err := os.Stat(filepath.Join(e.p.Output, ".config")); !os.IsNotExist(err) {
		t.Error("a rejected use touched the output")
	}
}

func TestLockUnknownSeries(t *testing.T) {
	e := newEnv(t)
	e.world()
	if code := e.run("lock", "--release", "2031.2"); code != cmdutil.ExitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(e.err.String(), `no OpenStack series "2031.2"`) || !strings.Contains(e.err.String(), "series there: 2026.1, master") {
		t.Errorf("message: %s", e.err)
	}
	if e.lockFiles("2031.2") != nil {
		t.Error("a lock directory was made for an unknown series")
	}
}

// TestLockFromOutputConfig: without flags, the series, extras and git
// source come from the output's configuration; the settings file supplies
// the index.
func TestLockFromOutputConfig(t *testing.T) {
	e := newEnv(t)
	o := e.world()
	index := os.Getenv("IPABR_IPA_INDEX_URL")
	e.setenv("IPABR_IPA_INDEX_URL", "")
	testenv.WriteFile(t, filepath.Join(e.p.Root, "ipabr.yaml"), "ipa:\n  index_url: "+index+"\n")
	e.config(
		"BR2_PACKAGE_IRONIC_PYTHON_AGENT=y",
		`BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES="master"`,
		`BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS="my-hardware-manager"`,
		`BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_URL="`+o.IPAURL+`"`,
		`BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_REF="master"`,
	)
	if code := e.run("lock"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	l, err := ipa.ReadLock(e.p.External, "master")
	if err != nil {
		t.Fatal(err)
	}
	if l.GitURL != o.IPAURL || l.GitRef != "master" || l.GitCommit != o.IPACommits["master"] || l.IPAVersion != "12.0.1.dev1" {
		t.Errorf("git source: %s@%s %s version %s", l.GitURL, l.GitRef, l.GitCommit, l.IPAVersion)
	}
	if strings.Join(l.Extras, " ") != "my-hardware-manager" || l.Index != index {
		t.Errorf("extras %q index %s", l.Extras, l.Index)
	}
	if _, err := os.Stat(filepath.Join(ipa.LockDir(e.p.External, "master"), ipa.WheelsDir)); err != nil {
		t.Error("the wheel built from git is not kept with the lock")
	}
	// master is not a release: the package's default stays.
	if d, _ := ipa.DefaultSeriesIn(e.p.External); d != ipa.DefaultSeries {
		t.Errorf("default series became %s", d)
	}
	if code := e.run("show"); code != 0 || !strings.Contains(e.out.String(), "series:    master (output/.config)") {
		t.Errorf("show: %s", e.out)
	}
	// The configuration asks for another ref: show warns with the command.
	e.config(
		"BR2_PACKAGE_IRONIC_PYTHON_AGENT=y",
		`BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES="master"`,
		`BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_URL="`+o.IPAURL+`"`,
		`BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_REF="stable/2026.1"`,
	)
	e.run("show")
	if !strings.Contains(e.err.String(), "the configuration asks for IPA from "+o.IPAURL+"@stable/2026.1") ||
		!strings.Contains(e.err.String(), "--ipa-source '"+o.IPAURL+"@stable/2026.1' --extra 'my-hardware-manager'") {
		t.Errorf("show did not warn about the source: %s", e.err)
	}
}

// TestUse drives `ipa use` with a stub of utils/config that edits .config
// the way it does, and of olddefconfig.
func TestUse(t *testing.T) {
	e := newEnv(t)
	e.config(`BR2_DEFCONFIG="/x/openstack_ipa_defconfig"`, "BR2_PACKAGE_PYTHON3=y", "# BR2_PACKAGE_IRONIC_PYTHON_AGENT is not set")
	stub := processtest.New(t)
	stub.Register(`/utils/config --file `, func(c process.Cmd) error {
		cfgPath := c.Args[1]
		data, _ := os.ReadFile(cfgPath)
		text := strings.ReplaceAll(string(data), "# BR2_PACKAGE_IRONIC_PYTHON_AGENT is not set\n", "")
		for i := 0; i < len(c.Args); i++ {
			switch c.Args[i] {
			case "--enable":
				text += c.Args[i+1] + "=y\n"
			case "--set-str":
				text += c.Args[i+1] + "=\"" + c.Args[i+2] + "\"\n"
			}
		}
		return os.WriteFile(cfgPath, []byte(text), 0o644)
	})
	stub.Register(` olddefconfig$`, nil)
	e.f.Runner = stub
	if code := e.run("use", "master"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	cmds := stub.Commands()
	want := []string{
		filepath.Join(e.p.Buildroot, "utils", "config") + " --file " + filepath.Join(e.p.Output, ".config") + " --keep-case --enable BR2_PACKAGE_IRONIC_PYTHON_AGENT --set-str BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES master",
	}
	if len(cmds) != 2 || cmds[0] != want[0] || !strings.HasSuffix(cmds[1], "olddefconfig") {
		t.Errorf("commands:\n%s\nwant utils/config then olddefconfig:\n%s", strings.Join(cmds, "\n"), want[0])
	}
	cfg, err := buildroot.ReadConfigFile(filepath.Join(e.p.Output, ".config"))
	if err != nil || cfg.Values[ipa.SeriesSymbol] != "master" {
		t.Fatalf("series not set: %v", err)
	}
	if !strings.Contains(e.out.String(), "no lock yet: run ipabr ipa lock --release master") {
		t.Errorf("use does not say how to lock: %s", e.out)
	}
	if !strings.Contains(e.err.String(), "BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES") {
		t.Errorf("use does not show the change: %s", e.err)
	}
	// kconfig refusing the value (the package's dependencies unmet) is a
	// failure, not a silent no-op.
	stub.Register(`/utils/config --file `, nil)
	stub.Register(` olddefconfig$`, nil)
	e.config(`BR2_DEFCONFIG="/x/openstack_ipa_defconfig"`, "# BR2_PACKAGE_IRONIC_PYTHON_AGENT is not set")
	if code := e.run("use", "2026.1"); code != cmdutil.ExitFailure || !strings.Contains(e.err.String(), "kconfig did not keep") {
		t.Errorf("refused value: exit %d, %s", code, e.err)
	}
}

// TestEnsureLock is ipabr build's step: the lock is made when the
// series has none and the index answers, and not otherwise.
func TestEnsureLock(t *testing.T) {
	e := newEnv(t)
	e.world()
	cfg, _ := buildroot.ParseConfig(strings.NewReader("BR2_PACKAGE_IRONIC_PYTHON_AGENT=y\nBR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES=\"2026.1\"\n"))
	ctx := context.Background()

	// Targets that do not reach the agent: nothing happens.
	if err := e.locker().EnsureLock(ctx, cfg, []string{"linux-rebuild"}); err != nil || ipa.HasLock(e.p.External, "2026.1") {
		t.Fatalf("linux-rebuild locked (%v)", err)
	}
	// The index is down: the build stops here, before make, with the
	// reason and the command (exit 2), after saying what it is doing.
	index := os.Getenv("IPABR_IPA_INDEX_URL")
	e.setenv("IPABR_IPA_INDEX_URL", deadURL(t, "/simple"))
	err := e.locker().EnsureLock(ctx, cfg, nil)
	if err == nil || !errs.Is(err, errs.NotConfigured) || cmdutil.ExitCode(err) != 2 ||
		!strings.HasPrefix(err.Error(), "OpenStack series 2026.1 has no IPA lock, and ipabr cannot make one now (") ||
		!strings.HasSuffix(err.Error(), "; run ipabr ipa lock --release 2026.1 where the package index answers, then try again") {
		t.Fatalf("index down: %v", err)
	}
	if ipa.HasLock(e.p.External, "2026.1") || !strings.Contains(e.err.String(), "OpenStack series 2026.1 has no IPA lock: asking the package index") {
		t.Errorf("index down: %s", e.err)
	}
	// --offline: the same stop, without asking the network.
	if err := e.locker().RequireLock(cfg, []string{"all"}); err == nil || cmdutil.ExitCode(err) != 2 ||
		err.Error() != "OpenStack series 2026.1 has no IPA lock, and --offline does not make one; run ipabr ipa lock --release 2026.1 where the package index answers, then try again" {
		t.Errorf("offline: %v", err)
	}
	if err := e.locker().RequireLock(cfg, []string{"linux-rebuild"}); err != nil {
		t.Errorf("offline, a target that does not reach the agent: %v", err)
	}
	e.err.Reset()
	e.setenv("IPABR_IPA_INDEX_URL", index)
	if err := e.locker().EnsureLock(ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if !ipa.HasLock(e.p.External, "2026.1") || !strings.Contains(e.err.String(), "OpenStack series 2026.1 has no IPA lock: running ipabr ipa lock --release 2026.1 first") {
		t.Errorf("no lock made, or not said: %s", e.err)
	}
	if e.out.Len() != 0 || !strings.Contains(e.err.String(), "locked OpenStack 2026.1") {
		t.Errorf("build's stdout is for its result (--json): the lock wrote %q", e.out)
	}
	// With the lock there, nothing more happens (not even the network).
	before := e.lockFiles("2026.1")
	e.setenv("IPABR_IPA_INDEX_URL", deadURL(t, "/simple"))
	e.err.Reset()
	if err := e.locker().EnsureLock(ctx, cfg, []string{"all"}); err != nil || e.err.Len() != 0 || !reflect.DeepEqual(before, e.lockFiles("2026.1")) {
		t.Errorf("second run: %v %s", err, e.err)
	}
	// A disabled package: nothing either.
	off, _ := buildroot.ParseConfig(strings.NewReader("# BR2_PACKAGE_IRONIC_PYTHON_AGENT is not set\n"))
	if err := e.locker().EnsureLock(ctx, off, nil); err != nil || e.err.Len() != 0 {
		t.Errorf("disabled: %v %s", err, e.err)
	}
}

// TestLockPython: --python names the interpreter whose pip resolves, over
// IPABR_IPA_PYTHON, which is used without the flag.
func TestLockPython(t *testing.T) {
	e := newEnv(t)
	e.world()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "calls")
	wrapper := filepath.Join(t.TempDir(), "python")
	testenv.WriteFile(t, wrapper, "#!/bin/sh\necho \"$1 $2 $3\" >>'"+log+"'\nexec '"+py+"' \"$@\"\n")
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	e.setenv("IPABR_IPA_PYTHON", "/nonexistent/python3")
	if code := e.run("lock", "--release", "2026.1", "--python", wrapper); code != 0 {
		t.Fatalf("--python: exit %d", code)
	}
	calls, _ := os.ReadFile(log)
	if !strings.Contains(string(calls), "-m pip --version") || !strings.Contains(string(calls), "-c import runpy") {
		t.Errorf("the lock did not run pip through --python; the wrapper saw:\n%s", calls)
	}
	if !strings.Contains(e.err.String(), "of "+wrapper+" (Python ") {
		t.Errorf("progress does not name the interpreter: %s", e.err)
	}
	if code := e.run("lock", "--release", "2026.1"); code != cmdutil.ExitFailure || !strings.Contains(e.err.String(), "cannot run /nonexistent/python3") {
		t.Errorf("IPABR_IPA_PYTHON: exit %d: %s", code, e.err)
	}
}

// TestLockGlibcVersion: an external toolchain Buildroot cannot name the
// glibc of needs --glibc-version, and the lock is resolved for it.
func TestLockGlibcVersion(t *testing.T) {
	e := newEnv(t)
	e.world()
	e.config("BR2_TOOLCHAIN_EXTERNAL=y", "BR2_TOOLCHAIN_EXTERNAL_CUSTOM=y", "BR2_PACKAGE_IRONIC_PYTHON_AGENT=y", `BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES="2026.1"`)
	if code := e.run("lock"); code != cmdutil.ExitUsage || !strings.Contains(e.err.String(), "--glibc-version") {
		t.Errorf("a custom toolchain: exit %d: %s", code, e.err)
	}
	if code := e.run("lock", "--glibc-version", "2.36"); code != 0 {
		t.Fatalf("--glibc-version 2.36: exit %d", code)
	}
	l, err := ipa.ReadLock(e.p.External, "2026.1")
	if err != nil || l.Target.Glibc != "2.36" {
		t.Fatalf("the lock's glibc: %v %v", l, err)
	}
	// zeroconf's only wheel for the image is manylinux_2_36.
	if code := e.run("lock", "--glibc-version", "2.35"); code != cmdutil.ExitFailure || !strings.Contains(e.err.String(), "no wheel of zeroconf") {
		t.Errorf("--glibc-version 2.35: exit %d: %s", code, e.err)
	}
}

// TestLockDoesNotChurnOrFloat: locking the same inputs again changes no
// byte, even when the index has a newer certifi (which upper-constraints
// does not pin: the lock keeps it, and says so); --check passes, then
// fails once upper-constraints moves, writing nothing; --upgrade-unpinned
// takes the newer certifi.
func TestLockDoesNotChurnOrFloat(t *testing.T) {
	e := newEnv(t)
	o := e.world()
	if code := e.run("lock", "--release", "2026.1"); code != 0 {
		t.Fatalf("lock: exit %d", code)
	}
	first := e.lockFiles("2026.1")
	manifest := filepath.Join(ipa.LockDir(e.p.External, "2026.1"), ipa.ManifestFile)
	before, err := os.Stat(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(first[ipa.LockFile]+first[ipa.HashFile], time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("the lock's make fragment or hash file carries the date:\n%s", first[ipa.LockFile])
	}
	if !strings.Contains(first[ipa.ManifestFile], "# not pinned by upper-constraints: certifi (locking again keeps their versions; --upgrade-unpinned takes the newest)\n") {
		t.Errorf("the manifest does not note certifi:\n%s", first[ipa.ManifestFile])
	}

	if _, err := ipatest.BuildWheel(o.Index.Dir, ipatest.WheelSpec{Name: "certifi", Version: "2026.7.1", License: "MPL-2.0"}); err != nil {
		t.Fatal(err)
	}
	e.f.Now = func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }
	if code := e.run("lock", "--release", "2026.1"); code != 0 {
		t.Fatalf("lock again: exit %d", code)
	}
	if again := e.lockFiles("2026.1"); !reflect.DeepEqual(again, first) {
		t.Errorf("locking the same inputs again changed the files:\n%s", again[ipa.ManifestFile])
	}
	if after, _ := os.Stat(manifest); !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged lock was written again")
	}
	if !strings.Contains(e.out.String(), "the lock is unchanged") || !strings.Contains(e.err.String(), "keeping the previous lock's certifi=="+ipatest.CertifiVersion) {
		t.Errorf("the second lock does not say it kept the lock:\n%s%s", e.out, e.err)
	}

	if code := e.run("lock", "--release", "2026.1", "--check"); code != 0 || !strings.Contains(e.out.String(), "the lock of OpenStack 2026.1 matches its inputs") {
		t.Errorf("--check of a current lock: exit %d\n%s", code, e.out)
	}
	o.CommitConstraints(t, "stable/2026.1", func(uc string) string { return strings.Replace(uc, "pbr===7.0.3", "pbr==="+ipatest.Decoy, 1) })
	code := e.run("lock", "--release", "2026.1", "--check")
	if code != cmdutil.ExitFailure || !strings.Contains(e.err.String(), "does not match its inputs: pbr 7.0.3 → "+ipatest.Decoy) ||
		!strings.Contains(e.err.String(), "lock again with ipabr ipa lock --release 2026.1") {
		t.Errorf("--check after upper-constraints moved: exit %d\n%s", code, e.err)
	}
	if now := e.lockFiles("2026.1"); !reflect.DeepEqual(now, first) {
		t.Error("--check wrote the lock")
	}

	if code := e.run("lock", "--release", "2026.1", "--upgrade-unpinned"); code != 0 {
		t.Fatalf("--upgrade-unpinned: exit %d", code)
	}
	l, err := ipa.ReadLock(e.p.External, "2026.1")
	if err != nil {
		t.Fatal(err)
	}
	w := map[string]string{}
	for _, wh := range l.Wheels {
		w[wh.Name] = wh.Version
	}
	if w["certifi"] != "2026.7.1" || w["pbr"] != ipatest.Decoy || strings.Join(l.Unpinned, " ") != "certifi" {
		t.Errorf("--upgrade-unpinned: certifi %s, pbr %s, unpinned %q", w["certifi"], w["pbr"], l.Unpinned)
	}
	if code := e.run("lock", "--release", "2026.1", "--check"); code != 0 {
		t.Errorf("--check of the new lock: exit %d\n%s", code, e.err)
	}
	// No lock at all: --check says so.
	if code := e.run("lock", "--release", "master", "--check"); code != cmdutil.ExitFailure || !strings.Contains(e.err.String(), "has no lock to check") {
		t.Errorf("--check without a lock: exit %d\n%s", code, e.err)
	}
}

// TestLockInterrupted: Ctrl-C while pip resolves stops the lock at once:
// exit 130, pip's process gone, no temporary directory left and the
// previous lock (none here) untouched.
func TestLockInterrupted(t *testing.T) {
	e := newEnv(t)
	e.world()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	pidFile := filepath.Join(t.TempDir(), "pip.pid")
	// pip answers its version checks; the resolution itself hangs, as a
	// slow index would make it.
	wrapper := filepath.Join(t.TempDir(), "python")
	testenv.WriteFile(t, wrapper, "#!/bin/sh\ncase \" $* \" in *' install '*) echo $$ >'"+pidFile+"'; exec sleep 300;; esac\nexec '"+py+"' \"$@\"\n")
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.ctx = ctx
	go func() {
		for {
			if data, err := os.ReadFile(pidFile); err == nil && len(bytes.TrimSpace(data)) > 0 {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	if code := e.run("lock", "--release", "2026.1", "--python", wrapper); code != cmdutil.ExitInterrupted {
		t.Fatalf("interrupted lock: exit %d, want %d", code, cmdutil.ExitInterrupted)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid <= 0 || syscall.Kill(pid, 0) == nil {
		t.Errorf("pip (pid %d) still runs after the interruption", pid)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "ipabr-lock-*")); len(left) > 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
	if files := e.lockFiles("2026.1"); len(files) != 0 {
		t.Errorf("an interrupted lock wrote %v", files)
	}
}
