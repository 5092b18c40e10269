package buildroot_test

// Tests of the BR2_EXTERNAL tree (buildroot-ipa/): the image definition
// (doc/image.md). Three tiers live here (CONTRIBUTING.md, "Tests"):
//
//   - hermetic, always: the committed defconfig's layout, the rootfs overlay,
//     and the board scripts run for real on fake target/images directories;
//     shellcheck on the scripts when it is installed (tier "lint").
//   - upstream, when IPABR_TEST_BUILDROOT names a Buildroot git repository:
//     a shallow checkout of the pinned tag made once per test binary, one
//     output directory with the defconfig loaded (so kconfig's host tools are
//     built once), then list-defconfigs, the savedefconfig round trip,
//     show-info, check-package and the Bootlin toolchain switch.
//   - kernel, when IPABR_TEST_LINUX_SRC names a kernel source tree: the
//     kernel fragment merged onto x86_64_defconfig keeps every symbol.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/testenv"
)

const (
	// The Buildroot release the tree targets (the submodule's pin).
	buildrootTag = "2026.02.3"
	// The kernel the defconfig pins, and the toolchain headers with it.
	kernelVersion = "6.18.33"
	defconfigName = "openstack_ipa_defconfig"
)

// sharedDir holds what the upstream tier builds once per test binary: the
// Buildroot checkout and the output directory with the defconfig loaded.
var sharedDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ipabr-externaltree-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the project root: the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func externalDir(t testing.TB) string { return filepath.Join(repoRoot(t), "buildroot-ipa") }
func boardDir(t testing.TB) string {
	return filepath.Join(externalDir(t), "board", "openstack", "ipa")
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode obeys the umask
		t.Fatal(err)
	}
}

func mode(t testing.TB, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// ---------------------------------------------------------------------------
// Hermetic: the committed files.

// TestDefconfigLayout checks, without Buildroot, what the defconfig must say
// about this tree: overlays in order, the scripts, fragments and hash files
// it names exist, caches only as a fallback inside the project.
func TestDefconfigLayout(t *testing.T) {
	ext := externalDir(t)
	cfg, err := buildroot.ReadConfigFile(filepath.Join(ext, "configs", defconfigName))
	if err != nil {
		t.Fatal(err)
	}
	const ipa = "$(BR2_EXTERNAL_IPA_PATH)"
	resolve := func(p string) string { return strings.ReplaceAll(p, ipa, ext) }

	overlays := strings.Fields(cfg.Values["BR2_ROOTFS_OVERLAY"])
	wantOverlays := []string{ipa + "/board/openstack/ipa/rootfs-overlay", ipa + "/../overlay"}
	if strings.Join(overlays, " ") != strings.Join(wantOverlays, " ") {
		t.Errorf("BR2_ROOTFS_OVERLAY = %q, want board overlay then user overlay %q", overlays, wantOverlays)
	}
	for _, o := range overlays {
		if fi, err := os.Stat(resolve(o)); err != nil || !fi.IsDir() {
			t.Errorf("overlay %s is not a directory", o)
		}
	}

	scripts := map[string]string{
		"BR2_ROOTFS_POST_BUILD_SCRIPT":    "post-build.sh",
		"BR2_ROOTFS_POST_FAKEROOT_SCRIPT": "post-fakeroot.sh",
		"BR2_ROOTFS_POST_IMAGE_SCRIPT":    "post-image.sh",
	}
	for sym, name := range scripts {
		want := ipa + "/board/openstack/ipa/" + name
		if got := cfg.Values[sym]; got != want {
			t.Errorf("%s = %q, want only the board's script %q (it runs the user's)", sym, got, want)
			continue
		}
		if fi, err := os.Stat(resolve(want)); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s: %s is missing or not executable", sym, name)
		}
	}

	for _, sym := range []string{
		"BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES",
		"BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES",
		"BR2_TARGET_ROOTFS_ISO9660_BOOT_MENU",
		"BR2_TARGET_GRUB2_BUILTIN_CONFIG_EFI",
	} {
		v := cfg.Values[sym]
		if !strings.HasPrefix(v, ipa+"/") {
			t.Errorf("%s = %q, want a file of this tree", sym, v)
			continue
		}
		if _, err := os.Stat(resolve(v)); err != nil {
			t.Errorf("%s: %v", sym, err)
		}
	}

	// Caches: ipabr's environment (BR2_DL_DIR, BR2_CCACHE_DIR) wins; the
	// defconfig's values are the project's own dl/ and ccache/ so that a
	// plain make never writes into the buildroot submodule or $HOME.
	if got := cfg.Values["BR2_DL_DIR"]; got != ipa+"/../dl" {
		t.Errorf("BR2_DL_DIR = %q", got)
	}
	if got := cfg.Values["BR2_CCACHE_DIR"]; got != ipa+"/../ccache" || cfg.Values["BR2_CCACHE"] != "y" {
		t.Errorf("BR2_CCACHE = %q, BR2_CCACHE_DIR = %q", cfg.Values["BR2_CCACHE"], got)
	}

	// The pinned kernel: a custom version, hash-checked through the global
	// patch directory (Buildroot has no hash file for it by version).
	if cfg.Values["BR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE"] != kernelVersion {
		t.Errorf("kernel version = %q, want %s", cfg.Values["BR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE"], kernelVersion)
	}
	if cfg.Values["BR2_DOWNLOAD_FORCE_CHECK_HASHES"] != "y" {
		t.Error("BR2_DOWNLOAD_FORCE_CHECK_HASHES is not set")
	}
	patchDir := resolve(cfg.Values["BR2_GLOBAL_PATCH_DIR"])
	tarball := "linux-" + kernelVersion + ".tar.xz"
	for _, f := range []string{"linux/linux.hash", "linux-headers/linux-headers.hash"} {
		if !hashFileHas(t, filepath.Join(patchDir, f), tarball) {
			t.Errorf("%s has no sha256 for %s", f, tarball)
		}
	}
	// The agent (doc/ipa.md): its package, with the series left to the
	// package's default (the newest series with a lock in the tree).
	if cfg.Values["BR2_PACKAGE_IRONIC_PYTHON_AGENT"] != "y" {
		t.Error("BR2_PACKAGE_IRONIC_PYTHON_AGENT is not enabled")
	}
}

var sha256Line = regexp.MustCompile(`^sha256\s+([0-9a-f]{64})\s+(\S+)$`)

// hashFileHas reports whether a Buildroot .hash file has a sha256 for name.
func hashFileHas(t testing.TB, path, name string) bool {
	t.Helper()
	_, ok := hashOf(t, path, name)
	return ok
}

func hashOf(t testing.TB, path, name string) (string, bool) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(readFile(t, path)))
	for sc.Scan() {
		if m := sha256Line.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil && m[2] == name {
			return m[1], true
		}
	}
	return "", false
}

