package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// runInPTY runs ipabr ARGS on a pseudo-terminal, answers the prompt that
// contains want with answer, and returns what the terminal showed.
func runInPTY(t *testing.T, dir, want, answer string, args ...string) string {
	t.Helper()
	cmd := exec.Command(ipabrExecutable(t), append([]string{"--repo", dir}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=xterm")
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var screen lockedBuffer
	drained := make(chan struct{})
	go func() { _, _ = copyAll(&screen, ptmx); close(drained) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(screen.String(), want) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no %q on the terminal; it showed:\n%s", want, screen.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ptmx.Write([]byte(answer + "\r"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ipabr %v: %v\n%s", args, err, screen.String())
	}
	// The reader ends when the terminal closes: everything shown is in.
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
	}
	return screen.String()
}

const kernelDefconfig = `BR2_x86_64=y
BR2_LINUX_KERNEL=y
BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES="$(BR2_EXTERNAL_IPA_PATH)/board/linux.fragment"
BR2_PACKAGE_BUSYBOX=y
BR2_PACKAGE_BUSYBOX_CONFIG="$(BR2_EXTERNAL_IPA_PATH)/board/busybox.config"
`

// TestMenuconfigAndSave: the menus get the terminal; changes are reported
// and 'ipabr save' writes them into the external tree only.
func TestMenuconfigAndSave(t *testing.T) {
	dir := fakeProject(t)
	ext := filepath.Join(dir, "buildroot-ipa")
	os.MkdirAll(filepath.Join(ext, "board"), 0o755)
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(ext, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("configs/openstack_ipa_defconfig", kernelDefconfig)
	write("board/linux.fragment", "# NICs\nCONFIG_E1000=y\n")
	write("board/busybox.config", "CONFIG_ASH=y\n")

	if out, code := runIpabr(dir, "configure"); code != 0 {
		t.Fatalf("configure: %s", out)
	}
	out, code := runIpabr(dir, "save", "--dry-run")
	if code != 0 || !strings.Contains(out, "Buildroot defconfig: buildroot-ipa/configs/openstack_ipa_defconfig unchanged") {
		t.Fatalf("save --dry-run right after configure: %d\n%s", code, out)
	}

	// Declining changes nothing.
	screen := runInPTY(t, dir, "Toggle BR2_FAKE_OPTION? [y/N]", "n", "menuconfig")
	if !strings.Contains(screen, "The configuration did not change.") {
		t.Errorf("menuconfig without a change:\n%s", screen)
	}
	screen = runInPTY(t, dir, "Toggle BR2_FAKE_OPTION? [y/N]", "y", "menuconfig")
	if !strings.Contains(screen, "The configuration changed. Run 'ipabr save'") {
		t.Errorf("menuconfig with a change:\n%s", screen)
	}
	out, code = runIpabr(dir, "save", "--dry-run", "--buildroot")
	if code != 0 || !strings.Contains(out, "+BR2_FAKE_OPTION=y") || !strings.Contains(out, "--- a/buildroot-ipa/configs/openstack_ipa_defconfig") {
		t.Fatalf("save --dry-run after the change: %d\n%s", code, out)
	}
	if data, _ := os.ReadFile(filepath.Join(ext, "configs/openstack_ipa_defconfig")); string(data) != kernelDefconfig {
		t.Fatal("--dry-run wrote the defconfig")
	}

	// Kernel changes become fragment lines.
	screen = runInPTY(t, dir, "Toggle CONFIG_", "y", "linux-menuconfig")
	if !strings.Contains(screen, "The configuration changed.") {
		t.Errorf("linux-menuconfig with a change:\n%s", screen)
	}
	out, code = runIpabr(dir, "save")
	if code != 0 {
		t.Fatalf("save: %d\n%s", code, out)
	}
	for _, want := range []string{"Buildroot defconfig: wrote buildroot-ipa/configs/openstack_ipa_defconfig", "kernel config fragment: wrote buildroot-ipa/board/linux.fragment", "openstack_ipa_defconfig | "} {
		if !strings.Contains(out, want) {
			t.Errorf("save output lacks %q:\n%s", want, out)
		}
	}
	def, _ := os.ReadFile(filepath.Join(ext, "configs/openstack_ipa_defconfig"))
	if !strings.Contains(string(def), "BR2_FAKE_OPTION=y") {
		t.Errorf("defconfig not saved:\n%s", def)
	}
	frag, _ := os.ReadFile(filepath.Join(ext, "board/linux.fragment"))
	if !strings.HasPrefix(string(frag), "# NICs\nCONFIG_E1000=y\n") || !strings.Contains(string(frag), "# Added by ipabr save") {
		t.Errorf("fragment:\n%s", frag)
	}
	// Saved once: a second save finds nothing new.
	out, _ = runIpabr(dir, "save")
	if !strings.Contains(out, "kernel config fragment: buildroot-ipa/board/linux.fragment unchanged") {
		t.Errorf("second save:\n%s", out)
	}

	// A root password hash stays out of the tracked defconfig.
	cfg := filepath.Join(dir, "output", ".config")
	c := exec.Command(filepath.Join(dir, "buildroot", "utils", "config"), "--file", cfg, "--set-str", "BR2_TARGET_GENERIC_ROOT_PASSWD", "$$6$$salt$$hash")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("utils/config: %v %s", err, out)
	}
	// save keeps the other changes and leaves the hash out, saying so.
	out, code = runIpabr(dir, "save", "--buildroot")
	if code != 0 || !strings.Contains(out, "left out the root password hash (BR2_TARGET_GENERIC_ROOT_PASSWD") {
		t.Fatalf("save with a password hash: %d\n%s", code, out)
	}
	if def2, _ := os.ReadFile(filepath.Join(ext, "configs/openstack_ipa_defconfig")); strings.Contains(string(def2), "PASSWD") {
		t.Fatal("the hash reached the defconfig")
	}
	if out, code = runIpabr(dir, "save", "--buildroot", "--include-secrets"); code != 0 {
		t.Fatalf("save --include-secrets: %d\n%s", code, out)
	}
}

// TestBuildProgressOnTerminal: on a terminal the build shows one live
// line rewritten in place, not the timestamped lines it prints elsewhere,
// and the images table follows.
func TestBuildProgressOnTerminal(t *testing.T) {
	dir := fakeProject(t)
	cmd := exec.Command(ipabrExecutable(t), "--repo", dir, "build")
	cmd.Env = append(os.Environ(), "TERM=xterm", "NO_COLOR=1")
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var screen lockedBuffer
	done := make(chan struct{})
	go func() { _, _ = copyAll(&screen, ptmx); close(done) }()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("build: %v\n%s", err, screen.String())
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	s := screen.String()
	if !regexp.MustCompile(`\r\x1b\[K\[ *\d+/\d+\] busybox 1\.37\.0 Building  \d\d:\d\d`).MatchString(s) {
		t.Errorf("no live progress line:\n%q", s)
	}
	if regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d \[`).MatchString(s) {
		t.Errorf("timestamped lines on a terminal:\n%q", s)
	}
	if !strings.Contains(s, "bzImage") || strings.Contains(s, ">>> busybox") {
		t.Errorf("want the images table and no raw make output:\n%q", s)
	}
}
