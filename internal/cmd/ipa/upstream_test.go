package ipa

// Upstream tier (IPABR_TEST_BUILDROOT): the package against real
// Buildroot at the pin. One shallow checkout and one output directory with
// openstack_ipa_defconfig loaded are made per test binary; each test works
// on its own copies of the external tree and the output directory.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/testenv"
	"github.com/ipabr/ipabr/internal/workspace"
)

const buildrootTag = "2026.02.3"

type upstream struct {
	src string // the Buildroot checkout
	out string // an output directory with the defconfig loaded
	err error
}

var (
	upOnce  sync.Once
	upTree  upstream
	upDir   string
	upClean = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	upClean()
	os.Exit(code)
}

// brEnv keeps the caller's BR2_* settings and an outer make's flags out.
func brEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BR2_") || k == "MAKEFLAGS" || k == "MFLAGS" || k == "MAKELEVEL" || k == "O" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// brMake runs make -C src O=out BR2_EXTERNAL=ext ARGS with a deadline.
func brMake(src, out, ext string, env []string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	argv := append([]string{"-s", "--no-print-directory", "-C", src, "O=" + out, "BR2_EXTERNAL=" + ext}, args...)
	cmd := exec.CommandContext(ctx, "make", argv...)
	cmd.Env = brEnv(env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func needUpstream(t *testing.T) *upstream {
	t.Helper()
	repo := testenv.Env(t, "upstream", "IPABR_TEST_BUILDROOT")
	testenv.Program(t, "upstream", "git")
	testenv.Program(t, "upstream", "make")
	root := repoRoot(t)
	upOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ipabr-ipa-upstream-")
		if err != nil {
			upTree.err = err
			return
		}
		upDir = dir
		upClean = func() { os.RemoveAll(dir) }
		url := repo
		if !strings.Contains(url, "://") {
			if abs, err := filepath.Abs(url); err == nil {
				url = "file://" + abs
			}
		}
		upTree.src = filepath.Join(dir, "buildroot")
		if out, err := exec.Command("git", "clone", "-q", "--depth", "1", "--branch", buildrootTag,
			"-c", "advice.detachedHead=false", url, upTree.src).CombinedOutput(); err != nil {
			upTree.err = fmt.Errorf("git clone %s: %v\n%s", url, err, out)
			return
		}
		upTree.out = filepath.Join(dir, "output")
		ext := filepath.Join(dir, "project", "buildroot-ipa")
		if err := os.MkdirAll(filepath.Dir(ext), 0o755); err != nil {
			upTree.err = err
			return
		}
		if out, err := exec.Command("cp", "-a", filepath.Join(root, "buildroot-ipa"), ext).CombinedOutput(); err != nil {
			upTree.err = fmt.Errorf("cp: %v\n%s", err, out)
			return
		}
		if o, e, err := brMake(upTree.src, upTree.out, ext, nil, "openstack_ipa_defconfig"); err != nil {
			upTree.err = fmt.Errorf("openstack_ipa_defconfig: %v\n%s%s", err, o, e)
		}
	})
	if upTree.err != nil {
		t.Fatal(upTree.err)
	}
	return &upTree
}

// scratchTree is a test's own external tree (a copy of the project's) and
// output directory (a copy of the loaded one).
type scratchTree struct {
	src, ext, out, dl string
}

func (u *upstream) scratchTree(t *testing.T) *scratchTree {
	t.Helper()
	d := t.TempDir()
	w := &scratchTree{src: u.src, ext: filepath.Join(d, "project", "buildroot-ipa"), out: filepath.Join(d, "output"), dl: filepath.Join(d, "dl")}
	copyTree(t, filepath.Join(repoRoot(t), "buildroot-ipa"), w.ext)
	copyTree(t, u.out, w.out)
	return w
}

func (w *scratchTree) make(args ...string) (string, string, error) {
	return brMake(w.src, w.out, w.ext, []string{"BR2_DL_DIR=" + w.dl}, args...)
}

