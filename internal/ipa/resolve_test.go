package ipa_test

// Hermetic tests of the lock against stand-ins: git repositories holding
// the real fixture files on stable/2026.1 and master (served by git
// http-backend on 127.0.0.1), a PEP 503 index of wheels the tests build,
// and the real pip.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/ipa/ipatest"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/testenv"
)

var target = ipa.Target{Python: "3.14", Glibc: "2.42"}

// needPip skips unless python3 runs pip.
func needPip(t *testing.T) {
	t.Helper()
	testenv.Program(t, "hermetic", "python3")
	if err := exec.Command("python3", "-m", "pip", "--version").Run(); err != nil {
		fmt.Println("SKIP hermetic: pip not installed for python3 (apt-get install python3-pip)")
		t.Skip("SKIP hermetic: pip not installed for python3")
	}
	// pip's cache and configuration stay inside the test.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
}

func options(o *ipatest.OpenStack, series string) ipa.Options {
	return ipa.Options{
		Series:          series,
		RequirementsURL: o.IPAURL,
		ConstraintsURL:  o.RequirementsURL,
		IndexURL:        o.Index.URL,
		Target:          target,
		Runner:          process.OS{},
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func byName(l *ipa.Lock) map[string]ipa.Wheel {
	out := map[string]ipa.Wheel{}
	for _, w := range l.Wheels {
		out[ipatest.Normalize(w.Name)] = w
	}
	return out
}

// checkSeries asserts a lock of series against the fixtures: IPA's release
// for the series, every requirement at its upper-constraints pin (the
// index also has a newer decoy of each), each wheel's URL on the index and
// its sha256 that of the file the index serves.
func checkSeries(t *testing.T, o *ipatest.OpenStack, l *ipa.Lock, series string) {
	t.Helper()
	wheels := byName(l)
	if w := wheels["ironic-python-agent"]; w.Version != ipatest.Series[series] || l.IPAVersion != ipatest.Series[series] {
		t.Errorf("IPA %s (lock says %s), want the newest release on the branch, %s", w.Version, l.IPAVersion, ipatest.Series[series])
	}
	for _, r := range o.Reqs[series] {
		name := ipatest.Normalize(ipatest.RequirementName(r))
		w, ok := wheels[name]
		if !ok {
			t.Errorf("%s: requirement %s is not in the lock", series, r)
			continue
		}
		if pin := o.Pins[series][name]; w.Version != pin {
			t.Errorf("%s: %s %s, want the upper-constraints pin %s", series, name, w.Version, pin)
		}
	}
	for _, w := range l.Wheels {
		if w.Version == ipatest.Decoy {
			t.Errorf("%s: the decoy %s %s was chosen", series, w.Name, w.Version)
		}
		if w.URL != o.Index.FileURL(w.Filename) {
			t.Errorf("%s: URL %s, want the index's %s", w.Name, w.URL, o.Index.FileURL(w.Filename))
		}
		if got := sha256File(t, filepath.Join(o.Index.Dir, w.Filename)); got != w.SHA256 {
			t.Errorf("%s: sha256 %s, the file has %s", w.Filename, w.SHA256, got)
		}
		fi, err := os.Stat(filepath.Join(o.Index.Dir, w.Filename))
		if err != nil || fi.Size() != w.Size {
			t.Errorf("%s: size %d, the file has %v", w.Filename, w.Size, fi)
		}
	}
	if len(l.Wheels) != len(o.Reqs[series])+2 {
		t.Errorf("%s: %d wheels, want IPA, its %d requirements and certifi", series, len(l.Wheels), len(o.Reqs[series]))
	}
	// requests' certifi is the one package upper-constraints leaves open.
	if got := byName(l)["certifi"].Version; got != ipatest.CertifiVersion || strings.Join(l.Unpinned, " ") != "certifi" {
		t.Errorf("%s: certifi %s, unpinned %q", series, got, l.Unpinned)
	}
	if l.Target != target || l.Series != series || l.Index != o.Index.URL {
		t.Errorf("lock header: %+v", l)
	}
}

func TestLockSeries(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	// A zeroconf wheel for the host's CPython 3.11 beside the cp314 one.
	o.AddHostOnlyWheels(t, "2026.1")
	var said []string
	opts := options(o, "2026.1")
	opts.Progress = func(s string) { said = append(said, s) }
	l, err := ipa.MakeLock(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, o, l, "2026.1")
	w := byName(l)
	// Wheels for the image, not the host: the target's CPython and glibc.
	if got := w["zeroconf"].Filename; !strings.Contains(got, "-cp314-cp314-") {
		t.Errorf("zeroconf: %s, want the cp314 wheel", got)
	}
	// The marker in tenacity's dependency (python_version < "3.12") and in
	// upper-constraints (python_version=='3.10') are the image's, not the
	// host's: backports.strenum stays out.
	if _, ok := w["backports-strenum"]; ok {
		t.Error("backports.strenum is in the lock: markers were evaluated for the host's Python")
	}
	// Licenses by the shared rule, License-Expression included.
	for name, lic := range map[string]string{
		"pbr": "Apache-2.0", "psutil": "BSD License", "werkzeug": "BSD License",
		"cryptography": "Apache-2.0 OR BSD-3-Clause", "ironic-python-agent": "Apache Software License",
	} {
		if w[name].License != lic {
			t.Errorf("%s license %q, want %q", name, w[name].License, lic)
		}
	}
	if !strings.Contains(strings.Join(said, "\n"), "IPA's newest release on stable/2026.1: 11.0.1") {
		t.Errorf("progress did not name the release:\n%s", strings.Join(said, "\n"))
	}

	l2, err := ipa.MakeLock(context.Background(), options(o, "master"))
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, o, l2, "master")
	if got := byName(l2)["oslo-config"].Version; got != "10.7.0" {
		t.Errorf("master's oslo.config %s, want 10.7.0", got)
	}
}

// TestLockWithoutIndexHashes: an index without #sha256= fragments; the
// hashes come from the files themselves.
func TestLockWithoutIndexHashes(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	o.Index.OmitHashes(true)
	opts := options(o, "2026.1")
	opts.IPAVersion = "11.0.1"
	l, err := ipa.MakeLock(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, o, l, "2026.1")
}

// serveFiles serves files by path on 127.0.0.1 (the HTTPS-file form of
// the repository URLs).
func serveFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestMarkersInConstraints: upper-constraints lines with markers apply
// for the image's Python; the same files give the other pin for 3.11.
// The files come over plain HTTP ({branch} URLs).
func TestMarkersInConstraints(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	o.AddHostOnlyWheels(t, "2026.1") // zeroconf for 3.11 too
	if _, err := ipatest.BuildWheel(o.Index.Dir, ipatest.WheelSpec{Name: "psutil", Version: "5.9.0", Tag: "cp36-abi3-manylinux2014_x86_64"}); err != nil {
		t.Fatal(err)
	}
	uc := string(ipatest.Fixture(t, "2026.1", "upper-constraints.txt"))
	uc = strings.Replace(uc, "psutil===7.2.2\n", "psutil===7.2.2;python_version>='3.12'\npsutil===5.9.0;python_version<'3.12'\n", 1)
	if !strings.Contains(uc, "psutil===5.9.0;") {
		t.Fatal("the fixture has no psutil===7.2.2 line to split")
	}
	base := serveFiles(t, map[string]string{
		"/ipa/stable/2026.1/requirements.txt":          string(ipatest.Fixture(t, "2026.1", "ipa-requirements.txt")),
		"/constraints/stable/2026.1/upper-constraints": uc,
	})
	for py, want := range map[string]string{"3.14": "7.2.2", "3.11": "5.9.0"} {
		opts := options(o, "2026.1")
		opts.RequirementsURL = base + "/ipa/{branch}/requirements.txt"
		opts.ConstraintsURL = base + "/constraints/{branch}/upper-constraints"
		opts.Target.Python = py
		// Over plain files there are no tags to find the release by.
		if _, err := ipa.MakeLock(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "--ipa-version") {
			t.Fatalf("without --ipa-version: %v, want a request for it", err)
		}
		opts.IPAVersion = "11.0.1"
		l, err := ipa.MakeLock(context.Background(), opts)
		if err != nil {
			t.Fatalf("Python %s: %v", py, err)
		}
		if got := byName(l)["psutil"].Version; got != want {
			t.Errorf("Python %s: psutil %s, want %s", py, got, want)
		}
	}
	// An unknown series over HTTP: the file is not there.
	opts := options(o, "2031.2")
	opts.RequirementsURL = base + "/ipa/{branch}/requirements.txt"
	opts.IPAVersion = "11.0.1"
	var unknown *ipa.UnknownSeriesError
	if _, err := ipa.MakeLock(context.Background(), opts); !errors.As(err, &unknown) {
		t.Errorf("unknown series over HTTP: %v", err)
	}
}

func TestLockBadInput(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	ctx := context.Background()

	t.Run("unknown series", func(t *testing.T) {
		_, err := ipa.MakeLock(ctx, options(o, "2031.2"))
		var unknown *ipa.UnknownSeriesError
		if !errors.As(err, &unknown) {
			t.Fatalf("err = %v, want an unknown series", err)
		}
		if !strings.Contains(err.Error(), "series there: 2026.1, master") || !strings.Contains(err.Error(), o.IPAURL) {
			t.Errorf("the message does not list the series there are: %v", err)
		}
	})
	t.Run("series with shell characters", func(t *testing.T) {
		before := o.Git.Requests()
		if _, err := ipa.MakeLock(ctx, options(o, "2026.1;id")); err == nil {
			t.Fatal("accepted")
		}
		if o.Git.Requests() != before {
			t.Error("a bad series name reached the network")
		}
	})
	t.Run("conflict with upper-constraints", func(t *testing.T) {
		opts := options(o, "2026.1")
		opts.Extras = []string{"pbr>=8"}
		_, err := ipa.MakeLock(ctx, opts)
		var ce *ipa.ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want a conflict", err)
		}
		for _, side := range []string{"--extra pbr>=8", "upper-constraints pins pbr===7.0.3"} {
			if !strings.Contains(err.Error(), side) {
				t.Errorf("the conflict does not name %q: %v", side, err)
			}
		}
	})
	t.Run("no wheel for the image", func(t *testing.T) {
		opts := options(o, "2026.1")
		opts.Extras = []string{"netifaces"}
		_, err := ipa.MakeLock(ctx, opts)
		var nw *ipa.NoWheelError
		if !errors.As(err, &nw) || !strings.HasPrefix(nw.Requirement, "netifaces") {
			t.Fatalf("err = %v, want no wheel of netifaces", err)
		}
		if !strings.Contains(err.Error(), "--extra") {
			t.Errorf("no suggestion: %v", err)
		}
	})
	t.Run("index down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String() + "/simple"
		ln.Close()
		opts := options(o, "2026.1")
		opts.IndexURL = dead
		_, err = ipa.MakeLock(ctx, opts)
		var ue *ipa.UnreachableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), dead) {
			t.Fatalf("err = %v, want the index %s unreachable", err, dead)
		}
	})
	t.Run("repository down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String() + "/requirements"
		ln.Close()
		opts := options(o, "2026.1")
		opts.ConstraintsURL = dead
		_, err = ipa.MakeLock(ctx, opts)
		var ue *ipa.UnreachableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), dead) {
			t.Fatalf("err = %v, want the repository %s unreachable", err, dead)
		}
	})
	t.Run("no such IPA version", func(t *testing.T) {
		opts := options(o, "2026.1")
		opts.IPAVersion = "10.9.9"
		_, err := ipa.MakeLock(ctx, opts)
		var nw *ipa.NoWheelError
		if !errors.As(err, &nw) || !strings.Contains(nw.Requirement, "ironic-python-agent==10.9.9") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestLockExtrasAndGitSource: a custom hardware manager from the index,
// and IPA built on the host from a git branch of the stand-in repository.
func TestLockExtrasAndGitSource(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	opts := options(o, "2026.1")
	opts.Extras = []string{"my-hardware-manager"}
	opts.GitURL, opts.GitRef = o.IPAURL, "stable/2026.1"
	l, err := ipa.MakeLock(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	w := byName(l)
	if w["my-hardware-manager"].Version != "1.0.0" || strings.Join(l.Extras, " ") != "my-hardware-manager" {
		t.Errorf("hardware manager %+v, extras %q", w["my-hardware-manager"], l.Extras)
	}
	agent := w["ironic-python-agent"]
	// stable/2026.1 is one commit after the 11.0.1 tag: pbr's 11.0.2.dev1.
	if agent.Version != "11.0.2.dev1" || l.IPAVersion != "11.0.2.dev1" {
		t.Errorf("IPA from git: %s, want 11.0.2.dev1", agent.Version)
	}
	if l.GitURL != o.IPAURL || l.GitRef != "stable/2026.1" || l.GitCommit != o.IPACommits["stable/2026.1"] {
		t.Errorf("git source %s@%s commit %s, want %s", l.GitURL, l.GitRef, l.GitCommit, o.IPACommits["stable/2026.1"])
	}
	if agent.Local == nil || agent.URL != ipa.LocalURL("2026.1", agent.Filename) {
		t.Fatalf("the built wheel is not kept with the lock: %+v", agent.URL)
	}
	sum := sha256.Sum256(agent.Local)
	if hex.EncodeToString(sum[:]) != agent.SHA256 || agent.Size != int64(len(agent.Local)) {
		t.Error("the built wheel's sha256 or size is not its own")
	}
	if !strings.Contains(l.Command(), "--ipa-source '"+o.IPAURL+"@stable/2026.1'") {
		t.Errorf("regenerate command %q", l.Command())
	}
	ext := t.TempDir()
	if err := os.MkdirAll(ipa.PackageDir(ext), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(ext); err != nil {
		t.Fatal(err)
	}
	if got := sha256File(t, filepath.Join(ipa.LockDir(ext, "2026.1"), ipa.WheelsDir, agent.Filename)); got != agent.SHA256 {
		t.Errorf("kept wheel has sha256 %s", got)
	}
	back, err := ipa.ReadLock(ext, "2026.1")
	if err != nil || back.GitCommit != l.GitCommit || len(back.Wheels) != len(l.Wheels) {
		t.Errorf("ReadLock: %v %+v", err, back)
	}
}

// TestLocalPathRepositories: repositories given as paths (a developer's
// checkout) work for the series files and for --ipa-source, and over
// HTTP the release is found by walking the shallow history deeper.
func TestLocalPathRepositories(t *testing.T) {
	o := ipatest.New(t)
	ctx := context.Background()
	f, err := ipa.FetchSeriesFile(ctx, o.ReqRepo, "2026.1", ipa.ConstraintsPath, ipa.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(f.Data) != string(ipatest.Fixture(t, "2026.1", "upper-constraints.txt")) {
		t.Error("upper-constraints.txt of stable/2026.1 is not the fixture")
	}
	f, err = ipa.FetchSeriesFile(ctx, o.IPARepo, "master", ipa.RequirementsPath, ipa.FetchOptions{Release: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Release != "12.0.0" || f.Commit != o.IPACommits["master"] {
		t.Errorf("master: release %q commit %s", f.Release, f.Commit)
	}
	co, err := ipa.CheckoutSource(ctx, o.IPARepo, "master", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if co.Commit != o.IPACommits["master"] || co.Version != "12.0.1.dev1" {
		t.Errorf("checkout: %s %s", co.Commit, co.Version)
	}
	if _, err := os.Stat(filepath.Join(co.Dir, "ironic_python_agent", "cmd", "agent.py")); err != nil {
		t.Error("the source was not checked out")
	}
	// A tag, and a commit by id, over HTTP.
	co, err = ipa.CheckoutSource(ctx, o.IPAURL, "11.0.1", t.TempDir())
	if err != nil || co.Version != "11.0.1" {
		t.Errorf("tag 11.0.1: %+v %v", co, err)
	}
	co, err = ipa.CheckoutSource(ctx, o.IPAURL, o.IPACommits["stable/2026.1"], t.TempDir())
	if err != nil || co.Commit != o.IPACommits["stable/2026.1"] {
		t.Errorf("commit id: %+v %v", co, err)
	}
	var unknown *ipa.UnknownRefError
	if _, err := ipa.CheckoutSource(ctx, o.IPAURL, "no-such-branch", t.TempDir()); !errors.As(err, &unknown) {
		t.Errorf("unknown ref: %v", err)
	}
}

// notForTheHost gives the stand-in IPA a branch whose Requires-Python
// excludes the host's Python but not the image's, as IPA 2026.1 (>=3.10)
// on RHEL 9 (3.9); it returns the branch's lock options.
func notForTheHost(t *testing.T, o *ipatest.OpenStack) (ipa.Options, string) {
	t.Helper()
	out, err := exec.Command("python3", "-c", `import sys; print("%d.%d" % sys.version_info[:2])`).Output()
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimSpace(string(out))
	if host == target.Python {
		testenv.Skip(t, "hermetic", "the host's Python is the image's "+host)
	}
	o.IPABranch(t, "not-for-the-host", map[string]string{
		"setup.cfg": "[metadata]\nname = ironic-python-agent\npython_requires = !=" + host + ".*\n",
	})
	opts := options(o, "2026.1")
	opts.GitURL, opts.GitRef = o.IPAURL, "not-for-the-host"
	return opts, host
}

// TestLockGitSourceForNewerPython: IPA from git is built on the host even
// when its Requires-Python excludes the host's Python (pip wheel
// --ignore-requires-python); the host's pip then resolves it, or (before
// pip 24.2) says that it checked the host's Python and what to do.
func TestLockGitSourceForNewerPython(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	opts, host := notForTheHost(t, o)
	l, err := ipa.MakeLock(context.Background(), opts)
	var rp *ipa.RequiresPythonError
	switch {
	case errors.As(err, &rp):
		if !rp.HostOnly || rp.Package != "ironic-python-agent" || !strings.Contains(err.Error(), "pip before 24.2") {
			t.Errorf("the host's pip: %v", err)
		}
	case err != nil:
		t.Fatalf("IPA requiring Python !=%s.*, built on Python %s: %v", host, host, err)
	default:
		if agent := byName(l)["ironic-python-agent"]; !strings.Contains(string(agent.Local), "Requires-Python: !="+host+".*") {
			t.Error("the built wheel does not carry the source's Requires-Python")
		}
	}
}

// TestLockOverlappingWheels: two hardware managers sharing a pkgutil
// namespace package lock when its __init__.py is the same in both, and
// stop, naming both wheels, when it differs.
func TestLockOverlappingWheels(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	ns := "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
	for _, w := range []ipatest.WheelSpec{
		{Name: "acme-hwm-raid", Version: "1.0", Files: map[string]string{"acme/__init__.py": ns, "acme/raid/__init__.py": ""}},
		{Name: "acme-hwm-nic", Version: "1.0", Files: map[string]string{"acme/__init__.py": ns, "acme/nic/__init__.py": ""}},
		{Name: "acme-hwm-bmc", Version: "1.0", Files: map[string]string{"acme/__init__.py": "from acme import raid\n", "acme/bmc/__init__.py": ""}},
	} {
		if _, err := ipatest.BuildWheel(o.Index.Dir, w); err != nil {
			t.Fatal(err)
		}
	}
	opts := options(o, "2026.1")
	opts.Extras = []string{"acme-hwm-raid", "acme-hwm-nic"}
	l, err := ipa.MakeLock(context.Background(), opts)
	if err != nil {
		t.Fatalf("identical namespace files: %v", err)
	}
	if w := byName(l); w["acme-hwm-raid"].Version != "1.0" || w["acme-hwm-nic"].Version != "1.0" {
		t.Errorf("the hardware managers are not in the lock")
	}
	opts.Extras = append(opts.Extras, "acme-hwm-bmc")
	_, err = ipa.MakeLock(context.Background(), opts)
	var oe *ipa.OverlapError
	if !errors.As(err, &oe) || oe.Path != "site-packages/acme/__init__.py" {
		t.Fatalf("different namespace files: %v", err)
	}
	for _, want := range []string{"acme_hwm_bmc-1.0-py3-none-any.whl", "acme_hwm_nic-1.0-py3-none-any.whl", "--extra"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}

// TestLockGitSourceReproducible: IPA built twice from one commit is the
// same wheel (SOURCE_DATE_EPOCH is the commit's time), so locking again
// does not churn the kept wheel.
func TestLockGitSourceReproducible(t *testing.T) {
	needPip(t)
	o := ipatest.New(t)
	opts := options(o, "2026.1")
	opts.GitURL, opts.GitRef = o.IPAURL, "stable/2026.1"
	var sums []string
	for i := 0; i < 2; i++ {
		if i > 0 {
			time.Sleep(2 * time.Second) // zip times have a resolution of two seconds
		}
		l, err := ipa.MakeLock(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, byName(l)["ironic-python-agent"].SHA256)
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds of one commit differ: %s, %s", sums[0], sums[1])
	}
}