// TestRootfsOverlay checks the board overlay's units and drop-ins say what
// the image relies on.
func TestRootfsOverlay(t *testing.T) {
	ov := filepath.Join(boardDir(t), "rootfs-overlay")
	has := func(rel string, want ...string) {
		t.Helper()
		text := readFile(t, filepath.Join(ov, rel))
		for _, w := range want {
			if !regexp.MustCompile(`(?m)^` + w + `$`).MatchString(text) {
				t.Errorf("%s: no line matching %q", rel, w)
			}
		}
	}
	has("usr/lib/systemd/system/ironic-python-agent.service",
		`After=network-online\.target`,
		`Wants=network-online\.target`,
		`ExecStart=/usr/bin/ironic-python-agent --config-dir /etc/ironic-python-agent\.d/`,
		`Restart=always`,
		`RestartSec=\d+s?`,
		`WantedBy=multi-user\.target`)
	has("usr/lib/systemd/system-preset/70-ipa.preset",
		`enable ironic-python-agent\.service`,
		`enable ipa-ldconfig\.service`,
		`enable ipa-rescue\.path`,
		`disable chrony\.service`,
		`enable getty@\.service tty1`)
	// Ports are matched by type: biosdevname names them em1, p1p2 on Dell
	// and HPE servers (TestWiredNetworkMatchesEveryPortName runs networkd).
	has("etc/systemd/network/99-ipa-wired.network",
		`Type=ether`,
		`DHCP=yes`)
	if regexp.MustCompile(`(?m)^Name=`).MatchString(readFile(t, filepath.Join(ov, "etc/systemd/network/99-ipa-wired.network"))) {
		t.Error("99-ipa-wired.network matches by name; ports can have any name")
	}
	// The config drive's network_data.json, converted before networkd starts
	// (internal/network tests the converter), and the kernel command line's
	// ip=, vlan=, bond= (systemd's generator).
	has("usr/lib/systemd/system/ipa-network-data.service",
		`Before=network-pre\.target systemd-networkd\.service`,
		`After=systemd-udevd\.service systemd-udev-trigger\.service`,
		`ExecStart=/usr/libexec/ipa-network-data apply`,
		`StandardError=journal\+console`,
		`WantedBy=sysinit\.target`)
	has("usr/lib/systemd/system-preset/70-ipa.preset",
		`enable ipa-network-data\.service`,
		`enable systemd-network-generator\.service`)
	if fi, err := os.Stat(filepath.Join(ov, "usr/libexec/ipa-network-data")); err != nil || fi.Mode()&0o111 == 0 {
		t.Error("usr/libexec/ipa-network-data is missing or not executable")
	}
	has("etc/systemd/journald.conf.d/ipa.conf",
		`Storage=volatile`,
		`RuntimeMaxUse=\d+[KMG]`)
	has("etc/systemd/system/systemd-networkd-wait-online.service.d/ipa-any.conf",
		`ExecStart=`,
		`ExecStart=\S+/systemd-networkd-wait-online --any`)
	if fi, err := os.Stat(filepath.Join(ov, "etc/ironic-python-agent.d")); err != nil || !fi.IsDir() {
		t.Error("etc/ironic-python-agent.d/ is missing from the overlay")
	}

	// sshd keeps the first value it reads: the drop-ins must be included
	// before the file's own PermitRootLogin for post-build.sh's to win.
	sshd := readFile(t, filepath.Join(ov, "etc/ssh/sshd_config"))
	inc := regexp.MustCompile(`(?m)^Include /etc/ssh/sshd_config\.d/\*\.conf$`).FindStringIndex(sshd)
	prl := regexp.MustCompile(`(?m)^PermitRootLogin no$`).FindStringIndex(sshd)
	if inc == nil || prl == nil || inc[0] > prl[0] {
		t.Errorf("sshd_config must include sshd_config.d/*.conf before \"PermitRootLogin no\"")
	}
	if strings.Contains(readFile(t, filepath.Join(ov, "etc/ssh/sshd_config.d/10-ipa.conf")), "PermitRootLogin") {
		t.Error("the board's sshd drop-in must leave PermitRootLogin to sshd_config and post-build.sh")
	}
}

// ---------------------------------------------------------------------------
// Hermetic: the board scripts, run for real.

// project lays out a fake project root the way the scripts find it: the
// board scripts under buildroot-ipa/, the tracked overlay README, and an
// optional scripts/ directory for the user's hooks.
type project struct {
	root, external, board string
}

func newProject(t *testing.T) *project {
	t.Helper()
	root := t.TempDir()
	p := &project{root: root, external: filepath.Join(root, "buildroot-ipa")}
	p.board = filepath.Join(p.external, "board", "openstack", "ipa")
	for _, s := range []string{"post-build.sh", "post-fakeroot.sh", "post-image.sh", "hooks.sh"} {
		writeFile(t, filepath.Join(p.board, s), readFile(t, filepath.Join(boardDir(t), s)), 0o755)
	}
	writeFile(t, filepath.Join(root, "overlay", "README.md"),
		readFile(t, filepath.Join(repoRoot(t), "overlay", "README.md")), 0o644)
	return p
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs a board script the way Buildroot does: BR2_EXTERNAL_IPA_PATH in
// the environment unless withEnv is false, the directory as first argument.
func (p *project) run(t *testing.T, script string, withEnv bool, args ...string) result {
	t.Helper()
	testenv.Program(t, "hermetic", "bash")
	cmd := exec.Command(filepath.Join(p.board, script), args...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BR2_EXTERNAL") {
			env = append(env, kv)
		}
	}
	if withEnv {
		env = append(env, "BR2_EXTERNAL_IPA_PATH="+p.external)
	}
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s: %v", script, err)
	}
	return r
}

// userHook installs an executable user hook that records its arguments.
func (p *project) userHook(t *testing.T, name string, executable bool) string {
	t.Helper()
	record := filepath.Join(t.TempDir(), name+".args")
	m := os.FileMode(0o644)
	if executable {
		m = 0o755
	}
	writeFile(t, filepath.Join(p.root, "scripts", name),
		"#!/bin/sh\nprintf '%s\\n' \"$@\" >'"+record+"'\n", m)
	return record
}

