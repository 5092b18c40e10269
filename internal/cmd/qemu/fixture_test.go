package qemucmd

// The boot tier's fixture: a Debian kernel (apt-get download, dpkg-deb -x;
// nothing is installed) and an initramfs assembled here from busybox-static
// and the kernel's NIC modules. Its /init loads the NIC drivers, gets an
// address with udhcpc and serves a copy of IPA's API root document on port
// 9999 with busybox httpd, unless the kernel arguments say
// fixture.responder=off. The kernel, modules and busybox are cached in
// $XDG_CACHE_HOME/ipabr-test/boot-<kernel version>/ (default ~/.cache), so
// only the first run downloads anything.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/testenv"
)

// fixtureModules are the NIC drivers the fixture loads (with what they
// depend on): e1000, the default NIC, and virtio-net for --nic virtio.
var fixtureModules = []string{"e1000", "virtio_pci", "virtio_net"}

// ipaRootDocument is shaped like ironic_python_agent/api/app.py's root.
const ipaRootDocument = `{"name": "OpenStack Ironic Python Agent API", "description": "Ironic Python Agent is a provisioning agent for OpenStack Ironic (ipabr boot fixture)", "versions": [{"id": "v1", "links": [{"href": "http://10.0.2.15:9999/v1/", "rel": "self"}], "min_version": "1.0", "version": "1.16", "status": "CURRENT"}], "default_version": {"id": "v1", "links": [{"href": "http://10.0.2.15:9999/v1/", "rel": "self"}], "min_version": "1.0", "version": "1.16", "status": "CURRENT"}}`

const fixtureInit = `#!/bin/busybox sh
# ipabr boot fixture: bring the NIC up with DHCP and answer like IPA on 9999.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "fixture: init started"
for m in $(cat /lib/modules/order); do
	insmod /lib/modules/$m.ko || echo "fixture: insmod $m failed"
done
ip link set lo up
ifc=
for i in $(seq 50); do
	for d in /sys/class/net/*; do [ "${d##*/}" = lo ] || ifc=${d##*/}; done
	[ -n "$ifc" ] && break
	sleep 0.1
done
echo "fixture: interface ${ifc:-none}"
ip link set "$ifc" up
udhcpc -i "$ifc" -s /udhcpc.sh -q -n -t 10 -T 1 || echo "fixture: no DHCP lease"
if grep -q 'fixture.responder=off' /proc/cmdline; then
	echo "fixture: responder disabled"
else
	httpd -p 9999 -h /www && echo "fixture: responder up on port 9999"
fi
while :; do sleep 3600; done
`

const fixtureDHCPScript = `#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "$router" ] && ip route add default via "$router"
echo "fixture: $interface has $ip"
`

type bootFixture struct {
	KVer   string
	Kernel string
	Initrd string
}

var (
	fixtureOnce sync.Once
	fixture     *bootFixture
	fixtureErr  error
)

// bootTier skips t unless QEMU (and Debian's packaging tools, which make
// the fixture) are installed, then returns the fixture.
func bootTier(t *testing.T) *bootFixture {
	t.Helper()
	testenv.Program(t, "boot", "qemu-system-x86_64")
	testenv.Program(t, "boot", "apt-get")
	testenv.Program(t, "boot", "dpkg-deb")
	fixtureOnce.Do(func() {
		start := time.Now()
		fixture, fixtureErr = buildFixture(t.Logf)
		if fixtureErr == nil {
			t.Logf("boot fixture %s ready in %.1fs", fixture.Initrd, time.Since(start).Seconds())
		}
	})
	if fixtureErr != nil {
		t.Fatalf("building the boot fixture: %v", fixtureErr)
	}
	return fixture
}

func buildFixture(logf func(string, ...any)) (*bootFixture, error) {
	pkg, kver, err := kernelPackage()
	if err != nil {
		return nil, err
	}
	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	cacheRoot = filepath.Join(cacheRoot, "ipabr-test")
	dir := filepath.Join(cacheRoot, "boot-"+kver)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err != nil {
		logf("building the boot fixture for %s in %s", pkg, dir)
		if err := populateCache(cacheRoot, dir, pkg, kver); err != nil {
			return nil, err
		}
	}
	initrd, err := writeInitrd(dir)
	if err != nil {
		return nil, err
	}
	return &bootFixture{KVer: kver, Kernel: filepath.Join(dir, "vmlinuz"), Initrd: initrd}, nil
}

