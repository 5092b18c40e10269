package ipatest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/testenv"
)

// FixturesDir holds the real OpenStack files (testdata/openstack/SERIES/).
func FixturesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "openstack")
}

// Fixture reads testdata/openstack/<series>/<name>.
func Fixture(t testing.TB, series, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(FixturesDir(), series, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var (
	reqNameRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)`)
	pinRE     = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)===([^;\s]+)`)
)

// Requirements are the requirement lines of a requirements.txt, comments
// dropped: "pbr>=6.0.0".
func Requirements(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(strings.SplitN(sc.Text(), "#", 2)[0])
		if reqNameRE.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

// RequirementName is the project name of a requirement line.
func RequirementName(req string) string { return reqNameRE.FindString(req) }

// Pins reads upper-constraints.txt: normalized name → version (markers
// ignored).
func Pins(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		if m := pinRE.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			out[Normalize(m[1])] = m[2]
		}
	}
	return out
}

// Series are the fixture series, and the IPA release each one's branch
// carries in the stand-in repository.
var Series = map[string]string{"2026.1": "11.0.1", "master": "12.0.0"}

// CertifiVersion is the index's certifi, which no upper-constraints pins.
const CertifiVersion = "2025.11.12"

// Decoy is a version newer than every pin: the index has one of each
// project, so a resolution that ignores upper-constraints picks it.
const Decoy = "99.0.0"

// OpenStack is the stand-in world: the two repositories served over git
// smart HTTP and a package index with wheels for both series.
type OpenStack struct {
	Root            string
	Git             *testenv.GitServer
	IPAURL          string // http://127.0.0.1:PORT/ironic-python-agent
	RequirementsURL string // http://127.0.0.1:PORT/requirements
	IPARepo         string // the repositories on disk
	ReqRepo         string
	Index           *Index
	// Pins are the fixtures' upper-constraints, by series.
	Pins map[string]map[string]string
	// Reqs are IPA's requirement lines, by series.
	Reqs map[string][]string
	// Commits are branch tips: "stable/2026.1", "master".
	IPACommits map[string]string
}

