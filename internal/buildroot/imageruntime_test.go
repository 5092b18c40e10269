package buildroot_test

// What the image does at run time, tested with real programs in places
// shaped like the image: the overlay's units under Debian's systemd
// (systemd-analyze verify, systemctl preset-all), its .network files under
// a real systemd-networkd in a network namespace, and its scripts and
// Python's ctypes in chroots that hold only what the image holds.
//
// Tiers: "systemd" needs systemd-analyze and systemctl; "netns" needs root
// and systemd-networkd; "chroot" needs root, ldd and busybox-static, and
// for the pyudev test IPABR_TEST_PYUDEV_DEB (Debian's python3-pyudev .deb,
// from `apt-get download python3-pyudev`).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/testenv"
)

func overlayDir(t testing.TB) string { return filepath.Join(boardDir(t), "rootfs-overlay") }

// unitFiles are the overlay's own systemd units.
func unitFiles(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(overlayDir(t), "usr/lib/systemd/system/*.*"))
	if err != nil {
		t.Fatal(err)
	}
	var units []string
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil && !fi.IsDir() {
			units = append(units, filepath.Base(n))
		}
	}
	if len(units) < 5 {
		t.Fatalf("found %d units in the overlay: %q", len(units), units)
	}
	return units
}

// systemdRoot is a directory tree the host's systemctl and systemd-analyze
// can work on with --root: the host's own units matching hostUnits
// (targets and the like that the image's systemd has too, as glob
// patterns), the board
// overlay over them, and stand-ins for the executables the image's units
// start.
func systemdRoot(t *testing.T, hostUnits ...string) string {
	t.Helper()
	root := t.TempDir()
	units := filepath.Join(root, "usr/lib/systemd/system")
	if err := os.MkdirAll(units, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		var matches []string
		for _, pattern := range hostUnits {
			m, _ := filepath.Glob(filepath.Join(src, pattern))
			matches = append(matches, m...)
		}
		if len(matches) == 0 {
			continue
		}
		args := append([]string{"-a"}, matches...)
		if out, err := exec.Command("cp", append(args, units+"/")...).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		break
	}
	if out, err := exec.Command("cp", "-a", overlayDir(t)+"/.", root+"/").CombinedOutput(); err != nil {
		t.Fatalf("cp overlay: %v\n%s", err, out)
	}
	for _, exe := range []string{"usr/bin/ironic-python-agent", "sbin/ldconfig"} {
		writeFile(t, filepath.Join(root, exe), "#!/bin/sh\n", 0o755)
	}
	return root
}

// TestUnitsVerify runs systemd-analyze verify on every unit of the overlay:
// unknown keys, bad values, missing executables or dependencies fail.
func TestUnitsVerify(t *testing.T) {
	analyze := testenv.Program(t, "systemd", "systemd-analyze")
	root := systemdRoot(t, "*")
	units := unitFiles(t)
	cmd := exec.Command(analyze, append([]string{"verify", "--root=" + root}, units...)...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(units, " "), err, out)
	}
}

// buildrootUnits stand in for the units of Buildroot's packages that the
// preset file names, with the [Install] sections those packages ship.
var buildrootUnits = map[string]string{
	"chrony.service": "[Unit]\nDescription=Chrony Network Time Daemon\n[Service]\nExecStart=/usr/sbin/chronyd -n\nRestart=always\n[Install]\nWantedBy=multi-user.target\n",
	"sshd.service":   "[Unit]\nDescription=OpenSSH server daemon\n[Service]\nExecStart=/usr/sbin/sshd -D\n[Install]\nWantedBy=multi-user.target\n",
}