// fakeTarget builds a target directory as the overlays leave it: sshd files
// and /root readable by everyone.
func fakeTarget(t *testing.T, p *project, authorizedKeys bool) string {
	t.Helper()
	target := filepath.Join(t.TempDir(), "target")
	ssh := filepath.Join(target, "etc", "ssh")
	writeFile(t, filepath.Join(ssh, "sshd_config"),
		readFile(t, filepath.Join(boardDir(t), "rootfs-overlay/etc/ssh/sshd_config")), 0o644)
	writeFile(t, filepath.Join(ssh, "ssh_host_ed25519_key"), "PRIVATE\n", 0o644)
	writeFile(t, filepath.Join(ssh, "ssh_host_ed25519_key.pub"), "PUBLIC\n", 0o600)
	writeFile(t, filepath.Join(ssh, "ssh_host_rsa_key"), "PRIVATE\n", 0o664)
	writeFile(t, filepath.Join(ssh, "ssh_host_rsa_key.pub"), "PUBLIC\n", 0o755)
	writeFile(t, filepath.Join(ssh, "moduli"), "moduli\n", 0o644)
	writeFile(t, filepath.Join(target, "root", ".profile"), "# profile\n", 0o644)
	if authorizedKeys {
		writeFile(t, filepath.Join(target, "root", ".ssh", "authorized_keys"), "ssh-ed25519 AAAA test\n", 0o644)
		writeFile(t, filepath.Join(target, "root", ".ssh", "keys.d", "extra"), "x\n", 0o664)
	} else {
		if err := os.MkdirAll(filepath.Join(target, "root", ".ssh"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{filepath.Join(target, "root"), filepath.Join(target, "root", ".ssh")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The user overlay's README lands at the root of the target.
	writeFile(t, filepath.Join(target, "README.md"), readFile(t, filepath.Join(p.root, "overlay", "README.md")), 0o644)
	return target
}

const rootKeysDropIn = "etc/ssh/sshd_config.d/50-ipa-root-keys.conf"

func TestPostBuildWithAuthorizedKeys(t *testing.T) {
	p := newProject(t)
	target := fakeTarget(t, p, true)
	r := p.run(t, "post-build.sh", true, target)
	if r.code != 0 {
		t.Fatalf("post-build.sh exit %d: %s", r.code, r.stderr)
	}
	wantModes := map[string]os.FileMode{
		"etc/ssh/ssh_host_ed25519_key":     0o600,
		"etc/ssh/ssh_host_ed25519_key.pub": 0o644,
		"etc/ssh/ssh_host_rsa_key":         0o600,
		"etc/ssh/ssh_host_rsa_key.pub":     0o644,
		"etc/ssh/moduli":                   0o644, // not a key: untouched
		"root":                             0o700,
		"root/.ssh":                        0o700,
		"root/.ssh/authorized_keys":        0o600,
		"root/.ssh/keys.d/extra":           0o600,
		"root/.profile":                    0o644, // outside .ssh: untouched
		rootKeysDropIn:                     0o644,
	}
	for rel, want := range wantModes {
		if got := mode(t, filepath.Join(target, rel)); got != want {
			t.Errorf("%s: mode %04o, want %04o", rel, got, want)
		}
	}
	dropIn := readFile(t, filepath.Join(target, rootKeysDropIn))
	if !regexp.MustCompile(`(?m)^PermitRootLogin prohibit-password$`).MatchString(dropIn) {
		t.Errorf("drop-in does not allow key-only root login:\n%s", dropIn)
	}
	if _, err := os.Stat(filepath.Join(target, "README.md")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the user overlay's README.md is still in the target (%v)", err)
	}
	// sshd_config itself is not edited.
	if got, want := readFile(t, filepath.Join(target, "etc/ssh/sshd_config")),
		readFile(t, filepath.Join(boardDir(t), "rootfs-overlay/etc/ssh/sshd_config")); got != want {
		t.Error("post-build.sh modified sshd_config")
	}
	if r.stderr != "" {
		t.Errorf("unexpected stderr: %s", r.stderr)
	}
	// IPA's finalize_rescue writes the rescue password here.
	if fi, err := os.Stat(filepath.Join(target, "etc/ipa-rescue-config")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("etc/ipa-rescue-config: %v, want a directory with mode 0700", err)
	}
}

// TestPostBuildTakesLdconfigFromTheSysroot: with an external toolchain the
// target has no ldconfig; the one of the toolchain's sysroot goes in.
func TestPostBuildTakesLdconfigFromTheSysroot(t *testing.T) {
	p := newProject(t)
	target := fakeTarget(t, p, false)
	staging := t.TempDir()
	writeFile(t, filepath.Join(staging, "sbin/ldconfig"), "sysroot's ldconfig\n", 0o755)
	t.Setenv("STAGING_DIR", staging)
	if r := p.run(t, "post-build.sh", true, target); r.code != 0 {
		t.Fatalf("post-build.sh exit %d: %s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(target, "sbin/ldconfig")); got != "sysroot's ldconfig\n" || mode(t, filepath.Join(target, "sbin/ldconfig")) != 0o755 {
		t.Errorf("sbin/ldconfig = %q, mode %04o", got, mode(t, filepath.Join(target, "sbin/ldconfig")))
	}
	// The target's own (Buildroot's glibc) is kept.
	writeFile(t, filepath.Join(target, "sbin/ldconfig"), "glibc's ldconfig\n", 0o755)
	if r := p.run(t, "post-build.sh", true, target); r.code != 0 {
		t.Fatalf("post-build.sh exit %d: %s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(target, "sbin/ldconfig")); got != "glibc's ldconfig\n" {
		t.Errorf("the target's ldconfig was replaced: %q", got)
	}
}

func TestPostBuildWithoutAuthorizedKeys(t *testing.T) {
	p := newProject(t)
	target := fakeTarget(t, p, false)
	// A drop-in left over from an earlier build with keys must go.
	writeFile(t, filepath.Join(target, rootKeysDropIn), "PermitRootLogin prohibit-password\n", 0o644)
	// A README.md that is not the overlay's stays.
	writeFile(t, filepath.Join(target, "README.md"), "a package's own README\n", 0o644)
	// Without BR2_EXTERNAL_IPA_PATH the script finds the tree from its own path.
	r := p.run(t, "post-build.sh", false, target)
	if r.code != 0 {
		t.Fatalf("post-build.sh exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(target, rootKeysDropIn)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("root-login drop-in present without authorized_keys (%v)", err)
	}
	if got := readFile(t, filepath.Join(target, "README.md")); got != "a package's own README\n" {
		t.Errorf("README.md changed: %q", got)
	}
	for rel, want := range map[string]os.FileMode{"root": 0o700, "root/.ssh": 0o700, "etc/ssh/ssh_host_rsa_key": 0o600} {
		if got := mode(t, filepath.Join(target, rel)); got != want {
			t.Errorf("%s: mode %04o, want %04o", rel, got, want)
		}
	}
}

func TestPostBuildWarnsWithoutInclude(t *testing.T) {
	p := newProject(t)
	target := fakeTarget(t, p, true)
	writeFile(t, filepath.Join(target, "etc/ssh/sshd_config"), "PermitRootLogin no\n", 0o644)
	r := p.run(t, "post-build.sh", true, target)
	if r.code != 0 {
		t.Fatalf("post-build.sh exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "WARNING") || !strings.Contains(r.stderr, "sshd_config.d") {
		t.Errorf("no warning about the missing Include: %q", r.stderr)
	}
}

func TestPostBuildRunsUserHook(t *testing.T) {
	p := newProject(t)
	target := fakeTarget(t, p, false)
	record := p.userHook(t, "post-build.sh", true)
	r := p.run(t, "post-build.sh", true, target, "extra-arg")
	if r.code != 0 {
		t.Fatalf("post-build.sh exit %d: %s", r.code, r.stderr)
	}
	if got, want := readFile(t, record), target+"\nextra-arg\n"; got != want {
		t.Errorf("user hook got args %q, want %q", got, want)
	}
	// The board's work is done before the hook runs.
	if mode(t, filepath.Join(target, "root")) != 0o700 {
		t.Error("board fix-ups did not run before the user hook")
	}
}

func TestScriptsRejectNonExecutableUserHook(t *testing.T) {
	for _, s := range []string{"post-build.sh", "post-fakeroot.sh", "post-image.sh"} {
		t.Run(s, func(t *testing.T) {
			p := newProject(t)
			dir := t.TempDir()
			if s == "post-image.sh" {
				writeFile(t, filepath.Join(dir, "bzImage"), "k", 0o644)
				writeFile(t, filepath.Join(dir, "rootfs.cpio.xz"), "i", 0o644)
			}
			record := p.userHook(t, s, false)
			r := p.run(t, s, true, dir)
			if r.code != 1 || !strings.Contains(r.stderr, "not executable") {
				t.Errorf("exit %d, stderr %q; want 1 and a hint", r.code, r.stderr)
			}
			if _, err := os.Stat(record); err == nil {
				t.Error("the non-executable hook ran")
			}
		})
	}
}

func TestScriptsUsage(t *testing.T) {
	for _, s := range []string{"post-build.sh", "post-fakeroot.sh", "post-image.sh"} {
		p := newProject(t)
		for _, args := range [][]string{nil, {filepath.Join(t.TempDir(), "missing")}} {
			if r := p.run(t, s, true, args...); r.code != 2 || !strings.Contains(r.stderr, "usage:") {
				t.Errorf("%s %q: exit %d, stderr %q; want 2 and usage", s, args, r.code, r.stderr)
			}
		}
	}
}

func sha256Hex(t testing.TB, path string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(readFile(t, path)))
	return hex.EncodeToString(sum[:])
}

func TestPostImageNamesOutputs(t *testing.T) {
	p := newProject(t)
	images := t.TempDir()
	writeFile(t, filepath.Join(images, "bzImage"), "kernel bytes\n", 0o644)
	writeFile(t, filepath.Join(images, "rootfs.cpio"), "uncompressed\n", 0o644)
	writeFile(t, filepath.Join(images, "rootfs.cpio.xz"), "xz initramfs bytes\n", 0o644)
	writeFile(t, filepath.Join(images, "rootfs.iso9660"), "iso bytes, longer than the rest\n", 0o644)
	record := p.userHook(t, "post-image.sh", true)

	r := p.run(t, "post-image.sh", true, images)
	if r.code != 0 {
		t.Fatalf("post-image.sh exit %d: %s", r.code, r.stderr)
	}
	sources := map[string]string{"ipa.kernel": "bzImage", "ipa.initramfs": "rootfs.cpio.xz", "ipa.iso": "rootfs.iso9660"}
	var wantSums []string
	for _, name := range []string{"ipa.kernel", "ipa.initramfs", "ipa.iso"} {
		got, want := readFile(t, filepath.Join(images, name)), readFile(t, filepath.Join(images, sources[name]))
		if got != want {
			t.Errorf("%s is not a copy of %s", name, sources[name])
		}
		wantSums = append(wantSums, sha256Hex(t, filepath.Join(images, name))+"  "+name)
		size := fmt.Sprint(len(want))
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(name) + `\s+` + size + ` bytes\b`).MatchString(r.stdout) {
			t.Errorf("no size line for %s (%s bytes) in:\n%s", name, size, r.stdout)
		}
	}
	if got, want := readFile(t, filepath.Join(images, "SHA256SUMS")), strings.Join(wantSums, "\n")+"\n"; got != want {
		t.Errorf("SHA256SUMS =\n%s\nwant\n%s", got, want)
	}
	if got := readFile(t, record); got != images+"\n" {
		t.Errorf("user hook args %q", got)
	}
}

func TestPostImageWithoutISO(t *testing.T) {
	p := newProject(t)
	images := t.TempDir()
	writeFile(t, filepath.Join(images, "bzImage"), "kernel\n", 0o644)
	writeFile(t, filepath.Join(images, "rootfs.cpio.gz"), "gzip initramfs\n", 0o644)
	writeFile(t, filepath.Join(images, "ipa.iso"), "stale\n", 0o644)
	r := p.run(t, "post-image.sh", false, images)
	if r.code != 0 {
		t.Fatalf("post-image.sh exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(images, "ipa.iso")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a stale ipa.iso survived a build without an ISO")
	}
	if got := readFile(t, filepath.Join(images, "ipa.initramfs")); got != "gzip initramfs\n" {
		t.Errorf("ipa.initramfs = %q, want the gzip cpio", got)
	}
	sums := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(images, "SHA256SUMS"))), "\n")
	if len(sums) != 2 || !strings.HasSuffix(sums[0], "  ipa.kernel") || !strings.HasSuffix(sums[1], "  ipa.initramfs") {
		t.Errorf("SHA256SUMS = %q", sums)
	}
}

func TestPostImageFailsWithoutInputs(t *testing.T) {
	p := newProject(t)
	for name, files := range map[string][]string{
		"no kernel":    {"rootfs.cpio.xz"},
		"no initramfs": {"bzImage"},
	} {
		images := t.TempDir()
		for _, f := range files {
			writeFile(t, filepath.Join(images, f), f, 0o644)
		}
		r := p.run(t, "post-image.sh", true, images)
		if r.code != 1 || r.stderr == "" {
			t.Errorf("%s: exit %d, stderr %q; want 1 and a message", name, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(images, "SHA256SUMS")); err == nil {
			t.Errorf("%s: SHA256SUMS written anyway", name)
		}
	}
}

func TestPostFakerootChecksAgentEnabled(t *testing.T) {
	p := newProject(t)
	target := t.TempDir()
	enable := func(targetUnit, unit string) {
		t.Helper()
		wants := filepath.Join(target, "etc/systemd/system", targetUnit+".wants", unit)
		if err := os.MkdirAll(filepath.Dir(wants), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/usr/lib/systemd/system/"+unit, wants); err != nil {
			t.Fatal(err)
		}
	}

	// No agent in the image: nothing to check.
	writeFile(t, filepath.Join(target, "usr/lib/systemd/system/ironic-python-agent.service"), "[Unit]\n", 0o644)
	if r := p.run(t, "post-fakeroot.sh", true, target); r.code != 0 {
		t.Fatalf("without the agent: exit %d: %s", r.code, r.stderr)
	}
	// The agent, and each unit it relies on missing in turn: fail loudly,
	// naming the unit. (TestPresetsEnableTheImageUnits enables them with
	// the real systemctl.)
	writeFile(t, filepath.Join(target, "usr/bin/ironic-python-agent"), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(target, "sbin/ldconfig"), "#!/bin/sh\n", 0o755)
	for _, u := range [][2]string{
		{"multi-user.target", "ironic-python-agent.service"},
		{"sysinit.target", "ipa-ldconfig.service"},
		{"paths.target", "ipa-rescue.path"},
		{"sysinit.target", "ipa-network-data.service"},
	} {
		if r := p.run(t, "post-fakeroot.sh", true, target); r.code != 1 || !strings.Contains(r.stderr, u[1]+" is not enabled") {
			t.Errorf("%s not enabled: exit %d, stderr %q; want 1 naming it", u[1], r.code, r.stderr)
		}
		enable(u[0], u[1])
	}
	record := p.userHook(t, "post-fakeroot.sh", true)
	if r := p.run(t, "post-fakeroot.sh", true, target); r.code != 0 || r.stderr != "" {
		t.Errorf("all enabled: exit %d: %s", r.code, r.stderr)
	}
	if got := readFile(t, record); got != target+"\n" {
		t.Errorf("user hook args %q", got)
	}
	// An overlay that enables chrony again gets a warning, not a failure.
	enable("multi-user.target", "chrony.service")
	if r := p.run(t, "post-fakeroot.sh", true, target); r.code != 0 || !strings.Contains(r.stderr, "WARNING: chrony.service") {
		t.Errorf("chrony enabled: exit %d, stderr %q; want 0 and a warning", r.code, r.stderr)
	}
}

// shellScripts lists the tree's shell scripts: *.sh, and the files that
// start with a #!/bin/sh line (the overlay's /usr/libexec).
func shellScripts(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(externalDir(t), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if strings.HasSuffix(path, ".sh") {
			out = append(out, path)
		} else if data, err := os.ReadFile(path); err == nil && strings.HasPrefix(string(data), "#!/bin/sh\n") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestShellcheck(t *testing.T) {
	sc := testenv.Program(t, "lint", "shellcheck")
	scripts := shellScripts(t)
	if len(scripts) < 5 {
		t.Fatalf("found %d scripts, want at least the board's and the overlay's", len(scripts))
	}
	out, err := exec.Command(sc, append([]string{"--external-sources"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestFlake8 lints the tree's Python programs as Buildroot's check-package
// does when run from the project root (flake8's defaults), without
// Buildroot.
func TestFlake8(t *testing.T) {
	flake8 := testenv.Program(t, "lint", "flake8")
	var programs []string
	err := filepath.WalkDir(externalDir(t), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if data, err := os.ReadFile(path); err == nil && (strings.HasSuffix(path, ".py") || strings.HasPrefix(string(data), "#!/usr/bin/python3\n")) {
			programs = append(programs, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(programs) < 4 {
		t.Fatalf("found %d Python programs: %q", len(programs), programs)
	}
	if out, err := exec.Command(flake8, programs...).CombinedOutput(); err != nil {
		t.Errorf("flake8: %v\n%s", err, out)
	}
}

// ---------------------------------------------------------------------------
// Upstream: real Buildroot at the pinned tag.

type upstream struct {
	src  string // the checkout
	out  string // output directory with the defconfig loaded
	load string // what loading the defconfig printed
	err  error
}

var (
	upstreamOnce sync.Once
	upstreamTree upstream
)

// brEnv is the environment for Buildroot's make: none of the caller's BR2_*
// settings or an outer make's flags leak in.
func brEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BR2_") || k == "MAKEFLAGS" || k == "MFLAGS" || k == "MAKELEVEL" || k == "O" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// brMake runs make -C src O=out BR2_EXTERNAL=<tree> args...; stdout and
// stderr are returned apart so that show-info's JSON stays clean.
func brMake(src, out, external string, args ...string) (stdout, stderr string, err error) {
	argv := append([]string{"-s", "--no-print-directory", "-C", src, "O=" + out, "BR2_EXTERNAL=" + external}, args...)
	cmd := exec.Command("make", argv...)
	cmd.Env = brEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("make %s: %v\n%s%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String(), err
}

// gitURL turns a path into a file:// URL (a shallow clone needs one).
func gitURL(repo string) (string, error) {
	if strings.Contains(repo, "://") || strings.HasPrefix(repo, "git@") {
		return repo, nil
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return "", err
	}
	return "file://" + abs, nil
}

func prepareUpstream(repo, external string) upstream {
	u := upstream{src: filepath.Join(sharedDir, "buildroot"), out: filepath.Join(sharedDir, "output")}
	url, err := gitURL(repo)
	if err != nil {
		u.err = err
		return u
	}
	cmd := exec.Command("git", "clone", "-q", "--depth", "1", "--branch", buildrootTag,
		"-c", "advice.detachedHead=false", url, u.src)
	if out, err := cmd.CombinedOutput(); err != nil {
		u.err = fmt.Errorf("git clone --branch %s %s: %v\n%s", buildrootTag, url, err, out)
		return u
	}
	if v, err := buildroot.Version(u.src); err != nil || v != buildrootTag {
		u.err = fmt.Errorf("checkout of %s has BR2_VERSION %q (%v), want %s", url, v, err, buildrootTag)
		return u
	}
	o, e, err := brMake(u.src, u.out, external, defconfigName)
	u.load, u.err = o+e, err
	return u
}

// needUpstream returns the shared checkout and loaded output directory,
// making them on first use; it skips when the tier's variable is unset.
func needUpstream(t *testing.T) *upstream {
	t.Helper()
	repo := testenv.Env(t, "upstream", "IPABR_TEST_BUILDROOT")
	testenv.Program(t, "upstream", "git")
	testenv.Program(t, "upstream", "make")
	external := externalDir(t)
	upstreamOnce.Do(func() { upstreamTree = prepareUpstream(repo, external) })
	if upstreamTree.err != nil {
		t.Fatal(upstreamTree.err)
	}
	return &upstreamTree
}

func TestUpstreamListDefconfigs(t *testing.T) {
	u := needUpstream(t)
	out, _, err := brMake(u.src, u.out, externalDir(t), "list-defconfigs")
	if err != nil {
		t.Fatal(err)
	}
	_, external, ok := strings.Cut(out, "External configs in")
	if !ok {
		t.Fatalf("no external configs section in:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\s+` + defconfigName + `\s`).MatchString(external) {
		t.Errorf("%s not listed under external configs:\n%s", defconfigName, external)
	}
}

func TestUpstreamDefconfigLoadsWithoutWarnings(t *testing.T) {
	u := needUpstream(t)
	if regexp.MustCompile(`(?i)warning`).MatchString(u.load) {
		t.Errorf("loading %s warned:\n%s", defconfigName, u.load)
	}
	cfg, err := buildroot.ReadConfigFile(filepath.Join(u.out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefconfigName() != defconfigName {
		t.Errorf("BR2_DEFCONFIG = %q", cfg.Values["BR2_DEFCONFIG"])
	}
}

func TestUpstreamSavedefconfigRoundTrip(t *testing.T) {
	u := needUpstream(t)
	saved := filepath.Join(t.TempDir(), "saved_defconfig")
	if _, _, err := brMake(u.src, u.out, externalDir(t), "savedefconfig", "BR2_DEFCONFIG="+saved); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, saved)
	want := readFile(t, filepath.Join(externalDir(t), "configs", defconfigName))
	if got != want {
		t.Errorf("savedefconfig does not reproduce configs/%s; symbols that differ:\n%s",
			defconfigName, lineDiff(want, got))
	}
}

// lineDiff lists the lines only in a (-) and only in b (+).
func lineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		switch {
		case n > 0:
			out = append(out, "- "+l)
		case n < 0:
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "(same lines, different order)"
	}
	return strings.Join(out, "\n")
}

// imagePackages is what the image must contain (doc/image.md), by the names
// Buildroot's show-info uses.
var imagePackages = []string{
	// Python 3 and the libraries behind the modules IPA needs: ctypes,
	// ssl/hashlib, zlib, bz2, lzma, pyexpat, decimal.
	"python3", "libffi", "openssl", "zlib", "bzip2", "xz", "expat", "mpdecimal",
	// init, and libudev for pyudev
	"systemd", "udev",
	// the tools IPA runs
	"util-linux", "parted", "gptfdisk", "e2fsprogs", "xfsprogs", "dosfstools",
	"mdadm", "hdparm", "smartmontools", "nvme", "multipath-tools", "lvm2",
	"qemu", "efibootmgr", "efivar", "dmidecode", "lshw", "pciutils", "usbutils",
	"biosdevname", "ipmitool", "kmod", "iproute2", "chrony", "open-iscsi",
	"psmisc", "coreutils", "file", "openssh", "libcurl", "linux-firmware",
	// rescue mode: the rescue user and its sudo rights
	"shadow", "sudo",
	// the trust store post-build.sh adds the project's private CAs to
	"ca-certificates",
	// the agent and its Python dependencies, from the lock (doc/ipa.md)
	"ironic-python-agent", "host-python-installer",
	// kernel, shell, boot loader, images
	"linux", "linux-headers", "busybox", "grub2", "rootfs-cpio", "rootfs-iso9660",
}

// imageSymbols are the sub-options show-info cannot see.
var imageSymbols = map[string]string{
	"BR2_x86_64":                                "y",
	"BR2_TOOLCHAIN_USES_GLIBC":                  "y",
	"BR2_INIT_SYSTEMD":                          "y",
	"BR2_PACKAGE_SYSTEMD_NETWORKD":              "y", // and systemd-network-generator with it
	"BR2_PACKAGE_SYSTEMD_RESOLVED":              "y", // DNS= of static configurations reaches resolv.conf
	"BR2_TARGET_GENERIC_HOSTNAME":               "ipa",
	"BR2_TARGET_GENERIC_GETTY_PORT":             "ttyS0",
	"BR2_TARGET_GENERIC_PASSWD_SHA512":          "y",
	"BR2_TARGET_ENABLE_ROOT_LOGIN":              "n",
	"BR2_PACKAGE_PYTHON3_SSL":                   "y",
	"BR2_PACKAGE_PYTHON3_ZLIB":                  "y",
	"BR2_PACKAGE_PYTHON3_BZIP2":                 "y",
	"BR2_PACKAGE_PYTHON3_XZ":                    "y",
	"BR2_PACKAGE_PYTHON3_PYEXPAT":               "y",
	"BR2_PACKAGE_PYTHON3_UNICODEDATA":           "y",
	"BR2_PACKAGE_PYTHON3_DECIMAL":               "y",
	"BR2_PACKAGE_PYTHON3_SQLITE":                "n",
	"BR2_PACKAGE_UTIL_LINUX_BINARIES":           "y",
	"BR2_PACKAGE_UTIL_LINUX_MOUNT":              "y",
	"BR2_PACKAGE_UTIL_LINUX_PARTX":              "y",
	"BR2_PACKAGE_UTIL_LINUX_WIPEFS":             "y",
	"BR2_PACKAGE_UTIL_LINUX_HWCLOCK":            "y",
	"BR2_PACKAGE_GPTFDISK_SGDISK":               "y",
	"BR2_PACKAGE_DOSFSTOOLS_MKFS_FAT":           "y",
	"BR2_PACKAGE_LVM2_STANDARD_INSTALL":         "y",
	"BR2_PACKAGE_KMOD_TOOLS":                    "y",
	"BR2_PACKAGE_LIBCURL_CURL":                  "y",
	"BR2_PACKAGE_IPMITOOL_LANPLUS":              "y",
	"BR2_PACKAGE_OPENSSH_SERVER":                "y",
	"BR2_PACKAGE_QEMU_TOOLS":                    "y",
	"BR2_PACKAGE_QEMU_SYSTEM":                   "n",
	"BR2_PACKAGE_QEMU_LINUX_USER":               "n",
	"BR2_PACKAGE_SYSTEMD_TIMESYNCD":             "n", // IPA syncs the clock with chronyd -q
	"BR2_PACKAGE_GLIBC_UTILS":                   "y", // ldconfig, for ctypes.util.find_library
	"BR2_LINUX_KERNEL_VERSION":                  kernelVersion,
	"BR2_LINUX_KERNEL_USE_ARCH_DEFAULT_CONFIG":  "y",
	"BR2_LINUX_KERNEL_BZIMAGE":                  "y",
	"BR2_TARGET_ROOTFS_CPIO_XZ":                 "y",
	"BR2_TARGET_ROOTFS_ISO9660_INITRD":          "y",
	"BR2_TARGET_ROOTFS_ISO9660_BIOS_BOOTLOADER": "y",
	"BR2_TARGET_ROOTFS_ISO9660_EFI_BOOTLOADER":  "y",
}

// hardwareRow is one row of the hardware table in doc/image.md.
type hardwareRow struct {
	hardware string
	kernel   []string // CONFIG_* options of the driver
	firmware []string // BR2_PACKAGE_LINUX_FIRMWARE_* options it needs
}

// hardwareTable reads the table under "### Hardware table" in
// doc/image.md.
func hardwareTable(t testing.TB) []hardwareRow {
	t.Helper()
	doc := readFile(t, filepath.Join(repoRoot(t), "doc", "image.md"))
	_, section, ok := strings.Cut(doc, "\n### Hardware table\n")
	if !ok {
		t.Fatal(`doc/image.md has no "### Hardware table" section`)
	}
	option := regexp.MustCompile("`((?:CONFIG|BR2)_[A-Z0-9_]+)`")
	var rows []hardwareRow
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) != 6 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "hardware" {
			continue
		}
		row := hardwareRow{hardware: strings.TrimSpace(cells[1])}
		for _, m := range option.FindAllStringSubmatch(cells[3], -1) {
			row.kernel = append(row.kernel, m[1])
		}
		for _, m := range option.FindAllStringSubmatch(cells[4], -1) {
			row.firmware = append(row.firmware, m[1])
		}
		if len(row.kernel) == 0 {
			t.Errorf("hardware table: %q names no kernel option", row.hardware)
		}
		rows = append(rows, row)
	}
	if len(rows) < 30 {
		t.Fatalf("hardware table has %d rows; is it the right section?", len(rows))
	}
	return rows
}

// tableFirmware is every firmware option the hardware table names.
func tableFirmware(t testing.TB) map[string]bool {
	t.Helper()
	fw := map[string]bool{}
	for _, r := range hardwareTable(t) {
		for _, f := range r.firmware {
			fw[f] = true
		}
	}
	return fw
}

// TestHardwareTable: every driver of the table is in the kernel fragment,
// its firmware is on in the defconfig, and the defconfig enables no
// firmware the table does not name.
func TestHardwareTable(t *testing.T) {
	frag, err := buildroot.ReadConfigFile(filepath.Join(boardDir(t), "linux.fragment"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := buildroot.ReadConfigFile(filepath.Join(externalDir(t), "configs", defconfigName))
	if err != nil {
		t.Fatal(err)
	}
	fw := tableFirmware(t)
	for _, r := range hardwareTable(t) {
		for _, sym := range r.kernel {
			if v := frag.Values[sym]; v != "y" && v != "m" {
				t.Errorf("%s: %s is not in linux.fragment (=y or =m)", r.hardware, sym)
			}
		}
		for _, f := range r.firmware {
			if def.Values[f] != "y" {
				t.Errorf("%s: firmware %s is not enabled in the defconfig", r.hardware, f)
			}
		}
	}
	for sym, v := range def.Values {
		if strings.HasPrefix(sym, "BR2_PACKAGE_LINUX_FIRMWARE_") && v == "y" && !fw[sym] {
			t.Errorf("the defconfig enables %s, which no row of the hardware table needs", sym)
		}
	}
}

type showInfo map[string]struct {
	Type    string   `json:"type"`
	Version string   `json:"version"`
	Hashes  []string `json:"hashes"`
}

func loadShowInfo(t *testing.T, src, out string) showInfo {
	t.Helper()
	stdout, _, err := brMake(src, out, externalDir(t), "show-info")
	if err != nil {
		t.Fatal(err)
	}
	var info showInfo
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatalf("show-info is not JSON: %v\n%.2000s", err, stdout)
	}
	return info
}

// checkPackages fails for each package of imagePackages, less except, that
// show-info lacks.
func checkPackages(t *testing.T, info showInfo, except ...string) {
	t.Helper()
	skip := map[string]bool{}
	for _, p := range except {
		skip[p] = true
	}
	var missing []string
	for _, p := range imagePackages {
		if _, ok := info[p]; !ok && !skip[p] {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Errorf("show-info lacks %d required packages: %s", len(missing), strings.Join(missing, " "))
	}
}

func checkSymbols(t *testing.T, cfg *buildroot.Config, want map[string]string) {
	t.Helper()
	for sym, v := range want {
		got, ok := cfg.Values[sym]
		if !ok {
			got = "n"
		}
		if got != v {
			t.Errorf("%s = %q, want %q", sym, got, v)
		}
	}
}

var (
	showInfoOnce sync.Once
	upstreamInfo showInfo
)

// showInfo is show-info of the shared output directory, made once.
func (u *upstream) showInfo(t *testing.T) showInfo {
	t.Helper()
	showInfoOnce.Do(func() { upstreamInfo = loadShowInfo(t, u.src, u.out) })
	if upstreamInfo == nil {
		t.Fatal("show-info of the shared output directory failed in an earlier test")
	}
	return upstreamInfo
}

func TestUpstreamShowInfo(t *testing.T) {
	u := needUpstream(t)
	info := u.showInfo(t)
	checkPackages(t, info)

	// Kernel and toolchain headers: the same pinned version, hash-checked
	// against the tree's own hash files, whose sha256 is the one upstream
	// Buildroot publishes for that tarball.
	tarball := "linux-" + kernelVersion + ".tar.xz"
	upstreamSum, ok := hashOf(t, filepath.Join(u.src, "linux", "from-6.17", "linux.hash"), tarball)
	if !ok {
		t.Fatalf("Buildroot %s carries no hash for %s", buildrootTag, tarball)
	}
	for _, pkg := range []string{"linux", "linux-headers"} {
		if info[pkg].Version != kernelVersion {
			t.Errorf("%s version = %q, want %s", pkg, info[pkg].Version, kernelVersion)
		}
		pinned := false
		for _, h := range info[pkg].Hashes {
			if sum, ok := hashOf(t, h, tarball); ok && strings.HasPrefix(h, externalDir(t)) {
				pinned = true
				if sum != upstreamSum {
					t.Errorf("%s: sha256 %s differs from Buildroot's %s", h, sum, upstreamSum)
				}
			}
		}
		if !pinned {
			t.Errorf("%s: no hash file of this tree checks %s (hash files: %q)", pkg, tarball, info[pkg].Hashes)
		}
	}

	cfg, err := buildroot.ReadConfigFile(filepath.Join(u.out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	checkSymbols(t, cfg, imageSymbols)
	want := tableFirmware(t)
	for sym, v := range cfg.Values {
		if strings.HasPrefix(sym, "BR2_PACKAGE_LINUX_FIRMWARE_") && v == "y" && !want[sym] {
			t.Errorf("%s: firmware beyond the hardware table of doc/image.md", sym)
		}
	}
	for f := range want {
		if !cfg.Enabled(f) {
			t.Errorf("%s is not enabled", f)
		}
	}
}

func TestUpstreamCheckPackage(t *testing.T) {
	u := needUpstream(t)
	testenv.Program(t, "upstream", "shellcheck")
	testenv.Program(t, "upstream", "flake8")
	const python = "/usr/bin/python3" // Debian's, with python3-magic
	if err := exec.Command(python, "-c", "import magic").Run(); err != nil {
		fmt.Println("SKIP upstream: python3-magic not installed for " + python)
		t.Skipf("SKIP upstream: python3-magic not installed for %s", python)
	}
	root := repoRoot(t)
	var files []string
	err := filepath.WalkDir(externalDir(t), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tool := filepath.Join(u.src, "utils", "check-package")
	run := func(extra ...string) string {
		cmd := exec.Command(python, append(append([]string{tool, "-b"}, extra...), files...)...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("check-package %s: %v\n%s", strings.Join(extra, " "), err, out)
		}
		return string(out)
	}
	// The files it understands must really be checked, not ignored.
	dry := run("--dry-run")
	for _, f := range []string{
		"buildroot-ipa/Config.in",
		"buildroot-ipa/configs/" + defconfigName,
		"buildroot-ipa/board/openstack/ipa/post-build.sh",
		"buildroot-ipa/board/openstack/ipa/post-fakeroot.sh",
		"buildroot-ipa/board/openstack/ipa/post-image.sh",
		"buildroot-ipa/patches/linux/linux.hash",
		"buildroot-ipa/patches/linux-headers/linux-headers.hash",
	} {
		if !strings.Contains(dry, f+":") {
			t.Errorf("check-package does not check %s", f)
		}
	}
	out := run()
	if !regexp.MustCompile(`(?m)^0 warnings generated$`).MatchString(out) {
		t.Errorf("check-package warned:\n%s", out)
	}
}

// TestUpstreamBusyboxFragment checks every symbol the BusyBox fragment sets
// exists in the configuration it is merged onto (kconfig would drop an
// unknown one without a word).
func TestUpstreamBusyboxFragment(t *testing.T) {
	u := needUpstream(t)
	base, err := buildroot.ReadConfigFile(filepath.Join(u.src, "package", "busybox", "busybox.config"))
	if err != nil {
		t.Fatal(err)
	}
	frag, err := buildroot.ReadConfigFile(filepath.Join(boardDir(t), "busybox.fragment"))
	if err != nil {
		t.Fatal(err)
	}
	if len(frag.Order) == 0 {
		t.Fatal("busybox.fragment sets nothing")
	}
	for _, sym := range frag.Order {
		if _, ok := base.Values[sym]; !ok {
			t.Errorf("%s is not a BusyBox %s option", sym, buildrootTag)
		}
	}
	if base.Values["CONFIG_ASH"] != "y" || frag.Values["CONFIG_ASH"] == "n" {
		t.Error("the fragment must keep the shell (CONFIG_ASH)")
	}
}

// TestUpstreamBootlinToolchain checks the documented switch to Bootlin's
// prebuilt toolchain: one fragment, and every package of the image stays.
func TestUpstreamBootlinToolchain(t *testing.T) {
	u := needUpstream(t)
	out := filepath.Join(t.TempDir(), "output")
	if cp, err := exec.Command("cp", "-a", u.out, out).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, cp)
	}
	f, err := os.OpenFile(filepath.Join(out, ".config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(readFile(t, filepath.Join(boardDir(t), "toolchain-bootlin.fragment")))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := brMake(u.src, out, externalDir(t), "olddefconfig"); err != nil {
		t.Fatal(err)
	}
	cfg, err := buildroot.ReadConfigFile(filepath.Join(out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	checkSymbols(t, cfg, map[string]string{
		"BR2_TOOLCHAIN_BUILDROOT":                            "n",
		"BR2_TOOLCHAIN_EXTERNAL_BOOTLIN":                     "y",
		"BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_GLIBC_STABLE": "y",
	})
	// The kernel headers come with the prebuilt toolchain, so Buildroot's
	// linux-headers package goes; every other package stays.
	info := loadShowInfo(t, u.src, out)
	checkPackages(t, info, "linux-headers")
	if _, ok := info["toolchain-external-bootlin"]; !ok {
		t.Error("show-info has no toolchain-external-bootlin")
	}
	base, err := buildroot.ReadConfigFile(filepath.Join(u.out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	toolchainOnly := regexp.MustCompile(`^BR2_PACKAGE_(HOST_|GLIBC|GCC|MUSL|UCLIBC|LINUX_HEADERS|HAS_TOOLCHAIN)`)
	for sym, v := range base.Values {
		if strings.HasPrefix(sym, "BR2_PACKAGE_") && v == "y" && !toolchainOnly.MatchString(sym) && !cfg.Enabled(sym) {
			t.Errorf("%s is lost with the Bootlin toolchain", sym)
		}
	}
}

// ---------------------------------------------------------------------------
// Kernel: the fragment merged into a real kernel tree.

// newerThanTested lists fragment symbols that only exist in kernels newer
// than the tree tested (Debian's linux-source-6.12 in CI; 6.1 works too),
// each with the version that added it; they may be missing from the merge
// when the tested tree is older. Empty today: every symbol of the fragment
// exists in 6.1 and 6.12.
var newerThanTested = map[string]string{}

var (
	kernelMergeOnce sync.Once
	kernelMerged    *buildroot.Config
	kernelMergeErr  error
)

// mergedKernelConfig is x86_64_defconfig of the kernel tree in
// IPABR_TEST_LINUX_SRC with linux.fragment merged by the kernel's
// merge_config.sh and olddefconfig run, as Buildroot does; made once per
// test binary. It skips t when the variable is unset.
func mergedKernelConfig(t *testing.T) *buildroot.Config {
	t.Helper()
	src := testenv.Env(t, "kernel", "IPABR_TEST_LINUX_SRC")
	testenv.Program(t, "kernel", "make")
	fragment := filepath.Join(boardDir(t), "linux.fragment")
	kernelMergeOnce.Do(func() {
		kernelMerged, kernelMergeErr = mergeKernelConfig(src, fragment, filepath.Join(sharedDir, "linux"))
	})
	if kernelMergeErr != nil {
		t.Fatal(kernelMergeErr)
	}
	return kernelMerged
}

func mergeKernelConfig(src, fragment, out string) (*buildroot.Config, error) {
	merge := filepath.Join(src, "scripts", "kconfig", "merge_config.sh")
	if _, err := os.Stat(merge); err != nil {
		return nil, fmt.Errorf("IPABR_TEST_LINUX_SRC=%s is not a kernel tree: %v", src, err)
	}
	for _, argv := range [][]string{
		{"make", "-s", "O=" + out, "ARCH=x86_64", "x86_64_defconfig"},
		{"sh", merge, "-m", "-O", out, filepath.Join(out, ".config"), fragment},
		{"make", "-s", "O=" + out, "ARCH=x86_64", "olddefconfig"},
	} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = src
		cmd.Env = brEnv()
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, b)
		}
	}
	return buildroot.ReadConfigFile(filepath.Join(out, ".config"))
}

func TestKernelFragmentMerge(t *testing.T) {
	got := mergedKernelConfig(t)
	want, err := buildroot.ReadConfigFile(filepath.Join(boardDir(t), "linux.fragment"))
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Order) < 50 {
		t.Fatalf("the fragment has %d symbols; is it the right file?", len(want.Order))
	}
	// The hardware table's drivers, by name, so that a row whose option the
	// kernel drops is reported as that hardware.
	for _, r := range hardwareTable(t) {
		for _, sym := range r.kernel {
			if v := got.Values[sym]; v != "y" && v != "m" {
				if _, newer := newerThanTested[sym]; !newer {
					t.Errorf("%s: %s is not in the merged configuration", r.hardware, sym)
				}
			}
		}
	}
	for _, sym := range want.Order {
		w, g := want.Values[sym], got.Values[sym]
		if w == "n" {
			if got.Enabled(sym) {
				t.Errorf("%s=%s, the fragment disables it", sym, g)
			}
			continue
		}
		if g == w {
			continue
		}
		if since, ok := newerThanTested[sym]; ok {
			t.Logf("%s missing: needs Linux %s", sym, since)
			continue
		}
		if g == "" {
			g = "unset"
		}
		t.Errorf("%s: fragment wants %s, merged config has %s", sym, w, g)
	}
}