// kernelPackage is the current linux-image-*-amd64 package, as the
// linux-image-amd64 metapackage names it.
func kernelPackage() (pkg, kver string, err error) {
	out, err := exec.Command("apt-cache", "depends", "linux-image-amd64").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("apt-cache depends linux-image-amd64: %v: %s", err, out)
	}
	m := regexp.MustCompile(`Depends: (linux-image-(\S+-amd64))\b`).FindSubmatch(out)
	if m == nil {
		return "", "", fmt.Errorf("apt-cache depends linux-image-amd64 names no kernel (run apt-get update?):\n%s", out)
	}
	return string(m[1]), string(m[2]), nil
}

// populateCache downloads and unpacks the kernel package and fills dir with
// vmlinuz, modules/ (NIC drivers, uncompressed, load order in modules/order)
// and a static busybox. It builds in a temporary sibling and renames, so
// concurrent test processes never see half a fixture.
func populateCache(cacheRoot, dir, pkg, kver string) error {
	if err := os.MkdirAll(cacheRoot, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(cacheRoot, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := run(work, "apt-get", "download", pkg); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(work, pkg+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s left %v", pkg, debs)
	}
	root := filepath.Join(work, "root")
	if err := run(work, "dpkg-deb", "-x", debs[0], root); err != nil {
		return err
	}
	out := filepath.Join(work, "out")
	if err := os.MkdirAll(filepath.Join(out, "modules"), 0o755); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(root, "boot", "vmlinuz-"+kver), filepath.Join(out, "vmlinuz"), 0o644); err != nil {
		return err
	}
	order, err := collectModules(root, kver, filepath.Join(out, "modules"), fixtureModules)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "modules", "order"), []byte(strings.Join(order, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := staticBusybox(work, filepath.Join(out, "busybox")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "complete"), []byte(pkg+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(out, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "complete")); serr == nil {
			return nil // another test process finished first
		}
		_ = os.RemoveAll(dir) // an incomplete leftover
		return os.Rename(out, dir)
	}
	return nil
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func copyFile(from, to string, mode fs.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}

// collectModules copies the wanted modules and their dependencies (the
// depends= of each module's .modinfo) from the unpacked package into dst,
// decompressed, and returns their names in load order. Modules built into
// the kernel are skipped.
func collectModules(root, kver, dst string, want []string) ([]string, error) {
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	files := map[string]string{}
	builtin := map[string]bool{}
	for _, base := range []string{"lib/modules", "usr/lib/modules"} {
		mdir := filepath.Join(root, base, kver)
		if b, err := os.ReadFile(filepath.Join(mdir, "modules.builtin")); err == nil {
			for _, l := range strings.Fields(string(b)) {
				builtin[norm(strings.TrimSuffix(filepath.Base(l), ".ko"))] = true
			}
		}
		_ = filepath.WalkDir(filepath.Join(mdir, "kernel"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				name := d.Name()
				for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
					if strings.HasSuffix(name, ext) {
						files[norm(strings.TrimSuffix(name, ext))] = p
					}
				}
			}
			return nil
		})
	}
	var order []string
	done := map[string]bool{}
	var add func(name string, from string) error
	add = func(name, from string) error {
		name = norm(name)
		if done[name] || builtin[name] {
			return nil
		}
		done[name] = true
		src, ok := files[name]
		if !ok {
			return fmt.Errorf("kernel module %s (needed by %s) is neither in the package nor built in", name, from)
		}
		ko := filepath.Join(dst, name+".ko")
		if err := decompress(src, ko); err != nil {
			return err
		}
		deps, err := moduleDepends(ko)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := add(d, name); err != nil {
				return err
			}
		}
		order = append(order, name)
		return nil
	}
	for _, w := range want {
		if err := add(w, "the fixture"); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func decompress(src, dst string) error {
	var tool string
	switch {
	case strings.HasSuffix(src, ".xz"):
		tool = "xz"
	case strings.HasSuffix(src, ".zst"):
		tool = "zstd"
	case strings.HasSuffix(src, ".gz"):
		tool = "gzip"
	default:
		return copyFile(src, dst, 0o644)
	}
	out, err := exec.Command(tool, "-dc", src).Output()
	if err != nil {
		return fmt.Errorf("%s -dc %s: %v", tool, src, err)
	}
	return os.WriteFile(dst, out, 0o644)
}

// moduleDepends reads the depends= entry of a module's .modinfo section.
func moduleDepends(ko string) ([]string, error) {
	f, err := elf.Open(ko)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ko, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("%s has no .modinfo", ko)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			if len(v) == 0 {
				return nil, nil
			}
			return strings.Split(string(v), ","), nil
		}
	}
	return nil, nil
}