// TestPresetsEnableTheImageUnits runs the host's real "systemctl
// preset-all" on the overlay, the way Buildroot assembles the root
// filesystem, and checks what it enables and what it must not, then that
// post-fakeroot.sh accepts the result and refuses it without ldconfig.
func TestPresetsEnableTheImageUnits(t *testing.T) {
	systemctl := testenv.Program(t, "systemd", "systemctl")
	// Only the targets the image's units are wanted by: the host's other
	// targets carry aliases of their own that preset-all would trip on.
	root := systemdRoot(t, "multi-user.target", "sysinit.target", "paths.target", "systemd-network-generator.service")
	units := filepath.Join(root, "usr/lib/systemd/system")
	for name, text := range buildrootUnits {
		writeFile(t, filepath.Join(units, name), text, 0o644)
	}
	// Upstream tier: Buildroot's own chrony unit, not a stand-in.
	if repo := os.Getenv("IPABR_TEST_BUILDROOT"); repo != "" {
		out, err := exec.Command("git", "-C", repo, "show", buildrootTag+":package/chrony/chrony.service").Output()
		if err != nil {
			t.Fatalf("Buildroot %s's chrony.service: %v", buildrootTag, err)
		}
		writeFile(t, filepath.Join(units, "chrony.service"), string(out), 0o644)
	}
	if out, err := exec.Command(systemctl, "--root="+root, "preset-all").CombinedOutput(); err != nil {
		t.Fatalf("systemctl preset-all: %v\n%s", err, out)
	}
	enabled := func(target, unit string) bool {
		_, err := os.Lstat(filepath.Join(root, "etc/systemd/system", target+".wants", unit))
		return err == nil
	}
	for unit, target := range map[string]string{
		"ironic-python-agent.service": "multi-user.target",
		"ipa-ldconfig.service":        "sysinit.target",
		"ipa-rescue.path":             "paths.target",
		"ipa-network-data.service":    "sysinit.target",
		// systemd's own unit (the host's copy): ip=, vlan=, bond= on the
		// kernel command line.
		"systemd-network-generator.service": "sysinit.target",
		"sshd.service":                      "multi-user.target",
	} {
		if !enabled(target, unit) {
			t.Errorf("%s is not enabled in %s", unit, target)
		}
	}
	// The agent owns time sync (chronyc shutdown, chronyd -q): no daemon.
	if enabled("multi-user.target", "chrony.service") {
		t.Error("chrony.service is enabled; it races the agent's clock sync")
	}

	p := newProject(t)
	if r := p.run(t, "post-fakeroot.sh", true, root); r.code != 0 || r.stderr != "" {
		t.Errorf("post-fakeroot.sh on the preset root: exit %d: %s", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(root, "sbin/ldconfig")); err != nil {
		t.Fatal(err)
	}
	if r := p.run(t, "post-fakeroot.sh", true, root); r.code != 1 || !strings.Contains(r.stderr, "ldconfig") {
		t.Errorf("post-fakeroot.sh without ldconfig: exit %d, stderr %q; want 1 naming ldconfig", r.code, r.stderr)
	}
}

// TestWiredNetworkMatchesEveryPortName runs the overlay's .network files
// in a real systemd-networkd with ports named by every naming scheme a
// server shows (the kernel's, systemd's predictable names, biosdevname's
// on Dell and HPE) and checks each gets DHCP from 99-ipa-wired.network,
// while virtual devices are left to the files made for them.
func TestWiredNetworkMatchesEveryPortName(t *testing.T) {
	networkDir := filepath.Join(overlayDir(t), "etc/systemd/network")
	ports := [][2]string{{"eth0", "eno1"}, {"ens1f0", "enp3s0f0np0"}, {"enx001122334455", "em1"}, {"p1p2", "em2"}}
	var links []testenv.NetworkLink
	for _, p := range ports {
		links = append(links, testenv.NetworkLink{Name: p[0], Kind: "veth", Peer: p[1]})
	}
	links = append(links,
		testenv.NetworkLink{Name: "br0", Kind: "bridge"},
		testenv.NetworkLink{Name: "bond0", Kind: "bond"},
		testenv.NetworkLink{Name: "eno1.100", Kind: "vlan", Parent: "eno1", VLANID: 100},
	)
	res := testenv.RunNetworkd(t, networkDir, links)
	unsupported := map[string]bool{}
	for _, name := range res.Unsupported {
		unsupported[name] = true
		fmt.Printf("SKIP netns: this kernel cannot make %s (no driver); its case is not checked\n", name)
	}
	want := map[string]string{"br0": "", "bond0": "", "eno1.100": "99-ipa-vlan.network"}
	for _, p := range ports {
		want[p[0]], want[p[1]] = "99-ipa-wired.network", "99-ipa-wired.network"
	}
	for name, file := range want {
		if unsupported[name] {
			continue
		}
		st, ok := res.Links[name]
		if !ok {
			t.Errorf("%s: networkd did not see it (links: %v)", name, res.Links)
			continue
		}
		if got := filepath.Base(st.NetworkFile); st.NetworkFile == "" && file != "" || st.NetworkFile != "" && got != file {
			t.Errorf("%s: network file %q (state %s), want %q", name, st.NetworkFile, st.AdminState, file)
		}
		if file == "" && st.AdminState != "unmanaged" {
			t.Errorf("%s: state %s, want unmanaged", name, st.AdminState)
		}
	}
}

// ---------------------------------------------------------------------------
// chroots shaped like the image

// imageRoot is a scratch root laid out like the image (merged /usr, the
// libraries in /usr/lib, /lib and /lib64 pointing there) holding only what
// a test copies in. Running programs in it needs root (chroot).
type imageRoot struct{ dir string }

func newImageRoot(t *testing.T) *imageRoot {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Skip(t, "chroot", "not root (chroot needs it)")
	}
	testenv.Program(t, "chroot", "ldd")
	r := &imageRoot{dir: t.TempDir()}
	for _, d := range []string{"usr/bin", "usr/sbin", "usr/lib", "usr/libexec", "etc", "dev", "tmp", "home", "root"} {
		if err := os.MkdirAll(filepath.Join(r.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, to := range map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib", "usr/lib64": "lib"} {
		if err := os.Symlink(to, filepath.Join(r.dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	// The image has devtmpfs; subprocess needs /dev/null.
	if out, err := exec.Command("mknod", "-m", "666", filepath.Join(r.dir, "dev/null"), "c", "1", "3").CombinedOutput(); err != nil {
		t.Fatalf("mknod: %v\n%s", err, out)
	}
	return r
}

// add copies a host file to rel in the root, and the shared libraries it
// links into /usr/lib.
func (r *imageRoot) add(t *testing.T, host, rel string) {
	t.Helper()
	dest := filepath.Join(r.dir, rel)
	if out, err := exec.Command("cp", "-L", host, dest).CombinedOutput(); err != nil {
		t.Fatalf("cp %s: %v\n%s", host, err, out)
	}
	r.addLibraries(t, host)
}

func (r *imageRoot) addLibraries(t *testing.T, host string) {
	t.Helper()
	out, err := exec.Command("ldd", host).Output()
	if err != nil {
		return // static, or not a program
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var lib string
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			lib = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			lib = f[0]
		default:
			continue
		}
		dest := filepath.Join(r.dir, "usr/lib", filepath.Base(lib))
		if _, err := os.Stat(dest); err == nil {
			continue
		}
		if out, err := exec.Command("cp", "-L", lib, dest).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v\n%s", lib, err, out)
		}
	}
}

// busybox puts Debian's busybox-static in as /bin/sh and the applets the
// image's scripts use.
func (r *imageRoot) busybox(t *testing.T, applets ...string) {
	t.Helper()
	bb := "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		testenv.Skip(t, "chroot", "busybox-static not installed")
	}
	r.add(t, bb, "usr/bin/busybox")
	for _, a := range append([]string{"sh"}, applets...) {
		if err := os.Symlink("busybox", filepath.Join(r.dir, "usr/bin", a)); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs argv in the root; it returns the combined output and exit code.
func (r *imageRoot) run(t *testing.T, env []string, argv ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("chroot", append([]string{r.dir}, argv...)...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin", "LC_ALL=C"}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("chroot %s: %v", strings.Join(argv, " "), err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

// execStart is the first ExecStart= command line of an overlay unit.
func execStart(t *testing.T, unit string) []string {
	t.Helper()
	text := readFile(t, filepath.Join(overlayDir(t), "usr/lib/systemd/system", unit))
	m := regexp.MustCompile(`(?m)^ExecStart=(\S.*)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%s has no ExecStart=", unit)
	}
	return strings.Fields(m[1])
}

// TestCtypesFindsLibudev shows the agent's start-up failure and its fix
// with real code: pyudev's loader (Debian's python3-pyudev 0.24.0) run by
// real CPython in a root without compiler, binutils, ldconfig or linker
// cache, as the image is. pyudev's Context() calls
// load_ctypes_library("udev"), which raises ImportError when
// ctypes.util.find_library("udev") returns None. (Debian patches Context
// to pass "libudev.so.1"; the wheel IPA installs passes "udev", so the
// test calls the loader with "udev" as the wheel does.) With the image's
// ldconfig and the cache ipa-ldconfig.service builds, it loads libudev.
func TestCtypesFindsLibudev(t *testing.T) {
	deb := testenv.Env(t, "chroot", "IPABR_TEST_PYUDEV_DEB")
	r := newImageRoot(t)
	testenv.Program(t, "chroot", "dpkg-deb")
	python, err := filepath.EvalSymlinks("/usr/bin/python3")
	if err != nil {
		testenv.Skip(t, "chroot", "no /usr/bin/python3")
	}
	out, err := exec.Command(python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])").Output()
	if err != nil {
		t.Fatal(err)
	}
	stdlib := strings.TrimSpace(string(out))
	r.add(t, python, strings.TrimPrefix(python, "/"))
	if err := os.MkdirAll(filepath.Join(r.dir, filepath.Dir(stdlib)), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", stdlib, filepath.Join(r.dir, filepath.Dir(stdlib))+"/").CombinedOutput(); err != nil {
		t.Fatalf("cp stdlib: %v\n%s", err, out)
	}
	dynload, _ := filepath.Glob(filepath.Join(stdlib, "lib-dynload", "_ctypes*.so"))
	for _, so := range dynload {
		r.addLibraries(t, so)
	}
	libudev := ""
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libudev.so.1", "/lib/x86_64-linux-gnu/libudev.so.1", "/usr/lib/libudev.so.1"} {
		if _, err := os.Stat(p); err == nil {
			libudev = p
			break
		}
	}
	if libudev == "" {
		testenv.Skip(t, "chroot", "libudev.so.1 not installed")
	}
	r.add(t, libudev, "usr/lib/libudev.so.1")

	debDir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", deb, debDir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x %s: %v\n%s", deb, err, out)
	}
	pkgs, _ := filepath.Glob(filepath.Join(debDir, "usr/lib/python3*/dist-packages/pyudev"))
	if len(pkgs) != 1 {
		t.Fatalf("%s holds no pyudev package", deb)
	}
	site := filepath.Join(r.dir, "usr/lib/site-ipa")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", pkgs[0], site+"/").CombinedOutput(); err != nil {
		t.Fatalf("cp pyudev: %v\n%s", err, out)
	}

	const probe = `import ctypes.util
from pyudev._ctypeslib.utils import load_ctypes_library
from pyudev._ctypeslib.libudev import SIGNATURES, ERROR_CHECKERS
print("find_library:", ctypes.util.find_library("udev"))
lib = load_ctypes_library("udev", SIGNATURES, ERROR_CHECKERS)
print("udev_new:", bool(lib.udev_new()))
`
	env := []string{"PYTHONPATH=/usr/lib/site-ipa"}
	interp := "/" + strings.TrimPrefix(python, "/")

	// The image without the fix: no ldconfig, no cache.
	out1, code := r.run(t, env, interp, "-c", probe)
	if code == 0 || !strings.Contains(out1, "ImportError: No library named udev") {
		t.Fatalf("without ldconfig: exit %d, want pyudev's ImportError:\n%s", code, out1)
	}

	// The fix: the image's ldconfig (glibc's; the host's stands in) and the
	// cache built by the command ipa-ldconfig.service runs at boot.
	argv := execStart(t, "ipa-ldconfig.service")
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		ldconfig = "/sbin/ldconfig"
	}
	r.add(t, ldconfig, strings.TrimPrefix(argv[0], "/"))
	if out, code := r.run(t, nil, argv...); code != 0 {
		t.Fatalf("%s: exit %d\n%s", strings.Join(argv, " "), code, out)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "etc/ld.so.cache")); err != nil {
		t.Fatalf("%s made no /etc/ld.so.cache: %v", strings.Join(argv, " "), err)
	}
	out2, code := r.run(t, env, interp, "-c", probe)
	if code != 0 || !strings.Contains(out2, "find_library: libudev.so.1") || !strings.Contains(out2, "udev_new: True") {
		t.Errorf("with ldconfig and its cache: exit %d, want libudev loaded:\n%s", code, out2)
	}
}

// rescueRoot is an image root with the tools ipa-rescue-user runs:
// busybox's shell and applets, shadow's useradd and chpasswd (the host's
// Debian builds stand in for Buildroot's), Buildroot's skeleton accounts.
func rescueRoot(t *testing.T) *imageRoot {
	t.Helper()
	r := newImageRoot(t)
	r.busybox(t, "cat", "mkdir", "chmod", "mv", "id", "printf")
	for _, tool := range []string{"useradd", "chpasswd"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			testenv.Skip(t, "chroot", tool+" not installed")
		}
		r.add(t, path, "usr/sbin/"+tool)
	}
	writeFile(t, filepath.Join(r.dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n", 0o644)
	writeFile(t, filepath.Join(r.dir, "etc/group"), "root:x:0:\nwheel:x:10:root\nusers:x:100:\n", 0o644)
	writeFile(t, filepath.Join(r.dir, "etc/shadow"), "root:*:::::::\ndaemon:*:::::::\n", 0o600)
	script := filepath.Join(overlayDir(t), "usr/libexec/ipa-rescue-user")
	writeFile(t, filepath.Join(r.dir, "usr/libexec/ipa-rescue-user"), readFile(t, script), 0o755)
	if err := os.MkdirAll(filepath.Join(r.dir, "etc/ipa-rescue-config"), 0o700); err != nil {
		t.Fatal(err)
	}
	return r
}

func countLines(text, prefix string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestRescueUser runs the rescue unit's script on a scratch root after
// writing the password file the way IPA's finalize_rescue does.
func TestRescueUser(t *testing.T) {
	r := rescueRoot(t)
	argv := execStart(t, "ipa-rescue.service")
	pwFile := filepath.Join(r.dir, "etc/ipa-rescue-config/ipa-rescue-password")
	// What IPA writes: crypt_password(password, crypt_mksalt('SHA-256')),
	// no newline.
	first := "$5$kR4v9o0QmLw2t1Zc$4mQ0YQk8b0xG5x8l5E0C3cQnJ3b9dFh1oVt7s2aWm3C"
	writeFile(t, pwFile, first, 0o600)
	out, code := r.run(t, nil, argv...)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s", argv[0], code, out)
	}
	passwd, shadow, group := readFile(t, filepath.Join(r.dir, "etc/passwd")), readFile(t, filepath.Join(r.dir, "etc/shadow")), readFile(t, filepath.Join(r.dir, "etc/group"))
	if !regexp.MustCompile(`(?m)^rescue:x:\d+:\d+::/home/rescue:/bin/sh$`).MatchString(passwd) {
		t.Errorf("no rescue account in /etc/passwd:\n%s", passwd)
	}
	if !strings.Contains(shadow, "\nrescue:"+first+":") {
		t.Errorf("/etc/shadow lacks the rescue password hash:\n%s", shadow)
	}
	if !regexp.MustCompile(`(?m)^wheel:x:10:root,rescue$`).MatchString(group) {
		t.Errorf("rescue is not in wheel:\n%s", group)
	}
	if fi, err := os.Stat(filepath.Join(r.dir, "home/rescue")); err != nil || !fi.IsDir() {
		t.Errorf("no home directory: %v", err)
	}
	sudoers := filepath.Join(r.dir, "etc/sudoers.d/rescue")
	if got := readFile(t, sudoers); got != "rescue ALL=(ALL) NOPASSWD: ALL\n" {
		t.Errorf("sudoers.d/rescue = %q", got)
	}
	if m := mode(t, sudoers); m != 0o440 {
		t.Errorf("sudoers.d/rescue mode %04o, want 0440 (sudo ignores others)", m)
	}
	if visudo, err := exec.LookPath("visudo"); err == nil {
		if out, err := exec.Command(visudo, "-c", "-f", sudoers).CombinedOutput(); err != nil {
			t.Errorf("visudo -c: %v\n%s", err, out)
		}
	}

	// finalize_rescue again (a retried command): the password changes, the
	// account stays one.
	second := "$5$Zx1y2W3v4U5t6S7r$Qw9Er8Ty7Ui6Op5As4Df3Gh2Jk1Lz0Xc9Vb8Nm7Qw6E"
	writeFile(t, pwFile, second, 0o600)
	if out, code := r.run(t, nil, argv...); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	passwd, shadow = readFile(t, filepath.Join(r.dir, "etc/passwd")), readFile(t, filepath.Join(r.dir, "etc/shadow"))
	if countLines(passwd, "rescue:") != 1 || !strings.Contains(shadow, "\nrescue:"+second+":") {
		t.Errorf("after a second run:\n%s\n%s", passwd, shadow)
	}
}

// TestRescueUserRefusesBadPassword: an empty or plaintext password, or one
// that would break /etc/shadow, creates no account (an empty hash would
// mean login without a password).
func TestRescueUserRefusesBadPassword(t *testing.T) {
	for name, content := range map[string]string{
		"empty":     "",
		"plaintext": "hunter2",
		"colon":     "$5$salt$abc:0:0",
		"newline":   "$5$salt$abc\nroot::0:0",
		"space":     "$5$salt$abc def",
	} {
		t.Run(name, func(t *testing.T) {
			r := rescueRoot(t)
			writeFile(t, filepath.Join(r.dir, "etc/ipa-rescue-config/ipa-rescue-password"), content, 0o600)
			out, code := r.run(t, nil, execStart(t, "ipa-rescue.service")...)
			if code != 1 || !strings.Contains(out, "no rescue user created") {
				t.Errorf("exit %d, want 1 and a reason:\n%s", code, out)
			}
			if strings.Contains(out, "hunter2") {
				t.Errorf("the password file's content was printed:\n%s", out)
			}
			if strings.Contains(readFile(t, filepath.Join(r.dir, "etc/passwd")), "rescue") {
				t.Error("an account was created")
			}
			if _, err := os.Stat(filepath.Join(r.dir, "etc/sudoers.d/rescue")); err == nil {
				t.Error("sudo rights were granted")
			}
		})
	}
}

// TestRescueNetworkRestartsDHCPOnPorts runs ipa-rescue-network in a root
// whose /sys/class/net has two Ethernet ports, the loopback, a bond and a
// VLAN, with networkctl and sleep recording what they are asked.
func TestRescueNetworkRestartsDHCPOnPorts(t *testing.T) {
	r := newImageRoot(t)
	r.busybox(t, "cat")
	record := "/tmp/calls"
	for _, tool := range []string{"networkctl", "sleep"} {
		writeFile(t, filepath.Join(r.dir, "usr/bin", tool), "#!/bin/sh\necho \""+tool+" $*\" >>"+record+"\n", 0o755)
	}
	net := filepath.Join(r.dir, "sys/class/net")
	for name, spec := range map[string]struct {
		arpType string
		device  bool
	}{"eno1": {"1", true}, "ens1f0": {"1", true}, "lo": {"772", false}, "bond0": {"1", false}, "eno1.100": {"1", false}} {
		writeFile(t, filepath.Join(net, name, "type"), spec.arpType+"\n", 0o644)
		if spec.device {
			if err := os.MkdirAll(filepath.Join(net, name, "device"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	script := filepath.Join(overlayDir(t), "usr/libexec/ipa-rescue-network")
	writeFile(t, filepath.Join(r.dir, "usr/libexec/ipa-rescue-network"), readFile(t, script), 0o755)
	argv := execStart(t, "ipa-rescue-network.service")
	if out, code := r.run(t, nil, argv...); code != 0 {
		t.Fatalf("%s: exit %d\n%s", argv[0], code, out)
	}
	calls := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(r.dir, record))), "\n")
	var sleeps, reconfigures []string
	for _, c := range calls {
		switch {
		case strings.HasPrefix(c, "sleep "):
			sleeps = append(sleeps, strings.TrimPrefix(c, "sleep "))
		case strings.HasPrefix(c, "networkctl "):
			reconfigures = append(reconfigures, c)
		}
	}
	if len(sleeps) < 3 || len(reconfigures) != len(sleeps) {
		t.Fatalf("calls %q: want a few rounds of sleep then networkctl", calls)
	}
	for _, c := range reconfigures {
		f := strings.Fields(c)
		links := f[2:]
		sort.Strings(links)
		if f[1] != "reconfigure" || strings.Join(links, " ") != "eno1 ens1f0" {
			t.Errorf("%q: want networkctl reconfigure of the two ports only", c)
		}
	}
}

// ctypesSite lays out a site-packages directory as install-wheels.py
// leaves it (modules, each distribution's RECORD) and the manifest it
// writes, for the given distributions: name -> version -> {file: source}.
func ctypesSite(t *testing.T, dists map[string]map[string]string, versions map[string]string) (site, manifest string) {
	t.Helper()
	site = t.TempDir()
	type pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Wheel   string `json:"wheel"`
	}
	var pkgs []pkg
	names := make([]string, 0, len(dists))
	for name := range dists {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		version := versions[name]
		distName := strings.ReplaceAll(name, "-", "_")
		distInfo := filepath.Join(site, distName+"-"+version+".dist-info")
		var record strings.Builder
		for rel, src := range dists[name] {
			writeFile(t, filepath.Join(site, rel), src, 0o644)
			fmt.Fprintf(&record, "%s,sha256=x,%d\n", rel, len(src))
		}
		fmt.Fprintf(&record, "%s-%s.dist-info/RECORD,,\n", distName, version)
		writeFile(t, filepath.Join(distInfo, "RECORD"), record.String(), 0o644)
		pkgs = append(pkgs, pkg{Name: name, Version: version, Wheel: distName + "-" + version + "-py3-none-any.whl"})
	}
	data, err := json.Marshal(map[string]any{"packages": pkgs})
	if err != nil {
		t.Fatal(err)
	}
	manifest = filepath.Join(t.TempDir(), "ipa-manifest.json")
	writeFile(t, manifest, string(data), 0o644)
	return site, manifest
}

func ctypesScript(t *testing.T) string {
	return filepath.Join(externalDir(t), "package", "ironic-python-agent", "ctypes-libraries.py")
}

func runPython(t *testing.T, args ...string) (string, int) {
	t.Helper()
	py := testenv.Program(t, "hermetic", "python3")
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		return string(out), ee.ExitCode()
	}
	return string(out), 0
}

// upstreamPyudevLoader is pyudev 0.24's library loader as its wheel has it
// (the two calls Buildroot's python-pyudev patch replaces).
const upstreamPyudevLoader = `from ctypes import CDLL
from ctypes.util import find_library


def load_ctypes_library(name, signatures, error_checkers):
    library_name = find_library(name)
    if not library_name:
        raise ImportError(f"No library named {name}")
    lib = CDLL(library_name, use_errno=True)
    return lib
`

// TestCtypesLibrariesScanAndCheck runs the package's ctypes check on wheels
// that load libraries in each way it knows: pyudev's reviewed loader,
// ifaddr's conditional literal, and a new module with a computed name and
// a library the image lacks.
func TestCtypesLibrariesScanAndCheck(t *testing.T) {
	site, manifest := ctypesSite(t, map[string]map[string]string{
		"pyudev": {
			"pyudev/__init__.py":            "",
			"pyudev/_ctypeslib/utils.py":    upstreamPyudevLoader,
			"pyudev/core.py":                "from pyudev._ctypeslib.utils import load_ctypes_library\n",
			"pyudev/_ctypeslib/__init__.py": "",
		},
		"ifaddr": {
			"ifaddr/_posix.py": "import ctypes.util\nimport os\n\nlibc = ctypes.CDLL(ctypes.util.find_library(\"socket\" if os.uname()[0] == \"SunOS\" else \"c\"), use_errno=True)\n",
		},
		"new-hw-manager": {
			"new_hw_manager/lib.py": "import ctypes\nimport ctypes.util\n\nPATH = '/opt/vendor/libraid.so'\nraid = ctypes.CDLL(PATH)\ngone = ctypes.util.find_library('nothere')\n",
		},
	}, map[string]string{"pyudev": "0.24.3", "ifaddr": "0.2.0", "new-hw-manager": "1.0"})
	report := filepath.Join(t.TempDir(), "ctypes-libraries.json")
	reviewed := filepath.Join(filepath.Dir(ctypesScript(t)), "ctypes-libraries.txt")
	out, code := runPython(t, ctypesScript(t), "scan", "--site", site, "--manifest", manifest, "--reviewed", reviewed, "--out", report)
	if code != 0 {
		t.Fatalf("scan: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"ctypes: pyudev pyudev/_ctypeslib/utils.py:6 find_library(name) -> udev",
		"ctypes: ifaddr ifaddr/_posix.py:4 ctypes.util.find_library('socket' if os.uname()[0] == 'SunOS' else 'c') -> c socket",
		"WARNING: ctypes: new-hw-manager new_hw_manager/lib.py:5 ctypes.CDLL(PATH) loads a library this check cannot name",
		"ctypes: new-hw-manager new_hw_manager/lib.py:6 ctypes.util.find_library('nothere') -> nothere",
		"5 ctypes library loads, 1 not reviewed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scan output lacks %q:\n%s", want, out)
		}
	}

	target := t.TempDir()
	writeFile(t, filepath.Join(target, "usr/lib/libc.so.6"), "", 0o755)
	writeFile(t, filepath.Join(target, "usr/lib/libudev.so.1.7.10"), "", 0o755)
	if err := os.Symlink("libudev.so.1.7.10", filepath.Join(target, "usr/lib/libudev.so.1")); err != nil {
		t.Fatal(err)
	}
	out, code = runPython(t, ctypesScript(t), "check", "--report", report, "--target", target)
	if code != 0 {
		t.Fatalf("check with libudev: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"find_library(name): udev (libudev.so.1)",
		"c (libc.so.6)",
		"WARNING: ctypes: new-hw-manager new_hw_manager/lib.py:6 ctypes.util.find_library('nothere'): none of nothere is in the image",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	// Without libudev the agent would die at start: the build fails.
	for _, f := range []string{"libudev.so.1", "libudev.so.1.7.10"} {
		if err := os.Remove(filepath.Join(target, "usr/lib", f)); err != nil {
			t.Fatal(err)
		}
	}
	out, code = runPython(t, ctypesScript(t), "check", "--report", report, "--target", target)
	if code != 1 || !strings.Contains(out, "ERROR: libraries the agent loads are not in the image: pyudev pyudev/_ctypeslib/utils.py:6 find_library(name): udev") {
		t.Errorf("check without libudev: exit %d, want 1 naming udev:\n%s", code, out)
	}
}

// TestCtypesReviewedListMatchesPyudev: the reviewed entries match the calls
// in pyudev's real loader (Debian's python3-pyudev 0.24.0 has upstream's),
// so a real build recognises them.
func TestCtypesReviewedListMatchesPyudev(t *testing.T) {
	deb := testenv.Env(t, "chroot", "IPABR_TEST_PYUDEV_DEB")
	testenv.Program(t, "chroot", "dpkg-deb")
	dir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", deb, dir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	utils, _ := filepath.Glob(filepath.Join(dir, "usr/lib/python3*/dist-packages/pyudev/_ctypeslib/utils.py"))
	if len(utils) != 1 {
		t.Fatalf("%s has no pyudev/_ctypeslib/utils.py", deb)
	}
	site, manifest := ctypesSite(t, map[string]map[string]string{
		"pyudev": {"pyudev/_ctypeslib/utils.py": readFile(t, utils[0])},
	}, map[string]string{"pyudev": "0.24.0"})
	report := filepath.Join(t.TempDir(), "report.json")
	reviewed := filepath.Join(filepath.Dir(ctypesScript(t)), "ctypes-libraries.txt")
	out, code := runPython(t, ctypesScript(t), "scan", "--site", site, "--manifest", manifest, "--reviewed", reviewed, "--out", report)
	if code != 0 || !strings.Contains(out, "2 ctypes library loads, 0 not reviewed") || !strings.Contains(out, "find_library(name) -> udev") {
		t.Errorf("pyudev's real loader against the reviewed list: exit %d\n%s", code, out)
	}
}
