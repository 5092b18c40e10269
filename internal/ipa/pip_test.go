package ipa_test

// The lock with the pips people have: releases of pip unpacked from a git
// repository of pypa/pip (IPABR_TEST_PIP_REPO), run by the host's python3
// against the stand-in OpenStack on 127.0.0.1.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/ipa/ipatest"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/testenv"
)

// pipTable are the pips of common hosts, and whether ipabr refuses them:
// RHEL 9 (21.2), Ubuntu 22.04 (22.0), RHEL 9's python3.11-pip (22.3),
// Debian 12 (23.0), then newer releases. The newest release of the
// repository is tried too.
var pipTable = []struct {
	release string
	refused bool
}{
	{"21.2.4", true}, {"22.0.2", true}, {"22.2", false}, {"22.3.1", false},
	{"23.0.1", false}, {"24.0", false}, {"25.0", false},
}

// isolatePip keeps pip's cache and configuration inside the test.
func isolatePip(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
}

func TestPipReleases(t *testing.T) {
	releases := ipatest.PipReleases(t)
	testenv.Program(t, "pip", "python3")
	isolatePip(t)
	o := ipatest.New(t)
	table := append(pipTable[:len(pipTable):len(pipTable)], struct {
		release string
		refused bool
	}{releases[len(releases)-1], false})
	have := map[string]bool{}
	for _, r := range releases {
		have[r] = true
	}
	for _, row := range table {
		if !have[row.release] {
			t.Fatalf("%s has no tag %s", ipatest.PipRepoEnv, row.release)
		}
		py := ipatest.Interpreter(t, ipatest.PipSource(t, row.release))
		opts := options(o, "2026.1")
		opts.Python = py
		requests := o.Git.Requests()
		l, err := ipa.MakeLock(context.Background(), opts)
		var old *ipa.PipTooOldError
		switch {
		case row.refused && !errors.As(err, &old):
			t.Errorf("pip %s: %v, want it refused as too old", row.release, err)
		case row.refused:
			for _, want := range []string{"pip " + row.release + " of " + py + " is too old", "needs pip 22.2 or newer", "--python"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("pip %s: the message lacks %q: %v", row.release, want, err)
				}
			}
			if o.Git.Requests() != requests {
				t.Errorf("pip %s: the repositories were asked before pip was checked", row.release)
			}
			first, _, _ := strings.Cut(err.Error(), ". ")
			t.Logf("pip %-7s → refused: %s", row.release, strings.Replace(first, py, "python3", 1))
		case err != nil:
			t.Errorf("pip %s: %v", row.release, err)
		default:
			checkSeries(t, o, l, "2026.1")
			t.Logf("pip %-7s → locked ironic-python-agent %s and %d more wheels", row.release, l.IPAVersion, len(l.Wheels)-1)
		}
	}
}

// TestCheckPipInterpreters: an interpreter without pip, and one that does
// not exist, are named in the error.
func TestCheckPipInterpreters(t *testing.T) {
	py := testenv.Program(t, "hermetic", "python3")
	venv := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command(py, "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		testenv.Skip(t, "hermetic", "python3 cannot make a virtual environment: "+strings.TrimSpace(string(out)))
	}
	bare := filepath.Join(venv, "bin", "python3")
	_, err := ipa.CheckPip(context.Background(), process.OS{}, bare)
	var np *ipa.NoPipError
	if !errors.As(err, &np) || !strings.Contains(err.Error(), "pip is not installed for "+bare) {
		t.Errorf("an interpreter without pip: %v", err)
	}
	_, err = ipa.CheckPip(context.Background(), process.OS{}, "/nonexistent/python3")
	if err == nil || !strings.Contains(err.Error(), "cannot run /nonexistent/python3") {
		t.Errorf("a missing interpreter: %v", err)
	}
	info, err := ipa.CheckPip(context.Background(), process.OS{}, "")
	if err == nil && (info.Python != "python3" || info.Version == "" || info.Host == "") {
		t.Errorf("the host's pip: %+v", info)
	}
}

// TestPipRequiresPython: a source whose Requires-Python excludes the
// host's Python locks with pip 24.2 and newer, which check the image's
// Python; pip 24.0 checks the host's, and ipabr says so with the fix.
func TestPipRequiresPython(t *testing.T) {
	releases := ipatest.PipReleases(t)
	testenv.Program(t, "pip", "python3")
	isolatePip(t)
	o := ipatest.New(t)
	opts, host := notForTheHost(t, o)

	opts.Python = ipatest.Interpreter(t, ipatest.PipSource(t, "24.0"))
	_, err := ipa.MakeLock(context.Background(), opts)
	var rp *ipa.RequiresPythonError
	if !errors.As(err, &rp) || !rp.HostOnly || !strings.HasPrefix(rp.Checked, host+".") || rp.Spec != "!="+host+".*" {
		t.Fatalf("pip 24.0: %v, want the host-only Requires-Python error", err)
	}
	for _, want := range []string{"ironic-python-agent requires Python !=" + host + ".*", "instead of the image's 3.14", "pip before 24.2", "--upgrade pip"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("pip 24.0: the message lacks %q: %v", want, err)
		}
	}

	newest := releases[len(releases)-1]
	opts.Python = ipatest.Interpreter(t, ipatest.PipSource(t, newest))
	l, err := ipa.MakeLock(context.Background(), opts)
	if err != nil {
		t.Fatalf("pip %s: %v", newest, err)
	}
	if agent := byName(l)["ironic-python-agent"]; agent.Version != "11.0.2.dev2" || !strings.Contains(string(agent.Local), "Requires-Python: !="+host+".*") {
		t.Errorf("pip %s: IPA %s, built without the source's Requires-Python", newest, agent.Version)
	}
}

// freezeMarkers makes the packaging vendored in a pip source evaluate
// markers with the environment default_environment gave at import, the way
// a packaging that caches it would: replacing the function afterwards
// changes nothing.
func freezeMarkers(t *testing.T, pipDir string) {
	t.Helper()
	path := filepath.Join(pipDir, "pip", "_vendor", "packaging", "markers.py")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	i := strings.Index(src, "    def evaluate(")
	j := strings.Index(src[max(i, 0):], "default_environment()")
	if i < 0 || j < 0 {
		t.Fatalf("%s: no Marker.evaluate calling default_environment()", path)
	}
	src = src[:i+j] + "_frozen_environment()" + src[i+j+len("default_environment()"):] + "\n_frozen_environment = default_environment\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPipShimChecksItself: with a pip whose markers no longer ask
// default_environment(), the lock fails loudly instead of resolving
// tenacity's dependency backports.strenum; python_version < "3.12" for the
// host.
func TestPipShimChecksItself(t *testing.T) {
	releases := ipatest.PipReleases(t)
	testenv.Program(t, "pip", "python3")
	isolatePip(t)
	newest := releases[len(releases)-1]
	dir := ipatest.PipSource(t, newest)
	freezeMarkers(t, dir)
	o := ipatest.New(t)
	opts := options(o, "2026.1")
	opts.Python = ipatest.Interpreter(t, dir)
	l, err := ipa.MakeLock(context.Background(), opts)
	if err == nil {
		_, hostDeps := byName(l)["backports-strenum"]
		t.Fatalf("pip %s with frozen markers locked (backports.strenum for the host's Python in the lock: %v)", newest, hostDeps)
	}
	for _, want := range []string{"evaluates markers without packaging.markers.default_environment", "resolved for the host's Python", "--python"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}