// staticBusybox copies the host's busybox-static (/bin/busybox), or
// downloads and unpacks the package when the host's busybox is dynamic or
// missing.
func staticBusybox(work, dst string) error {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if isStatic(p) {
			return copyFile(p, dst, 0o755)
		}
	}
	if err := run(work, "apt-get", "download", "busybox-static"); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(work, "busybox-static_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download busybox-static left %v", debs)
	}
	root := filepath.Join(work, "busybox-root")
	if err := run(work, "dpkg-deb", "-x", debs[0], root); err != nil {
		return err
	}
	for _, p := range []string{"bin/busybox", "usr/bin/busybox"} {
		if isStatic(filepath.Join(root, p)) {
			return copyFile(filepath.Join(root, p), dst, 0o755)
		}
	}
	return fmt.Errorf("busybox-static holds no static busybox")
}

func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return f.Machine == elf.EM_X86_64
}

// writeInitrd assembles the initramfs (gzip-compressed newc cpio) in dir,
// named by a hash of its contents, and returns its path.
func writeInitrd(dir string) (string, error) {
	type entry struct {
		name string
		mode uint32
		data []byte
		rdev [2]uint32
	}
	const (
		dirMode  = 0o040755
		fileMode = 0o100644
		execMode = 0o100755
		charMode = 0o020600
	)
	busybox, err := os.ReadFile(filepath.Join(dir, "busybox"))
	if err != nil {
		return "", err
	}
	entries := []entry{
		{name: "bin", mode: dirMode}, {name: "dev", mode: dirMode}, {name: "proc", mode: dirMode},
		{name: "sys", mode: dirMode}, {name: "lib", mode: dirMode}, {name: "lib/modules", mode: dirMode},
		{name: "www", mode: dirMode}, {name: "www/v1", mode: dirMode},
		{name: "dev/console", mode: charMode, rdev: [2]uint32{5, 1}},
		{name: "bin/busybox", mode: execMode, data: busybox},
		{name: "init", mode: execMode, data: []byte(fixtureInit)},
		{name: "udhcpc.sh", mode: execMode, data: []byte(fixtureDHCPScript)},
		{name: "www/index.html", mode: fileMode, data: []byte(ipaRootDocument + "\n")},
		{name: "www/v1/status", mode: fileMode, data: []byte(`{"started_at": 0, "version": "fixture"}` + "\n")},
	}
	mods, err := filepath.Glob(filepath.Join(dir, "modules", "*"))
	if err != nil {
		return "", err
	}
	sort.Strings(mods)
	for _, m := range mods {
		b, err := os.ReadFile(m)
		if err != nil {
			return "", err
		}
		entries = append(entries, entry{name: "lib/modules/" + filepath.Base(m), mode: fileMode, data: b})
	}
	var raw bytes.Buffer
	pad := func() {
		for raw.Len()%4 != 0 {
			raw.WriteByte(0)
		}
	}
	write := func(ino int, e entry) {
		nlink := 1
		if e.mode&0o170000 == dirMode&0o170000 {
			nlink = 2
		}
		fmt.Fprintf(&raw, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.rdev[0], e.rdev[1], len(e.name)+1, 0)
		raw.WriteString(e.name)
		raw.WriteByte(0)
		pad()
		raw.Write(e.data)
		pad()
	}
	for i, e := range entries {
		write(i+1, e)
	}
	write(0, entry{name: "TRAILER!!!"})
	sum := sha256.Sum256(raw.Bytes())
	path := filepath.Join(dir, "initrd-"+hex.EncodeToString(sum[:6])+".cpio.gz")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp, err := os.CreateTemp(dir, "initrd-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	zw, _ := gzip.NewWriterLevel(tmp, gzip.BestSpeed)
	if _, err := io.Copy(zw, &raw); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}
