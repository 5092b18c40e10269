package ipa_test

// The package's install script, run on its own the way
// ironic-python-agent.mk runs it: locked wheels into a fake target with
// Buildroot's pyinstaller.py and the installer module (Debian's
// python3-installer here, host-python-installer in a build).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/ipa/ipatest"
	"github.com/ipabr/ipabr/internal/testenv"
)

// buildrootTag is the Buildroot release of the submodule's pin.
const buildrootTag = "2026.02.3"

func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// installerPython is a host python3 with the installer module.
func installerPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import installer").Run() == nil {
			return py
		}
	}
	fmt.Println("SKIP hermetic: no python3 with the installer module (apt-get install python3-installer)")
	t.Skip("SKIP hermetic: no python3 with the installer module")
	return ""
}

// pyinstaller is Buildroot's support/scripts/pyinstaller.py: from the
// project's buildroot checkout, else from IPABR_TEST_BUILDROOT at the pin.
func pyinstaller(t *testing.T) string {
	t.Helper()
	local := filepath.Join(repoRoot(t), "buildroot", "support", "scripts", "pyinstaller.py")
	if _, err := os.Stat(local); err == nil {
		return local
	}
	repo := os.Getenv("IPABR_TEST_BUILDROOT")
	if repo != "" {
		if out, err := exec.Command("git", "-C", repo, "show", buildrootTag+":support/scripts/pyinstaller.py").Output(); err == nil {
			p := filepath.Join(t.TempDir(), "pyinstaller.py")
			if err := os.WriteFile(p, out, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	fmt.Println("SKIP hermetic: no Buildroot pyinstaller.py (run 'ipabr init' or set IPABR_TEST_BUILDROOT)")
	t.Skip("SKIP hermetic: no Buildroot pyinstaller.py")
	return ""
}

func installScript(t *testing.T) string {
	return filepath.Join(repoRoot(t), "buildroot-ipa", "package", ipa.Package, "install-wheels.py")
}

type installEnv struct {
	py, pyinstaller string
	wheels          []string
	hashFile        string
	target          string
	manifest        string
}

// newInstallEnv builds IPA and two dependencies as wheels and a hash file
// for them, as the lock and Buildroot's download leave them.
func newInstallEnv(t *testing.T) *installEnv {
	t.Helper()
	e := &installEnv{py: installerPython(t), pyinstaller: pyinstaller(t)}
	dl := filepath.Join(t.TempDir(), "dl")
	specs := []ipatest.WheelSpec{
		{
			Name: "ironic-python-agent", Version: "11.0.1", Requires: []string{"pbr>=6.0.0"},
			Scripts:     map[string]string{"ironic-python-agent": "ironic_python_agent.cmd.agent:run"},
			Classifiers: []string{"License :: OSI Approved :: Apache Software License"},
			Files: map[string]string{
				"ironic_python_agent/cmd/__init__.py":                   "",
				"ironic_python_agent/cmd/agent.py":                      "def run():\n    pass\n",
				"ironic_python_agent/tests/__init__.py":                 "",
				"ironic_python_agent/tests/unit/test_agent.py":          "def test():\n    pass\n",
				"ironic_python_agent/__pycache__/agent.cpython-314.pyc": "cache",
				"ironic_python_agent/testing.py":                        "# kept: not a tests directory\n",
			},
		},
		{Name: "pbr", Version: "7.0.3", LicenseExpression: "Apache-2.0", Scripts: map[string]string{"pbr": "pbr:main"}},
		{Name: "psutil", Version: "7.2.2", Tag: "cp36-abi3-manylinux2014_x86_64", License: "BSD-3-Clause",
			Files: map[string]string{"psutil/_psutil_linux.abi3.so": "\x7fELF fake"}},
	}
	var hash bytes.Buffer
	hash.WriteString("# Locally computed\n")
	for _, s := range specs {
		p, err := ipatest.BuildWheel(dl, s)
		if err != nil {
			t.Fatal(err)
		}
		e.wheels = append(e.wheels, p)
		fmt.Fprintf(&hash, "sha256  %s  %s\n", sha256File(t, p), filepath.Base(p))
	}
	e.hashFile = filepath.Join(t.TempDir(), ipa.HashFile)
	if err := os.WriteFile(e.hashFile, hash.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	e.target = filepath.Join(t.TempDir(), "target")
	e.manifest = filepath.Join(t.TempDir(), "build", "ipa-manifest.json")
	return e
}

func (e *installEnv) run(t *testing.T, wheels ...string) (string, error) {
	t.Helper()
	args := append([]string{installScript(t),
		"--pyinstaller", e.pyinstaller, "--hash-file", e.hashFile, "--target", e.target,
		"--python-version", "3.14", "--series", "2026.1", "--manifest", e.manifest}, wheels...)
	out, err := exec.Command(e.py, args...).CombinedOutput()
	return string(out), err
}

func TestInstallScript(t *testing.T) {
	testenv.Program(t, "hermetic", "python3")
	e := newInstallEnv(t)
	out, err := e.run(t, e.wheels...)
	if err != nil {
		t.Fatalf("install-wheels.py: %v\n%s", err, out)
	}
	site := filepath.Join(e.target, "usr", "lib", "python3.14", "site-packages")
	for _, rel := range []string{
		"ironic_python_agent/__init__.py",
		"ironic_python_agent/cmd/agent.py",
		"ironic_python_agent/testing.py",
		"ironic_python_agent-11.0.1.dist-info/entry_points.txt",
		"ironic_python_agent-11.0.1.dist-info/METADATA",
		"pbr/__init__.py",
		"psutil/_psutil_linux.abi3.so",
	} {
		if _, err := os.Stat(filepath.Join(site, rel)); err != nil {
			t.Errorf("not installed: %s", rel)
		}
	}
	for _, rel := range []string{"ironic_python_agent/tests", "ironic_python_agent/__pycache__"} {
		if _, err := os.Stat(filepath.Join(site, rel)); !os.IsNotExist(err) {
			t.Errorf("%s was not dropped (%v)", rel, err)
		}
	}
	// Console scripts start with the target's interpreter.
	for _, script := range []string{"ironic-python-agent", "pbr"} {
		p := filepath.Join(e.target, "usr", "bin", script)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("no /usr/bin/%s: %v", script, err)
			continue
		}
		if first := strings.SplitN(string(data), "\n", 2)[0]; first != "#!/usr/bin/python" {
			t.Errorf("/usr/bin/%s starts with %q, want #!/usr/bin/python", script, first)
		}
		if fi, _ := os.Stat(p); fi.Mode()&0o111 == 0 {
			t.Errorf("/usr/bin/%s is not executable", script)
		}
	}
	if !strings.Contains(string(mustRead(t, filepath.Join(e.target, "usr", "bin", "ironic-python-agent"))), "from ironic_python_agent.cmd.agent import run") {
		t.Error("the agent's launcher does not call ironic_python_agent.cmd.agent:run")
	}

	var m struct {
		Series   string
		Python   string
		Packages []struct{ Name, Version, Wheel, SHA256, License string }
	}
	if err := json.Unmarshal(mustRead(t, e.manifest), &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Series != "2026.1" || m.Python != "3.14" || len(m.Packages) != 3 {
		t.Fatalf("manifest: %+v", m)
	}
	want := map[string][2]string{
		"ironic-python-agent": {"11.0.1", "Apache Software License"},
		"pbr":                 {"7.0.3", "Apache-2.0"},
		"psutil":              {"7.2.2", "BSD-3-Clause"},
	}
	var names []string
	for _, p := range m.Packages {
		names = append(names, p.Name)
		if w := want[p.Name]; p.Version != w[0] || p.License != w[1] {
			t.Errorf("manifest %s: %s %q, want %s %q", p.Name, p.Version, p.License, w[0], w[1])
		}
		if p.SHA256 != sha256File(t, e.wheels[indexOf(e.wheels, p.Wheel)]) {
			t.Errorf("manifest %s: sha256 %s is not the wheel's", p.Name, p.SHA256)
		}
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("manifest not sorted: %q", names)
	}
	// The lock's license rule and the script's agree.
	if lic := ipa.License("", "UNKNOWN", []string{"License :: OSI Approved :: Apache Software License"}); lic != want["ironic-python-agent"][1] {
		t.Errorf("Go's rule gives %q", lic)
	}

	// Installing again over the same target works (a rebuild).
	if out, err := e.run(t, e.wheels...); err != nil {
		t.Errorf("reinstall: %v\n%s", err, out)
	}
}

func indexOf(paths []string, base string) int {
	for i, p := range paths {
		if filepath.Base(p) == base {
			return i
		}
	}
	return 0
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestInstallScriptRefusesTamperedWheel: a wheel whose sha256 is not the
// locked one, or that the lock does not know, stops the install before
// anything lands in the target.
func TestInstallScriptRefusesTamperedWheel(t *testing.T) {
	testenv.Program(t, "hermetic", "python3")
	e := newInstallEnv(t)
	victim := e.wheels[1]
	data := mustRead(t, victim)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(victim, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := e.run(t, e.wheels...)
	if err == nil {
		t.Fatalf("a tampered wheel was installed:\n%s", out)
	}
	if !strings.Contains(out, filepath.Base(victim)) || !strings.Contains(out, "wrong sha256") {
		t.Errorf("the error does not name the file and the hash:\n%s", out)
	}
	if _, err := os.Stat(e.target); !os.IsNotExist(err) {
		t.Error("something was installed before the check failed")
	}

	stranger, err := ipatest.BuildWheel(t.TempDir(), ipatest.WheelSpec{Name: "evil", Version: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	out, err = e.run(t, e.wheels[0], stranger)
	if err == nil || !strings.Contains(out, "evil-1.0-py3-none-any.whl is not in the lock's hash file") {
		t.Errorf("a wheel outside the lock: %v\n%s", err, out)
	}
}

// add builds more wheels into the environment and its hash file.
func (e *installEnv) add(t *testing.T, specs ...ipatest.WheelSpec) []string {
	t.Helper()
	dir := filepath.Dir(e.wheels[0])
	f, err := os.OpenFile(e.hashFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var paths []string
	for _, s := range specs {
		p, err := ipatest.BuildWheel(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "sha256  %s  %s\n", sha256File(t, p), filepath.Base(p))
		paths = append(paths, p)
	}
	return paths
}

// TestInstallScriptOverlaps: two hardware managers with the same pkgutil
// namespace __init__.py install side by side (and again, as a rebuild
// does); a third whose __init__.py differs stops the install before
// anything lands, naming both wheels, without a traceback.
func TestInstallScriptOverlaps(t *testing.T) {
	testenv.Program(t, "hermetic", "python3")
	e := newInstallEnv(t)
	ns := "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
	hwm := e.add(t,
		ipatest.WheelSpec{Name: "acme-hwm-raid", Version: "1.0", Files: map[string]string{"acme/__init__.py": ns, "acme/raid/__init__.py": "", "tests/__init__.py": "raid's"},
			Scripts: map[string]string{"acme-hwm": "acme.cli:main"}},
		ipatest.WheelSpec{Name: "acme-hwm-nic", Version: "1.0", Files: map[string]string{"acme/__init__.py": ns, "acme/nic/__init__.py": "", "tests/__init__.py": "nic's"},
			Scripts: map[string]string{"acme-hwm": "acme.cli:main"}},
	)
	wheels := append(append([]string{}, e.wheels...), hwm...)
	for _, run := range []string{"install", "reinstall"} {
		if out, err := e.run(t, wheels...); err != nil {
			t.Fatalf("%s with identical namespace files: %v\n%s", run, err, out)
		}
	}
	site := filepath.Join(e.target, "usr", "lib", "python3.14", "site-packages")
	for _, rel := range []string{"acme/raid/__init__.py", "acme/nic/__init__.py", "acme_hwm_raid/__init__.py", "acme_hwm_nic/__init__.py"} {
		if _, err := os.Stat(filepath.Join(site, rel)); err != nil {
			t.Errorf("not installed: %s", rel)
		}
	}
	if got := string(mustRead(t, filepath.Join(site, "acme", "__init__.py"))); got != ns {
		t.Errorf("acme/__init__.py: %q", got)
	}

	e.target = filepath.Join(t.TempDir(), "target")
	bmc := e.add(t, ipatest.WheelSpec{Name: "acme-hwm-bmc", Version: "1.0", Files: map[string]string{"acme/__init__.py": "from acme import raid\n"}})
	out, err := e.run(t, append(wheels, bmc...)...)
	if err == nil {
		t.Fatalf("different namespace files were installed:\n%s", out)
	}
	want := "acme_hwm_raid-1.0-py3-none-any.whl and acme_hwm_bmc-1.0-py3-none-any.whl both install usr/lib/python3.14/site-packages/acme/__init__.py with different contents"
	if !strings.Contains(out, want) || strings.Contains(out, "Traceback") {
		t.Errorf("the error does not name both wheels and the file (want %q):\n%s", want, out)
	}
	if _, err := os.Stat(e.target); !os.IsNotExist(err) {
		t.Error("something was installed before the check failed")
	}
	// Two scripts of one name with different entry points clash too.
	e.target = filepath.Join(t.TempDir(), "target")
	tool := e.add(t, ipatest.WheelSpec{Name: "acme-tool", Version: "1.0", Scripts: map[string]string{"acme-hwm": "acme_tool:main"}})
	if out, err := e.run(t, append(wheels, tool...)...); err == nil || !strings.Contains(out, "both install usr/bin/acme-hwm") {
		t.Errorf("two acme-hwm scripts: %v\n%s", err, out)
	}
}