// New builds the repositories and the index under a temporary directory
// and serves them until the test ends.
func New(t testing.TB) *OpenStack {
	t.Helper()
	testenv.Program(t, "hermetic", "git")
	root := t.TempDir()
	o := &OpenStack{
		Root:       root,
		IPARepo:    filepath.Join(root, "git", "ironic-python-agent"),
		ReqRepo:    filepath.Join(root, "git", "requirements"),
		Pins:       map[string]map[string]string{},
		Reqs:       map[string][]string{},
		IPACommits: map[string]string{},
	}
	for s := range Series {
		o.Pins[s] = Pins(Fixture(t, s, "upper-constraints.txt"))
		o.Reqs[s] = Requirements(Fixture(t, s, "ipa-requirements.txt"))
	}
	if err := o.makeRequirementsRepo(t); err != nil {
		t.Fatal(err)
	}
	if err := o.makeIPARepo(t); err != nil {
		t.Fatal(err)
	}
	srv, err := testenv.StartGitServer(filepath.Join(root, "git"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	o.Git = srv
	o.IPAURL = srv.URL + "/ironic-python-agent"
	o.RequirementsURL = srv.URL + "/requirements"

	indexDir := filepath.Join(root, "index")
	for _, w := range o.Wheels() {
		if _, err := BuildWheel(indexDir, w); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := StartIndex(indexDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	o.Index = ix
	return o
}

func git(dir string, args ...string) error {
	_, err := testenv.Git(dir, args...)
	return err
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

// makeRequirementsRepo: upper-constraints.txt of 2026.1 on stable/2026.1,
// master's on master.
func (o *OpenStack) makeRequirementsRepo(t testing.TB) error {
	d := o.ReqRepo
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	steps := []func() error{
		func() error { return git(d, "init", "-q", "-b", "master") },
		func() error {
			return writeFile(filepath.Join(d, "upper-constraints.txt"), string(Fixture(t, "2026.1", "upper-constraints.txt")))
		},
		func() error { return git(d, "add", "-A") },
		func() error { return git(d, "commit", "-qm", "upper-constraints for 2026.1") },
		func() error { return git(d, "branch", "stable/2026.1") },
		func() error {
			return writeFile(filepath.Join(d, "upper-constraints.txt"), string(Fixture(t, "master", "upper-constraints.txt")))
		},
		func() error { return git(d, "commit", "-qam", "upper-constraints for master") },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// backend is a PEP 517 build backend inside the stand-in IPA repository
// (no build dependencies, so pip's isolated build needs nothing from the
// index): it builds ironic_python_agent-$PBR_VERSION-py3-none-any.whl with
// requirements.txt as Requires-Dist and setup.cfg's python_requires as
// Requires-Python, the way pbr does, stamped with SOURCE_DATE_EPOCH when
// set, the way bdist_wheel does.
const backend = `import base64
import configparser
import hashlib
import os
import time
import zipfile


def get_requires_for_build_wheel(config_settings=None):
    return []


def _requirements():
    out = []
    with open("requirements.txt") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def _python_requires():
    cfg = configparser.ConfigParser()
    cfg.read("setup.cfg")
    return cfg.get("metadata", "python_requires", fallback="")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = os.environ.get("PBR_VERSION", "0.0.0")
    dist = "ironic_python_agent-" + version
    files = {}
    for root, _, names in os.walk("ironic_python_agent"):
        for n in sorted(names):
            if n.endswith(".py"):
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    files[p.replace(os.sep, "/")] = f.read()
    meta = ("Metadata-Version: 2.1\nName: ironic-python-agent\nVersion: %s\n"
            "License: Apache-2.0\n" % version)
    if _python_requires():
        meta += "Requires-Python: %s\n" % _python_requires()
    meta += "".join("Requires-Dist: %s\n" % r for r in _requirements())
    info = dist + ".dist-info/"
    files[info + "METADATA"] = meta.encode()
    files[info + "WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: ipabr-test\n"
                             b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[info + "entry_points.txt"] = (
        b"[console_scripts]\n"
        b"ironic-python-agent = ironic_python_agent.cmd.agent:run\n")
    record = ""
    for p, data in sorted(files.items()):
        h = hashlib.sha256(data).digest()
        h = base64.urlsafe_b64encode(h).rstrip(b"=").decode()
        record += "%s,sha256=%s,%d\n" % (p, h, len(data))
    record += info + "RECORD,,\n"
    files[info + "RECORD"] = record.encode()
    name = dist + "-py3-none-any.whl"
    # Like bdist_wheel: SOURCE_DATE_EPOCH, when set, stamps every entry,
    # which are in a fixed order, so one commit gives one wheel.
    stamp = time.localtime()[:6]
    if os.environ.get("SOURCE_DATE_EPOCH"):
        stamp = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for p, data in sorted(files.items()):
            z.writestr(zipfile.ZipInfo(p, date_time=stamp), data)
    return name
`

// makeIPARepo: a buildable stand-in for ironic-python-agent.
//
//	master:        A (11.0.0, 2026.1 requirements) ... D (12.0.0, master requirements) - E
//	stable/2026.1: A - B (11.0.1, annotated) - C (unreleased)
func (o *OpenStack) makeIPARepo(t testing.TB) error {
	d := o.IPARepo
	files := map[string]string{
		"pyproject.toml":                         "[build-system]\nrequires = []\nbuild-backend = \"ipabr_test_backend\"\nbackend-path = [\".\"]\n",
		"ipabr_test_backend.py":                  backend,
		"setup.cfg":                              "[metadata]\nname = ironic-python-agent\npython_requires = >=3.10\n",
		"ironic_python_agent/__init__.py":        "",
		"ironic_python_agent/cmd/__init__.py":    "",
		"ironic_python_agent/cmd/agent.py":       "def run():\n    print('ironic-python-agent from git')\n",
		"ironic_python_agent/tests/__init__.py":  "",
		"ironic_python_agent/tests/test_unit.py": "def test_nothing():\n    pass\n",
		"requirements.txt":                       string(Fixture(t, "2026.1", "ipa-requirements.txt")),
	}
	for p, c := range files {
		if err := writeFile(filepath.Join(d, p), c); err != nil {
			return err
		}
	}
	steps := [][]string{
		{"init", "-q", "-b", "master"},
		{"add", "-A"},
		{"commit", "-qm", "IPA 11.0.0"},
		{"tag", "-a", "-m", "11.0.0", "11.0.0"},
		{"checkout", "-q", "-b", "stable/2026.1"},
		{"commit", "-q", "--allow-empty", "-m", "fix on stable"},
		{"tag", "-a", "-m", "11.0.1", "11.0.1"},
		{"tag", "2026.1-rc1"}, // not a release tag
		{"commit", "-q", "--allow-empty", "-m", "unreleased fix on stable"},
		{"checkout", "-q", "master"},
	}
	for _, s := range steps {
		if err := git(d, s...); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(d, "requirements.txt"), string(Fixture(t, "master", "ipa-requirements.txt"))); err != nil {
		return err
	}
	for _, s := range [][]string{
		{"add", "-A"},
		{"commit", "-q", "--allow-empty", "-m", "master requirements"},
		{"tag", "12.0.0"}, // lightweight
		{"commit", "-q", "--allow-empty", "-m", "unreleased work on master"},
	} {
		if err := git(d, s...); err != nil {
			return err
		}
	}
	for _, b := range []string{"master", "stable/2026.1"} {
		c, err := testenv.Git(d, "rev-parse", b)
		if err != nil {
			return err
		}
		o.IPACommits[b] = c
	}
	return nil
}

// CommitConstraints replaces upper-constraints.txt on a branch of the
// stand-in openstack/requirements with edit's result.
func (o *OpenStack) CommitConstraints(t testing.TB, branch string, edit func(string) string) {
	t.Helper()
	d := o.ReqRepo
	if err := git(d, "checkout", "-q", branch); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d, "upper-constraints.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFile(path, edit(string(data))); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]string{{"commit", "-qam", "new constraints on " + branch}, {"checkout", "-q", "master"}} {
		if err := git(d, s...); err != nil {
			t.Fatal(err)
		}
	}
}

// IPABranch commits files onto a new branch of the stand-in IPA
// repository, forked from stable/2026.1.
func (o *OpenStack) IPABranch(t testing.TB, branch string, files map[string]string) {
	t.Helper()
	d := o.IPARepo
	if err := git(d, "checkout", "-q", "-b", branch, "stable/2026.1"); err != nil {
		t.Fatal(err)
	}
	for p, c := range files {
		if err := writeFile(filepath.Join(d, p), c); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range [][]string{{"add", "-A"}, {"commit", "-qm", "change on " + branch}, {"checkout", "-q", "master"}} {
		if err := git(d, s...); err != nil {
			t.Fatal(err)
		}
	}
}

// Wheels are the index's contents: for each series, every IPA requirement
// at its upper-constraints pin, a decoy of each at Decoy, IPA's releases,
// and a few wheels for the bad-input tests.
func (o *OpenStack) Wheels() []WheelSpec {
	seen := map[string]bool{}
	var out []WheelSpec
	add := func(w WheelSpec) {
		if !seen[w.Filename()] {
			seen[w.Filename()] = true
			out = append(out, w)
		}
	}
	for series, reqs := range o.Reqs {
		for _, r := range reqs {
			name := RequirementName(r)
			for _, v := range []string{o.Pins[series][Normalize(name)], Decoy} {
				add(depWheel(name, v))
			}
		}
		ipa := WheelSpec{
			Name: "ironic-python-agent", Version: Series[series], Requires: reqs,
			Scripts:     map[string]string{"ironic-python-agent": "ironic_python_agent.cmd.agent:run"},
			License:     "UNKNOWN",
			Classifiers: []string{"License :: OSI Approved :: Apache Software License", "Programming Language :: Python :: 3"},
			Files: map[string]string{
				"ironic_python_agent/cmd/__init__.py":               "",
				"ironic_python_agent/cmd/agent.py":                  "def run():\n    print('ironic-python-agent')\n",
				"ironic_python_agent/tests/__init__.py":             "",
				"ironic_python_agent/tests/unit/test_agent.py":      "def test_agent():\n    pass\n",
				"ironic_python_agent/__pycache__/x.cpython-314.pyc": "cache",
			},
		}
		add(ipa)
	}
	// IPA releases that are not a series' newest: never to be chosen.
	for _, v := range []string{"11.0.0", "13.0.0"} {
		add(WheelSpec{Name: "ironic-python-agent", Version: v, Requires: []string{"pbr"}, Scripts: map[string]string{"ironic-python-agent": "ironic_python_agent.cmd.agent:run"}})
	}
	// requests' dependency, which upper-constraints leaves open.
	add(WheelSpec{Name: "certifi", Version: CertifiVersion, License: "MPL-2.0"})
	// Markers in dependencies: for Python 3.14 this dependency must not
	// come in, though the host's Python is older.
	add(WheelSpec{Name: "backports.strenum", Version: "1.3.1", License: "MIT"})
	// A binary package with no wheel for the image.
	add(WheelSpec{Name: "netifaces", Version: "0.11.0", Tag: "cp39-cp39-manylinux1_x86_64", License: "MIT"})
	// A custom hardware manager (a pure-Python --extra).
	add(WheelSpec{
		Name: "my-hardware-manager", Version: "1.0.0", License: "Apache-2.0",
		Requires:    []string{"ironic-python-agent", "pbr>=6.0.0"},
		EntryPoints: map[string]map[string]string{"ironic_python_agent.hardware_managers": {"mine": "my_hardware_manager:MyHardwareManager"}},
	})
	return out
}

// depWheel is a fake dependency: its name and version from the fixtures,
// plus the shapes real wheels have.
func depWheel(name, version string) WheelSpec {
	w := WheelSpec{Name: name, Version: version, License: "Apache-2.0"}
	switch Normalize(name) {
	case "pbr":
		w.LicenseExpression, w.License = "Apache-2.0", ""
		w.Scripts = map[string]string{"pbr": "pbr:main"}
	case "oslo-log":
		w.Requires = []string{"oslo.config>=5.2.0", "oslo.utils>=3.36.0", "pbr>=3.1.1"}
	case "requests":
		// As the real one; upper-constraints does not pin certifi.
		w.Requires = []string{"certifi>=2017.4.17"}
	case "tenacity":
		w.Requires = []string{`backports.strenum; python_version < "3.12"`}
	case "psutil":
		w.Tag = "cp36-abi3-manylinux_2_12_x86_64.manylinux2010_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64"
		w.License = ""
		w.Classifiers = []string{"License :: OSI Approved :: BSD License"}
	case "cryptography":
		w.Tag = "cp39-abi3-manylinux_2_28_x86_64"
		w.License = "Apache-2.0 OR BSD-3-Clause"
	case "werkzeug":
		w.License = strings.Repeat("Copyright 2007 Pallets. Redistribution and use in source and binary forms... ", 3)
		w.Classifiers = []string{"License :: OSI Approved :: BSD License"}
	case "zeroconf":
		w.Tag = "cp314-cp314-manylinux_2_36_x86_64"
		w.License = "LGPL-2.1-or-later"
	}
	return w
}

// ZeroconfHostWheel is a zeroconf wheel for the host's CPython 3.11 only:
// the index has it beside the cp314 one, and the lock must not take it.
func (o *OpenStack) AddHostOnlyWheels(t testing.TB, series string) {
	t.Helper()
	w := depWheel("zeroconf", o.Pins[series]["zeroconf"])
	w.Tag = "cp311-cp311-manylinux_2_17_x86_64"
	if _, err := BuildWheel(o.Index.Dir, w); err != nil {
		t.Fatal(err)
	}
}

// String describes the stand-ins for test logs.
func (o *OpenStack) String() string {
	return fmt.Sprintf("ipa %s, requirements %s, index %s", o.IPAURL, o.RequirementsURL, o.Index.URL)
}
