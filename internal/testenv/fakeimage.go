package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// FakeWheel is a wheel the stand-in ironic-python-agent package of
// BuildFakeImage installs: its files (path under site-packages → size in
// bytes; a "../../../bin/x" path is a script) and its manifest entry.
type FakeWheel struct {
	Name, Version, License string
	Files                  map[string]int
}

// FakeImagePackages are the packages BuildFakeImage builds.
const FakeImagePackages = "host-skeleton skeleton busybox linux openssl systemd util-linux python3 ironic-python-agent rootfs-cpio"

// FakeImageWheels are the wheels BuildFakeImage installs by default.
var FakeImageWheels = []FakeWheel{
	{Name: "ironic-python-agent", Version: "11.1.0", License: "Apache-2.0", Files: map[string]int{
		"ironic_python_agent/__init__.py": 200, "ironic_python_agent/agent.py": 90_000, "ironic_python_agent/agent.pyc": 70_000,
		"ironic_python_agent/hardware.py": 160_000, "../../../bin/ironic-python-agent": 300}},
	{Name: "cryptography", Version: "46.0.3", License: "Apache-2.0 OR BSD-3-Clause", Files: map[string]int{
		"cryptography/__init__.py": 500, "cryptography/hazmat/bindings/_rust.abi3.so": 420_000}},
	{Name: "oslo.config", Version: "10.0.0", License: "Apache Software License", Files: map[string]int{
		"oslo_config/cfg.py": 120_000, "oslo_config/types.py": 30_000}},
	{Name: "psutil", Version: "7.2.2", License: "BSD-3-Clause", Files: map[string]int{
		"psutil/__init__.py": 80_000, "psutil/_psutil_linux.abi3.so": 60_000}},
	{Name: "pbr", Version: "7.0.3", License: "Apache-2.0", Files: map[string]int{"pbr/version.py": 20_000}},
}

// BuildFakeImage builds an image with the fake Buildroot in dir (which
// must be empty): a copy of the fake, an external tree whose
// ironic-python-agent package stands in for the real one (it copies the
// wheels' files with their .dist-info into the target's site-packages and
// writes images/ipa-manifest.json as install-wheels.py does), configured
// with FakeImagePackages and built with `make all`. It returns the output
// directory, with Buildroot's build/packages-file-list.txt and
// build/build-time.log.
func BuildFakeImage(dir string, wheels []FakeWheel) (string, error) {
	top, ext, out := filepath.Join(dir, "buildroot"), filepath.Join(dir, "ext"), filepath.Join(dir, "output")
	if err := CopyFakeBuildroot(top); err != nil {
		return "", err
	}
	if err := MakeExternalTree(ext, "FAKEIPA", "Stand-in agent", map[string]string{
		"fakeipa_defconfig": "BR2_x86_64=y\nBR2_FAKE_PACKAGES=\"" + FakeImagePackages + "\"\n",
	}); err != nil {
		return "", err
	}
	mk := "# The agent's stand-in: its wheels' files and the manifest, made by the test.\n" +
		"define IRONIC_PYTHON_AGENT_INSTALL_TARGET_CMDS\n" +
		"\tcp -R $(BR2_EXTERNAL_FAKEIPA_PATH)/payload/. $(TARGET_DIR)/\n" +
		"\tmkdir -p $(BINARIES_DIR)\n" +
		"\tcp $(BR2_EXTERNAL_FAKEIPA_PATH)/ipa-manifest.json $(BINARIES_DIR)/\n" +
		"endef\n"
	if err := os.WriteFile(filepath.Join(ext, "external.mk"), []byte(mk), 0o644); err != nil {
		return "", err
	}
	if err := writeWheels(ext, wheels); err != nil {
		return "", err
	}
	env := append(os.Environ(), "BR2_DL_DIR="+filepath.Join(dir, "dl"), "BR2_CCACHE_DIR="+filepath.Join(dir, "ccache"))
	for _, goal := range []string{"fakeipa_defconfig", "all"} {
		cmd := exec.Command("make", "-s", "-C", top, "O="+out, "BR2_EXTERNAL="+ext, goal)
		cmd.Env = env
		if o, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("make %s: %v\n%s", goal, err, o)
		}
	}
	return out, nil
}

// writeWheels lays out ext/payload (the target files) and
// ext/ipa-manifest.json.
func writeWheels(ext string, wheels []FakeWheel) error {
	site := filepath.Join(ext, "payload", "usr", "lib", "python3.14", "site-packages")
	type entry struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Wheel   string `json:"wheel"`
		SHA256  string `json:"sha256"`
		License string `json:"license"`
	}
	var manifest []entry
	for i, w := range wheels {
		dist := strings.ReplaceAll(strings.ReplaceAll(w.Name, "-", "_"), ".", "_")
		info := dist + "-" + w.Version + ".dist-info"
		var record []string
		paths := make([]string, 0, len(w.Files))
		for p := range w.Files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			if err := writeSized(filepath.Join(site, p), w.Files[p]); err != nil {
				return err
			}
			// Buildroot compiles x.py to x.pyc after the install; the
			// RECORD lists the .py only.
			if !strings.HasSuffix(p, ".pyc") {
				record = append(record, fmt.Sprintf("%s,,%d", p, w.Files[p]))
			}
		}
		meta := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nLicense-Expression: %s\n", w.Name, w.Version, w.License)
		record = append(record, info+"/METADATA,,", info+"/RECORD,,")
		for name, content := range map[string]string{"METADATA": meta, "RECORD": strings.Join(record, "\n") + "\n"} {
			if err := os.MkdirAll(filepath.Join(site, info), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(site, info, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
		manifest = append(manifest, entry{Name: w.Name, Version: w.Version, License: w.License,
			Wheel: fmt.Sprintf("%s-%s-py3-none-any.whl", dist, w.Version), SHA256: fmt.Sprintf("%064x", i+1)})
	}
	sort.Slice(manifest, func(i, j int) bool { return strings.ToLower(manifest[i].Name) < strings.ToLower(manifest[j].Name) })
	data, err := json.MarshalIndent(map[string]any{"series": "2026.1", "python": "3.14", "packages": manifest}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(ext, "ipa-manifest.json"), append(data, '\n'), 0o644)
}

// writeSized writes n bytes of text.
func writeSized(path string, n int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strings.Repeat("#", n)), 0o644)
}

var fakeImage struct {
	once     sync.Once
	dir, out string
	err      error
}

// FakeImage is one BuildFakeImage with FakeImageWheels per test process,
// in a temporary directory that RemoveFakeImage (from TestMain) removes;
// it returns the output directory, which tests must not change.
func FakeImage(t testing.TB) string {
	t.Helper()
	Program(t, "hermetic", "make")
	fakeImage.once.Do(func() {
		if fakeImage.dir, fakeImage.err = os.MkdirTemp("", "ipabr-fake-image-"); fakeImage.err == nil {
			fakeImage.out, fakeImage.err = BuildFakeImage(fakeImage.dir, FakeImageWheels)
		}
	})
	if fakeImage.err != nil {
		t.Fatal(fakeImage.err)
	}
	return fakeImage.out
}

// RemoveFakeImage removes what FakeImage built.
func RemoveFakeImage() {
	if fakeImage.dir != "" {
		os.RemoveAll(fakeImage.dir)
	}
}
