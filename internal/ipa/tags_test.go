package ipa_test

// Which wheels fit the image: Target.Compatible against the tags pip
// itself accepts for it, and the ABI pip is given against a free-threaded
// host's.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/ipa/ipatest"
	"github.com/ipabr/ipabr/internal/testenv"
)

// pipTags are the tags `pip debug --verbose` lists as compatible for the
// image: CPython 3.14 with the target's platforms, and --abi cp314 unless
// abi is false.
func pipTags(t *testing.T, python string, tg ipa.Target, abi bool) map[string]bool {
	t.Helper()
	args := []string{"-m", "pip", "debug", "--verbose", "--isolated", "--python-version", tg.Python, "--implementation", "cp"}
	if abi {
		args = append(args, "--abi", tg.ABI())
	}
	for _, p := range tg.Platforms() {
		args = append(args, "--platform", p)
	}
	out, err := exec.Command(python, args...).Output()
	if err != nil {
		t.Fatalf("pip debug: %v", err)
	}
	_, list, ok := strings.Cut(string(out), "Compatible tags:")
	if !ok {
		t.Fatalf("pip debug lists no compatible tags:\n%s", out)
	}
	tags := map[string]bool{}
	for _, line := range strings.Split(list, "\n")[1:] {
		if tag := strings.TrimSpace(line); strings.Count(tag, "-") == 2 {
			tags[tag] = true
		}
	}
	if len(tags) < 100 {
		t.Fatalf("pip debug listed %d tags", len(tags))
	}
	return tags
}

func TestCompatibleAsPip(t *testing.T) {
	needPip(t)
	tg := ipa.Target{Python: "3.14", Glibc: "2.42"}
	accepted := pipTags(t, "python3", tg, true)
	var pys = []string{"py3", "py2", "py2.py3", "py30", "py313", "py314", "py315", "cp3", "cp31", "cp32", "cp36", "cp313", "cp314", "cp315", "pp310", "cp36.cp314"}
	var abis = []string{"none", "abi3", "cp314", "cp313", "cp314t", "cp36m", "abi3.none"}
	var plats = []string{"any", "manylinux_2_17_x86_64", "manylinux_2_42_x86_64", "manylinux_2_43_x86_64", "manylinux2014_x86_64",
		"manylinux1_x86_64", "musllinux_1_2_x86_64", "linux_x86_64", "manylinux_2_17_aarch64", "win_amd64",
		"manylinux_2_17_x86_64.manylinux2014_x86_64", "musllinux_1_1_x86_64.manylinux_2_28_x86_64"}
	checked := 0
	for _, py := range pys {
		for _, abi := range abis {
			for _, plat := range plats {
				want := false
				for _, p := range strings.Split(py, ".") {
					for _, a := range strings.Split(abi, ".") {
						for _, pl := range strings.Split(plat, ".") {
							want = want || accepted[p+"-"+a+"-"+pl]
						}
					}
				}
				file := "x-1.0-" + py + "-" + abi + "-" + plat + ".whl"
				if got := tg.Compatible(file); got != want {
					t.Errorf("Compatible(%s) = %v, pip says %v", file, got, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d wheel names agree with pip's %d tags", checked, len(accepted))
}

// freeThreaded is a sitecustomize that makes the host's CPython report a
// free-threaded build (Py_GIL_DISABLED, as python3.14t does) to what reads
// its build configuration, pip's tags among them.
const freeThreaded = `import sysconfig
_get = sysconfig.get_config_var
def _free_threaded(name):
    return 1 if name == "Py_GIL_DISABLED" else _get(name)
sysconfig.get_config_var = _free_threaded
`

// TestLockFreeThreadedHost: the newest pip on a free-threaded host takes
// the host's ABI (cp314t) without --abi and rejects the image's cp314 and
// abi3 wheels; the lock passes the image's ABI and gets them.
func TestLockFreeThreadedHost(t *testing.T) {
	releases := ipatest.PipReleases(t)
	testenv.Program(t, "pip", "python3")
	isolatePip(t)
	newest := releases[len(releases)-1]
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "sitecustomize.py"), []byte(freeThreaded), 0o644); err != nil {
		t.Fatal(err)
	}
	py := ipatest.Interpreter(t, site, ipatest.PipSource(t, newest))
	host := pipTags(t, py, target, false)
	for _, tag := range []string{"cp314-cp314-manylinux_2_36_x86_64", "cp39-abi3-manylinux_2_28_x86_64"} {
		if host[tag] {
			t.Fatalf("pip %s on the simulated free-threaded host accepts %s without --abi: the simulation does not work", newest, tag)
		}
	}
	if !host["cp314-cp314t-manylinux_2_36_x86_64"] {
		t.Fatalf("pip %s on the simulated free-threaded host does not take cp314t", newest)
	}
	image := pipTags(t, py, target, true)
	for _, tag := range []string{"cp314-cp314-manylinux_2_36_x86_64", "cp39-abi3-manylinux_2_28_x86_64", "py3-none-any"} {
		if !image[tag] {
			t.Errorf("pip %s with --abi %s rejects %s", newest, target.ABI(), tag)
		}
	}

	o := ipatest.New(t)
	opts := options(o, "2026.1")
	opts.Python = py
	l, err := ipa.MakeLock(context.Background(), opts)
	if err != nil {
		t.Fatalf("pip %s on a free-threaded host: %v", newest, err)
	}
	checkSeries(t, o, l, "2026.1")
	w := byName(l)
	for name, tag := range map[string]string{"zeroconf": "-cp314-cp314-", "psutil": "-cp36-abi3-", "cryptography": "-cp39-abi3-", "pbr": "-py3-none-any"} {
		if !strings.Contains(w[name].Filename, tag) {
			t.Errorf("%s: %s, want a %s wheel", name, w[name].Filename, tag)
		}
	}
	t.Logf("pip %s on a free-threaded host: without --abi cp314 and abi3 are rejected; the lock (--abi %s) has %d wheels", newest, target.ABI(), len(l.Wheels))
}
