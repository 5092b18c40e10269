//go:build unix

package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// buildTimeLine is a line of Buildroot's build/build-time.log (the
// step_time hook of package/pkg-generic.mk).
var buildTimeLine = regexp.MustCompile(`^[0-9]+\.[0-9]{9}:(start|end  ):([a-z-]{1,20}) *: (\S+)$`)

// The fake's build writes build-time.log and packages-file-list.txt in
// Buildroot's formats: every step of every package timed, and every target
// file a package installed listed under its name, the overlay's not.
func TestFakeBuildInstrumentation(t *testing.T) {
	e := newFakeEnv(t)
	overlay := filepath.Join(t.TempDir(), "overlay")
	if err := os.MkdirAll(filepath.Join(overlay, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(overlay, "etc", "motd"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.configure("--set-str", "BR2_ROOTFS_OVERLAY", overlay)
	e.mustMake("-s")

	steps := map[string][]string{}
	for _, line := range lines(e.read(e.path("build/build-time.log"))) {
		m := buildTimeLine.FindStringSubmatch(line)
		if m == nil || len(line) != strings.Index(line, ":")+1+5+1+20+2+len(m[3]) {
			t.Fatalf("build-time.log line %q is not in Buildroot's format", line)
		}
		steps[m[3]] = append(steps[m[3]], strings.TrimSpace(m[1])+" "+m[2])
	}
	want := map[string][]string{
		"host-skeleton": {"download", "extract", "patch", "configure", "build", "install-host"},
		"busybox":       {"download", "extract", "patch", "configure", "build", "install-target"},
		"python3":       {"download", "extract", "patch", "configure", "build", "install-staging", "install-target"},
		"linux":         {"download", "extract", "patch", "configure", "build", "install-target", "install-image"},
	}
	for pkg, ss := range want {
		var w []string
		for _, s := range ss {
			w = append(w, "start "+s, "end "+s)
		}
		if !slices.Equal(steps[pkg], w) {
			t.Errorf("%s steps %q, want %q", pkg, steps[pkg], w)
		}
	}

	list := lines(e.read(e.path("build/packages-file-list.txt")))
	for _, pkg := range []string{"busybox", "linux", "python3", "skeleton"} {
		for _, f := range []string{"./usr/share/fake/" + pkg, "./usr/lib/fake/" + pkg + ".so"} {
			if !slices.Contains(list, pkg+","+f) {
				t.Errorf("packages-file-list.txt lacks %s,%s:\n%s", pkg, f, strings.Join(list, "\n"))
			}
		}
	}
	if len(list) != 8 || slices.ContainsFunc(list, func(l string) bool { return strings.Contains(l, "motd") || strings.HasPrefix(l, "host-") }) {
		t.Errorf("packages-file-list.txt lists more than the packages' target files:\n%s", strings.Join(list, "\n"))
	}
	if fi, err := os.Stat(e.path("target/usr/lib/fake/python3.so")); err != nil || fi.Size() != 1536<<10 {
		t.Errorf("python3's payload: %v %v", fi, err)
	}

	// A rebuild times the package again.
	e.mustMake("-s", "busybox-rebuild")
	n := strings.Count(e.read(e.path("build/build-time.log")), ":start:build               : busybox\n")
	if n != 2 {
		t.Errorf("busybox built %d times in build-time.log, want 2", n)
	}
}

// BuildFakeImage's agent stand-in lands in the target, the file list and
// the images, as the real package's install does.
func TestBuildFakeImage(t *testing.T) {
	out, err := BuildFakeImage(t.TempDir(), FakeImageWheels)
	if err != nil {
		t.Fatal(err)
	}
	site := "usr/lib/python3.14/site-packages/"
	list, err := os.ReadFile(filepath.Join(out, "build", "packages-file-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ironic-python-agent,./" + site + "cryptography/hazmat/bindings/_rust.abi3.so",
		"ironic-python-agent,./" + site + "oslo_config-10.0.0.dist-info/RECORD",
		"ironic-python-agent,./usr/bin/ironic-python-agent",
		"systemd,./usr/lib/fake/systemd.so",
	} {
		if !slices.Contains(lines(string(list)), want) {
			t.Errorf("packages-file-list.txt lacks %s", want)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(out, "images", "ipa-manifest.json"))
	if err != nil || !strings.Contains(string(manifest), `"name": "oslo.config"`) || !strings.Contains(string(manifest), `"series": "2026.1"`) {
		t.Errorf("images/ipa-manifest.json: %v\n%s", err, manifest)
	}
	record, err := os.ReadFile(filepath.Join(out, "target", site, "psutil-7.2.2.dist-info", "RECORD"))
	if err != nil || !strings.Contains(string(record), "psutil/_psutil_linux.abi3.so,,60000\n") {
		t.Errorf("psutil's RECORD: %v\n%s", err, record)
	}
}

// Real Buildroot's step_time hook (package/pkg-generic.mk at the pin), run
// on its own, writes lines of the shape the fake's build writes.
func TestFakeBuildTimeConformance(t *testing.T) {
	top := UpstreamCheckout(t)
	src, err := os.ReadFile(filepath.Join(top, "package", "pkg-generic.mk"))
	if err != nil {
		t.Fatal(err)
	}
	hook := regexp.MustCompile(`(?s)define step_time\n.*?\nendef\n`).Find(src)
	if hook == nil {
		t.Fatal("no step_time hook in Buildroot's package/pkg-generic.mk")
	}
	dir := t.TempDir()
	mk := filepath.Join(dir, "hook.mk")
	if err := os.WriteFile(mk, append(hook, "all:\n\t@$(call step_time,start,install-staging,host-python-installer)\n\t@$(call step_time,end,build,busybox)\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runMake(t, makeEnviron(), "-s", "-f", mk, "BUILD_DIR="+dir); r.Code != 0 {
		t.Fatal(r)
	}
	data, err := os.ReadFile(filepath.Join(dir, "build-time.log"))
	if err != nil {
		t.Fatal(err)
	}
	real := lines(string(data))
	if len(real) != 2 {
		t.Fatalf("real hook wrote %q", real)
	}
	for _, line := range real {
		m := buildTimeLine.FindStringSubmatch(line)
		if m == nil || len(line) != strings.Index(line, ":")+1+5+1+20+2+len(m[3]) {
			t.Errorf("real Buildroot's line %q does not have the shape the fake's test expects", line)
		}
	}
}
