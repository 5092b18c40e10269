package ipa

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/testenv"
)

// The package's make code and ipabr share three rules: which series names
// are valid, the command that makes a lock, and the goals that need one.
// These tests read the make code's answers with real make, the package's
// makefile included by a stand-in for the few things Buildroot defines.

// packageMakefile is the package's make code with Buildroot's helpers, a
// configuration from the environment (taken verbatim with $(value ...))
// and PKGDIR as the package directory; it prints NAME=VALUE for each of
// PRINT's variables.
const packageMakefile = `
comma := ,
qstrip = $(strip $(subst ",,$(1)))
generic-package =
BR2_PACKAGE_IRONIC_PYTHON_AGENT = y
BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES = "$(value SERIES)"
BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS = "$(value EXTRA)"
BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_URL = "$(value GIT_URL)"
BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_REF = "$(value GIT_REF)"
IRONIC_PYTHON_AGENT_PKGDIR = $(value PKGDIR)
include $(value MKFILE)
$(foreach v,$(PRINT),$(info $(v)=$($(v))))
print: ; @:
`

// packageVars evaluates the package's make code for a configuration.
func packageVars(t *testing.T, pkgdir string, env map[string]string, names ...string) map[string]string {
	t.Helper()
	testenv.Program(t, "hermetic", "make")
	dir := t.TempDir()
	mk := filepath.Join(dir, "Makefile")
	if err := os.WriteFile(mk, []byte(packageMakefile), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs(filepath.Join("..", "..", "buildroot-ipa", "package", Package, Package+".mk"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "-s", "--no-print-directory", "-f", mk, "print")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "MKFILE=" + src, "PKGDIR=" + pkgdir, "PRINT=" + strings.Join(names, " ")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	return vars
}

func TestSeriesRuleMatchesMake(t *testing.T) {
	names := []string{
		"2026.1", "2025.2", "master", "zed", "2026.1-em", "0", strings.Repeat("a", 32),
		"", "..", "../2026.1", "a/b", "stable/2026.1", "2026.1;id", "2026.1 master", "Master", ".hidden", "-x",
		"2026..1", "a'b", "2026.1#", "a_b", "a:b", strings.Repeat("a", 33), strings.Repeat("1.", 20),
	}
	for _, name := range names {
		bad := packageVars(t, t.TempDir(), map[string]string{"SERIES": name}, "IRONIC_PYTHON_AGENT_SERIES_BAD")["IRONIC_PYTHON_AGENT_SERIES_BAD"] != ""
		if goBad := ValidateSeries(name) != nil; goBad != bad {
			t.Errorf("series %q: ipabr refuses it: %v, the package's make code: %v", name, goBad, bad)
		}
	}
}

func TestBuildGoalsMatchMake(t *testing.T) {
	v := packageVars(t, t.TempDir(), map[string]string{"SERIES": "2026.1"}, "IRONIC_PYTHON_AGENT_BUILD_GOALS")
	mk := strings.Fields(v["IRONIC_PYTHON_AGENT_BUILD_GOALS"])
	if !slices.Equal(mk, BuildGoals) {
		t.Errorf("the package's make code stops %q without a lock, ipabr makes one before %q", mk, BuildGoals)
	}
	for goals, want := range map[string]bool{
		"": true, "all": true, "source": true, "rootfs-cpio": true, "target-finalize": true, "ironic-python-agent-rebuild all": true,
		"linux-rebuild": false, "show-info": false, "ironic-python-agent-show-depends": false, "savedefconfig": false,
	} {
		if got := NeedsLock(strings.Fields(goals)); got != want {
			t.Errorf("NeedsLock(%q) = %v, want %v", goals, got, want)
		}
	}
}

func TestLockCommandMatchesMake(t *testing.T) {
	cases := []struct {
		series, url, ref string
		extras           []string
	}{
		{"2026.1", "", "", nil},
		{"master", "https://review.opendev.org/openstack/ironic-python-agent", "refs/changes/45/123445/3", nil},
		{"2026.1", "", "", []string{"my-hardware-manager>=1.0", "hwm;sys_platform!=win32", "hwm[x]==1"}},
		{"master", "git@github.com:me/ipa.git", "my-branch", []string{"a", "b"}},
	}
	const cmdVar = "IRONIC_PYTHON_AGENT_LOCK_CMD"
	for _, c := range cases {
		env := map[string]string{"SERIES": c.series, "GIT_URL": c.url, "GIT_REF": c.ref, "EXTRA": strings.Join(c.extras, " ")}
		// Without a lock.
		got := packageVars(t, t.TempDir(), env, cmdVar)[cmdVar]
		if want := ConfiguredLockCommand(c.series, c.url, c.ref, c.extras, nil); got != want {
			t.Errorf("no lock:\nmake:  %s\nipabr: %s", got, want)
		}
		// With a lock that has other extras and a requested release.
		external := t.TempDir()
		if err := os.MkdirAll(PackageDir(external), 0o755); err != nil {
			t.Fatal(err)
		}
		lock := &Lock{Series: c.series, Created: time.Now(), Target: Target{Python: "3.14", Glibc: "2.42"}, Index: "https://pypi.org/simple",
			IPAVersion: "11.0.1", IPARequested: "11.0.1", Extras: []string{"other-manager>=2"}, GitURL: c.url, GitRef: c.ref,
			Wheels: []Wheel{{Name: Package, Version: "11.0.1", Filename: "ironic_python_agent-11.0.1-py3-none-any.whl",
				URL: "https://files.example/ironic_python_agent-11.0.1-py3-none-any.whl", SHA256: strings.Repeat("a", 64), Size: 1, License: "Apache-2.0"}}}
		if err := lock.Write(external); err != nil {
			t.Fatal(err)
		}
		got = packageVars(t, PackageDir(external), env, cmdVar)[cmdVar]
		if want := ConfiguredLockCommand(c.series, c.url, c.ref, c.extras, lock); got != want {
			t.Errorf("with a lock:\nmake:  %s\nipabr: %s", got, want)
		}
	}
}