// set edits string options of the output's configuration, then lets
// kconfig check it (olddefconfig). Buildroot's utils/config cannot write
// values with ':' (URLs), so the lines are replaced here.
func (w *scratchTree) set(t *testing.T, kv ...string) {
	t.Helper()
	path := filepath.Join(w.out, ".config")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i := 0; i+1 < len(kv); i += 2 {
		var keep []string
		for _, l := range lines {
			if !strings.HasPrefix(l, kv[i]+"=") && l != "# "+kv[i]+" is not set" {
				keep = append(keep, l)
			}
		}
		lines = append(keep, fmt.Sprintf("%s=%q", kv[i], kv[i+1]))
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o, e, err := w.make("olddefconfig"); err != nil {
		t.Fatalf("olddefconfig: %v\n%s%s", err, o, e)
	}
	cfg, err := buildroot.ReadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if cfg.Values[kv[i]] != kv[i+1] {
			t.Fatalf("kconfig did not keep %s=%q (has %q)", kv[i], kv[i+1], cfg.Values[kv[i]])
		}
	}
}

// target is the image's Python and glibc for the tree's
// configuration, as ipabr ipa lock reads them.
func (w *scratchTree) target(t *testing.T) ipa.Target {
	t.Helper()
	cfg, err := buildroot.ReadConfigFile(filepath.Join(w.out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	py, err := ipa.ReadPython(w.src)
	if err != nil {
		t.Fatal(err)
	}
	gl, err := ipa.ReadGlibc(w.src, w.ext, cfg.Values)
	if err != nil {
		t.Fatal(err)
	}
	return ipa.Target{Python: py, Glibc: gl}
}

// vars are make variables of the package as printvars expands them.
func (w *scratchTree) vars(t *testing.T, names ...string) map[string]string {
	t.Helper()
	out, e, err := w.make("printvars", "VARS="+strings.Join(names, " "))
	if err != nil {
		t.Fatalf("printvars: %v\n%s", err, e)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
		}
	}
	return vars
}

func TestUpstreamPackageInfo(t *testing.T) {
	u := needUpstream(t)
	w := u.scratchTree(t)
	// No lock for the default series: metadata targets still work.
	deps, e, err := w.make("ironic-python-agent-show-depends")
	if err != nil {
		t.Fatalf("show-depends: %v\n%s", err, e)
	}
	for _, want := range []string{"python3", "host-python-installer"} {
		if !contains(strings.Fields(deps), want) {
			t.Errorf("show-depends lacks %s: %s", want, deps)
		}
	}
	out, e, err := w.make("show-info")
	if err != nil {
		t.Fatalf("show-info: %v\n%s", err, e)
	}
	var info map[string]struct {
		Version       string   `json:"version"`
		Dependencies  []string `json:"dependencies"`
		InstallImages bool     `json:"install_images"`
		PackageDir    string   `json:"package_dir"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("show-info is not JSON (the package must print nothing while parsing): %v\n%.500s", err, out)
	}
	p, ok := info["ironic-python-agent"]
	if !ok {
		t.Fatal("show-info does not list ironic-python-agent")
	}
	if p.Version != ipa.DefaultSeries || !p.InstallImages || p.PackageDir != ipa.PackageDir(w.ext) {
		t.Errorf("show-info: %+v", p)
	}
	for _, want := range []string{"python3", "host-python-installer"} {
		if !contains(p.Dependencies, want) {
			t.Errorf("show-info dependencies lack %s: %q", want, p.Dependencies)
		}
	}
	saved := filepath.Join(t.TempDir(), "defconfig")
	if _, e, err := w.make("savedefconfig", "BR2_DEFCONFIG="+saved); err != nil {
		t.Fatalf("savedefconfig: %v\n%s", err, e)
	}
	got, _ := os.ReadFile(saved)
	want, _ := os.ReadFile(filepath.Join(repoRoot(t), "buildroot-ipa", "configs", "openstack_ipa_defconfig"))
	if !bytes.Equal(got, want) {
		t.Errorf("savedefconfig does not reproduce the defconfig:\n%s", got)
	}
	if !strings.Contains(string(want), "BR2_PACKAGE_IRONIC_PYTHON_AGENT=y\n") {
		t.Error("the defconfig does not enable the agent")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestUpstreamMissingLockStopsBuild: without a lock a build stops while
// make reads the makefiles, before anything is built, with the command.
func TestUpstreamMissingLockStopsBuild(t *testing.T) {
	u := needUpstream(t)
	w := u.scratchTree(t)
	for _, goal := range [][]string{nil, {"source"}, {"ironic-python-agent"}} {
		start := time.Now()
		o, e, err := w.make(goal...)
		if err == nil {
			t.Fatalf("make %v succeeded without a lock", goal)
		}
		msg := o + e
		if !strings.Contains(msg, "no lock for OpenStack series 2026.1") || !strings.Contains(msg, "make it with  ipabr ipa lock --release 2026.1  (") {
			t.Errorf("make %v: the error does not give the command:\n%s", goal, msg)
		}
		t.Logf("make %v stopped after %s", goal, time.Since(start).Round(time.Second))
	}
	if entries, _ := os.ReadDir(filepath.Join(w.out, "build")); len(entries) > 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("something was built before the stop: %q", names)
	}
	if entries, _ := os.ReadDir(w.dl); len(entries) > 0 {
		t.Errorf("something was downloaded before the stop: %d entries", len(entries))
	}
	// A series name with shell characters stops it too, naming the option.
	w.set(t, ipa.SeriesSymbol, "2026.1;id")
	if o, e, err := w.make(); err == nil || !strings.Contains(o+e, `BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES="2026.1;id" is not an OpenStack series name`) {
		t.Errorf("bad series name: %v\n%s%s", err, o, e)
	}
}

// TestUpstreamLockDownloadAndTamper: a lock made from the stand-ins is
// valid for check-package, Buildroot downloads its wheels hash-checked
// with "make source" for the package, and refuses a tampered wheel.
func TestUpstreamLockDownloadAndTamper(t *testing.T) {
	u := needUpstream(t)
	e := newEnv(t)
	o := e.world()
	w := u.scratchTree(t)
	tg := w.target(t)
	opts := ipa.Options{Series: "2026.1", RequirementsURL: o.IPAURL, ConstraintsURL: o.RequirementsURL, IndexURL: o.Index.URL,
		Target: tg, Runner: e.f.Runner, Extras: []string{"my-hardware-manager"}}
	lock, err := ipa.MakeLock(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Write(w.ext); err != nil {
		t.Fatal(err)
	}
	checkPackage(t, w.ext)

	// The configuration must ask for what the lock has.
	if o, e, err := w.make("ironic-python-agent-source"); err != nil {
		t.Fatalf("ironic-python-agent-source: %v\n%s%s", err, o, e)
	}
	for _, wh := range lock.Wheels {
		p := filepath.Join(w.dl, ipa.Package, wh.Filename)
		if got := sha256File(t, p); got != wh.SHA256 {
			t.Errorf("%s downloaded with sha256 %s, locked %s", wh.Filename, got, wh.SHA256)
		}
	}
	// show-info lists the wheels as the package's downloads, and the
	// lock's hash file.
	info, _, err := w.make("show-info")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs map[string]struct {
		Downloads []struct {
			Source string   `json:"source"`
			URIs   []string `json:"uris"`
		} `json:"downloads"`
		Hashes []string `json:"hashes"`
	}
	if err := json.Unmarshal([]byte(info), &pkgs); err != nil {
		t.Fatal(err)
	}
	p := pkgs[ipa.Package]
	if len(p.Downloads) != len(lock.Wheels) {
		t.Errorf("show-info lists %d downloads, the lock %d wheels", len(p.Downloads), len(lock.Wheels))
	}
	for _, d := range p.Downloads {
		if !contains(d.URIs, o.Index.Base+"/files") {
			t.Errorf("%s: URIs %q", d.Source, d.URIs)
		}
	}
	if !contains(p.Hashes, filepath.Join(ipa.LockDir(w.ext, "2026.1"), ipa.HashFile)) {
		t.Errorf("show-info hashes %q", p.Hashes)
	}

	// legal-info records the package and saves its wheels. (Its target
	// also wants host-tar where the host's tar is old, which needs the
	// network: the hook's commands run here as make expands them.)
	hook, e2, err := w.make("printvars", "VARS=IRONIC_PYTHON_AGENT_LEGAL_INFO_WHEELS")
	if err != nil {
		t.Fatalf("printvars: %v\n%s", err, e2)
	}
	hook = strings.TrimPrefix(hook, "IRONIC_PYTHON_AGENT_LEGAL_INFO_WHEELS=")
	if err := os.MkdirAll(filepath.Join(w.out, "legal-info"), 0o755); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, line := range strings.Split(hook, "\n") {
		line = strings.TrimLeft(strings.TrimSpace(line), "@")
		if line == "" {
			continue
		}
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = w.src
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("legal-info hook: %s: %v\n%s", line, err, out)
		}
		ran++
	}
	if ran != len(lock.Wheels)+1 {
		t.Errorf("the legal-info hook has %d commands, want one per wheel and the manifest line", ran)
	}
	manifest, err := os.ReadFile(filepath.Join(w.out, "legal-info", "manifest.csv"))
	if err != nil || !strings.Contains(string(manifest), `"ironic-python-agent","2026.1","Apache Software License, Apache-2.0, Apache-2.0 OR BSD-3-Clause, BSD License, LGPL-2.1-or-later, MPL-2.0","","19 wheels: 2026.1/manifest.txt","`+o.Index.URL+`","`) {
		t.Errorf("legal-info manifest (%v):\n%s", err, manifest)
	}
	for _, wh := range lock.Wheels {
		if _, err := os.Stat(filepath.Join(w.out, "legal-info", "sources", "ironic-python-agent-2026.1", wh.Filename)); err != nil {
			t.Errorf("legal-info did not save %s", wh.Filename)
		}
	}

	// The configuration asks for an extra the lock lacks: stop, with the command.
	w.set(t, ipa.ExtraSymbol, "my-hardware-manager other-manager>=2")
	if o, e, err := w.make("ironic-python-agent-source"); err == nil || !strings.Contains(o+e, "lacks the extra requirements other-manager>=2") ||
		!strings.Contains(o+e, "lock again with  ipabr ipa lock --release 2026.1 --extra 'my-hardware-manager' --extra 'other-manager>=2'  and build again") {
		t.Errorf("missing extra: %v\n%s%s", err, o, e)
	}
	w.set(t, ipa.ExtraSymbol, "my-hardware-manager")

	// A tampered wheel: the index serves other bytes under the same name.
	victim := lock.Wheels[len(lock.Wheels)-1].Filename
	o.Index.Tamper(victim, []byte("PK\x03\x04 not the wheel that was locked"))
	w.dl = filepath.Join(t.TempDir(), "dl")
	if o, e, err := w.make("ironic-python-agent-dirclean"); err != nil {
		t.Fatalf("dirclean: %v\n%s%s", err, o, e)
	}
	out, errOut, err := w.make("ironic-python-agent-source")
	if err == nil {
		t.Fatal("Buildroot accepted a tampered wheel")
	}
	if !regexp.MustCompile(`ERROR: ` + regexp.QuoteMeta(victim) + ` has wrong sha256 hash`).MatchString(out + errOut) {
		t.Errorf("Buildroot's error does not name %s:\n%s%s", victim, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(w.dl, ipa.Package, victim)); !os.IsNotExist(err) {
		t.Error("the tampered wheel was kept in the download directory")
	}
}

// TestUpstreamGitSourceLock: IPA built from git is kept with the lock and
// downloaded through Buildroot's file method; the configuration's git
// source must match the lock's.
func TestUpstreamGitSourceLock(t *testing.T) {
	u := needUpstream(t)
	e := newEnv(t)
	o := e.world()
	w := u.scratchTree(t)
	tg := w.target(t)
	lock, err := ipa.MakeLock(context.Background(), ipa.Options{Series: "master", RequirementsURL: o.IPAURL, ConstraintsURL: o.RequirementsURL,
		IndexURL: o.Index.URL, Target: tg, Runner: e.f.Runner, GitURL: o.IPAURL, GitRef: "master"})
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Write(w.ext); err != nil {
		t.Fatal(err)
	}
	checkPackage(t, w.ext)
	w.set(t, ipa.SeriesSymbol, "master", ipa.GitURLSymbol, o.IPAURL, ipa.GitRefSymbol, "master")
	if o, e, err := w.make("ironic-python-agent-source"); err != nil {
		t.Fatalf("source: %v\n%s%s", err, o, e)
	}
	var agent ipa.Wheel
	for _, wh := range lock.Wheels {
		if wh.Name == ipa.Package {
			agent = wh
		}
	}
	if got := sha256File(t, filepath.Join(w.dl, ipa.Package, agent.Filename)); got != agent.SHA256 {
		t.Errorf("the git-built wheel arrived with sha256 %s", got)
	}
	w.set(t, ipa.GitRefSymbol, "stable/2026.1")
	o2, e2, err := w.make("ironic-python-agent-source")
	if err == nil || !strings.Contains(o2+e2, "ask for IPA from "+o.IPAURL+"@stable/2026.1 but the lock of master has "+o.IPAURL+"@master") ||
		!strings.Contains(o2+e2, "ipabr ipa lock --release master --ipa-source '"+o.IPAURL+"@stable/2026.1'") {
		t.Errorf("another ref: %v\n%s%s", err, o2, e2)
	}
}

// TestUpstreamUse: `ipabr ipa use` through Buildroot's utils/config and
// olddefconfig.
func TestUpstreamUse(t *testing.T) {
	u := needUpstream(t)
	w := u.scratchTree(t)
	e := newEnv(t)
	e.p.Buildroot, e.p.External, e.p.Output, e.p.DL = w.src, w.ext, w.out, w.dl
	if code := e.run("use", "master"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	cfg, err := buildroot.ReadConfigFile(filepath.Join(w.out, ".config"))
	if err != nil || cfg.Values[ipa.SeriesSymbol] != "master" || !cfg.Enabled(ipa.EnableSymbol) {
		t.Fatalf("series %q (%v)", cfg.Values[ipa.SeriesSymbol], err)
	}
	if code := e.run("show"); code != 0 || !strings.Contains(e.out.String(), "series:    master (") ||
		!strings.Contains(e.out.String(), "lock:      none; make it with: ipabr ipa lock --release master") {
		t.Errorf("show after use:\n%s", e.out)
	}
}

// checkPackage runs Buildroot's check-package on the package's files,
// the lock's included.
func checkPackage(t *testing.T, ext string) {
	t.Helper()
	const python = "/usr/bin/python3" // Debian's, with python3-magic
	if err := exec.Command(python, "-c", "import magic").Run(); err != nil {
		fmt.Println("SKIP upstream: python3-magic not installed for " + python)
		return
	}
	testenv.Program(t, "upstream", "flake8")
	root := filepath.Dir(ext)
	var files []string
	err := filepath.Walk(ipa.PackageDir(ext), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, append([]string{filepath.Join(upTree.src, "utils", "check-package"), "-b"}, files...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^0 warnings generated$`).Match(out) {
		t.Errorf("check-package %s: %v\n%s", strings.Join(files, " "), err, out)
	}
	dry := exec.Command(python, append([]string{filepath.Join(upTree.src, "utils", "check-package"), "-b", "--dry-run"}, files...)...)
	dry.Dir = root
	dout, _ := dry.CombinedOutput()
	for _, f := range files {
		if strings.HasSuffix(f, ".mk") || strings.HasSuffix(f, ".hash") || strings.HasSuffix(f, ".py") || strings.HasSuffix(f, "Config.in") {
			if !strings.Contains(string(dout), f+": would run") {
				t.Errorf("check-package does not check %s", f)
			}
		}
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return sha256Hex(data)
}

// TestUpstreamGlibcOfToolchain: the package refuses a lock made for a
// newer glibc than the image's toolchain has, with Buildroot's internal
// toolchain (glibc 2.42) and with Bootlin's x86-64 glibc stable (2.41),
// whose glibc ipabr ipa lock reads for the configuration.
func TestUpstreamGlibcOfToolchain(t *testing.T) {
	u := needUpstream(t)
	w := u.scratchTree(t)
	handMade := func(glibc string) {
		t.Helper()
		l := &ipa.Lock{Series: "2026.1", Target: ipa.Target{Python: "3.14", Glibc: glibc}, Index: "http://127.0.0.1:9/simple", IPAVersion: "11.0.1",
			Wheels: []ipa.Wheel{{Name: "ironic-python-agent", Version: "11.0.1", Filename: "ironic_python_agent-11.0.1-py3-none-any.whl",
				URL: "http://127.0.0.1:9/files/ironic_python_agent-11.0.1-py3-none-any.whl", SHA256: strings.Repeat("a", 64), Size: 1, License: "Apache-2.0"}}}
		if err := l.Write(w.ext); err != nil {
			t.Fatal(err)
		}
	}
	const problem, image = "IRONIC_PYTHON_AGENT_PROBLEM", "IRONIC_PYTHON_AGENT_IMAGE_GLIBC"
	handMade("2.43")
	o, e, err := w.make("ironic-python-agent-source")
	if err == nil || !strings.Contains(o+e, "resolved for glibc 2.43, the image's toolchain has glibc 2.42; lock again for this configuration with  ipabr ipa lock --release 2026.1  and build again") {
		t.Errorf("a lock for a newer glibc was not refused: %v\n%s%s", err, o, e)
	}
	// (A lock for the internal toolchain's own 2.42 builds in
	// TestUpstreamLockDownloadAndTamper.)

	// Bootlin's toolchain, as doc/toolchain.md switches to it.
	frag, err := os.ReadFile(filepath.Join(repoRoot(t), "buildroot-ipa", "board", "openstack", "ipa", "toolchain-bootlin.fragment"))
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(w.out, ".config")
	cfgData, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, append(cfgData, frag...), 0o644); err != nil {
		t.Fatal(err)
	}
	if o, e, err := w.make("olddefconfig"); err != nil {
		t.Fatalf("olddefconfig: %v\n%s%s", err, o, e)
	}
	handMade("2.42")
	if v := w.vars(t, problem, image); v[image] != "2.41" || !strings.Contains(v[problem], "resolved for glibc 2.42, the image's toolchain has glibc 2.41") {
		t.Errorf("Bootlin toolchain, lock for 2.42: %q", v)
	}
	// What ipabr ipa lock resolves for in that configuration.
	l := &workspace.Locker{Settings: &config.Settings{Project: &project.Project{Root: filepath.Dir(w.ext), Buildroot: w.src, External: w.ext, Output: w.out}}}
	tg, err := l.Target(l.OutputConfig(), "", "")
	if err != nil || tg != (ipa.Target{Python: "3.14", Glibc: "2.41"}) {
		t.Fatalf("ipabr ipa lock's target for the Bootlin configuration: %+v %v", tg, err)
	}
	handMade(tg.Glibc)
	if v := w.vars(t, problem); v[problem] != "" {
		t.Errorf("Bootlin toolchain, a lock for its glibc: %q", v[problem])
	}
}
