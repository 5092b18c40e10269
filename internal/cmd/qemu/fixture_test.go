package qemucmd

// The boot tier's fixture: a Debian kernel (apt-get download, dpkg-deb -x;
// nothing is installed) and an initramfs assembled here from busybox-static
// and the kernel's NIC and disk modules. Its /init loads the drivers, gets
// an address with udhcpc and starts /agent.sh, a stand-in for IPA in busybox
// sh that follows IPA's protocol from the kernel command line (see
// fixtureAgent), unless the arguments say fixture.agent=off. The kernel,
// modules and busybox are cached in $XDG_CACHE_HOME/ipabr-test/
// boot-<kernel version>-<modules>/ (default ~/.cache), so only the first run
// downloads anything.

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

// fixtureModules are the drivers the fixture loads (with what they depend
// on): e1000, the default NIC; virtio-net for --nic virtio; and the disk
// controllers of the check's scratch disks, virtio-blk and NVMe.
var fixtureModules = []string{"e1000", "virtio_pci", "virtio_net", "virtio_blk", "nvme"}

// ipaRootDocument is shaped like ironic_python_agent/api/app.py's root.
const ipaRootDocument = `{"name": "OpenStack Ironic Python Agent API", "description": "Ironic Python Agent is a provisioning agent for OpenStack Ironic (ipabr boot fixture)", "versions": [{"id": "v1", "links": [{"href": "http://10.0.2.15:9999/v1/", "rel": "self"}], "min_version": "1.0", "version": "1.16", "status": "CURRENT"}], "default_version": {"id": "v1", "links": [{"href": "http://10.0.2.15:9999/v1/", "rel": "self"}], "min_version": "1.0", "version": "1.16", "status": "CURRENT"}}`

const fixtureInit = `#!/bin/busybox sh
# ipabr boot fixture: load the drivers, bring the NIC up with DHCP, start the agent.
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
if grep -q 'fixture.agent=off' /proc/cmdline; then
	echo "fixture: agent disabled"
else
	/agent.sh "$ifc" &
fi
while :; do sleep 3600; done
`

const fixtureDHCPScript = `#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "$router" ] && ip route add default via "$router"
echo "$ip" > /tmp/ip
echo "fixture: $interface has $ip"
`

// fixtureAgent plays IPA's start-up (ironic_python_agent/agent.py, run)
// from the kernel command line: the inventory (hardware.py's fields, read
// from /sys and /proc) to ipa-inspection-callback-url, lookup by MAC at
// ipa-api-url, the agent API on 9999 (busybox httpd: the root document,
// /v1/status, and commands through cgi-bin/index.cgi), then heartbeats
// with the token. fixture.agent= picks a broken variant: noheartbeat,
// wrongtoken (a token of its own), nodisks (an inventory without disks).
// Without ipa-api-url it only serves the API, as IPA does.
const fixtureAgent = `#!/bin/sh
ifc=$1
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
api=$(arg ipa-api-url)
callback=$(arg ipa-inspection-callback-url)
variant=$(arg fixture.agent)
version=fixture-1.0
printf '{"started_at": %s, "version": "%s"}\n' "$(date +%s)" "$version" > /www/v1/status
serve() { httpd -p 9999 -h /www && echo "fixture: agent API up on port 9999"; }
if [ -z "$api" ]; then
	echo "fixture: no ipa-api-url, serving the agent API only"
	serve
	exit 0
fi
json() { tr -d '"\\' | sed 's/ *$//'; }
ip=$(cat /tmp/ip 2>/dev/null)
mac=$(cat /sys/class/net/$ifc/address)
nics=
for d in /sys/class/net/*; do
	n=${d##*/}
	[ "$n" = lo ] && continue
	drv=$(basename "$(readlink $d/device/driver)")
	a=$(ip -4 -o addr show dev "$n" | sed -n 's/.* inet \([0-9.]*\).*/\1/p' | head -n 1)
	nics="$nics${nics:+, }{\"name\": \"$n\", \"mac_address\": \"$(cat $d/address)\", \"ipv4_address\": \"$a\", \"has_carrier\": true, \"driver\": \"$drv\"}"
done
disks=
for d in /sys/block/*; do
	n=${d##*/}
	case "$n" in loop*|ram*|sr*|fd*) continue ;; esac
	[ "$variant" = nodisks ] && continue
	size=$(( $(cat $d/size) * 512 ))
	model=$(cat $d/device/model 2>/dev/null | json)
	serial=$(cat $d/serial 2>/dev/null || cat $d/device/serial 2>/dev/null)
	serial=$(echo $serial | json)
	rot=false; [ "$(cat $d/queue/rotational)" = 1 ] && rot=true
	disks="$disks${disks:+, }{\"name\": \"/dev/$n\", \"model\": \"$model\", \"size\": $size, \"rotational\": $rot, \"serial\": \"$serial\"}"
done
mode=bios; [ -d /sys/firmware/efi ] && mode=uefi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1 | json)
cpus=$(grep -c ^processor /proc/cpuinfo)
mem=$(( $(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) * 1024 ))
dmi() { cat /sys/class/dmi/id/$1 2>/dev/null | json; }
printf '%s' "{\"inventory\": {\"interfaces\": [$nics], \"cpu\": {\"model_name\": \"$cpu\", \"frequency\": \"\", \"count\": $cpus, \"architecture\": \"$(uname -m)\", \"flags\": []}, \"disks\": [$disks], \"memory\": {\"total\": $mem, \"physical_mb\": null}, \"bmc_address\": null, \"bmc_v6address\": null, \"system_vendor\": {\"product_name\": \"$(dmi product_name)\", \"serial_number\": \"$(dmi product_serial)\", \"manufacturer\": \"$(dmi sys_vendor)\", \"firmware\": {\"vendor\": \"$(dmi bios_vendor)\", \"version\": \"$(dmi bios_version)\", \"build_date\": \"$(dmi bios_date)\"}}, \"boot\": {\"current_boot_mode\": \"$mode\", \"pxe_interface\": null}, \"hostname\": \"$(hostname)\"}, \"boot_interface\": null, \"configuration\": {\"collectors\": [\"default\"], \"managers\": [{\"name\": \"fixture_hardware_manager\", \"version\": \"1.0\"}]}, \"error\": null}" > /tmp/inventory.json
H='Content-Type: application/json'
A='Accept: application/json'
wget -q -O /tmp/root.json --header "$A" "$api/" || echo "fixture: GET $api/ failed"
if wget -q -O /tmp/inspection.out --header "$H" --header "$A" --post-file /tmp/inventory.json "$callback"; then
	echo "fixture: inventory accepted"
else
	echo "fixture: inventory refused"
fi
uuid=$(sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' /tmp/inspection.out 2>/dev/null)
for i in $(seq 60); do
	wget -q -O /tmp/lookup.json --header "$A" --header 'X-OpenStack-Ironic-API-Version: 1.62' \
		"$api/v1/lookup?addresses=$mac${uuid:+&node_uuid=$uuid}" && break
	echo "fixture: lookup failed, retrying"
	sleep 2
done
node=$(sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' /tmp/lookup.json)
token=$(sed -n 's/.*"agent_token": *"\([^"]*\)".*/\1/p' /tmp/lookup.json)
echo "fixture: node $node"
echo "$token" > /tmp/agent_token
serve
case "$variant" in
noheartbeat) echo "fixture: not heartbeating"; exit 0 ;;
wrongtoken) token=fixture-wrong-token-fixture-wrong-token-0000 ;;
esac
while :; do
	if wget -q -O /dev/null --header "$H" --header "$A" --header 'X-OpenStack-Ironic-API-Version: 1.68' \
		--post-data "{\"callback_url\": \"http://$ip:9999\", \"agent_token\": \"$token\", \"agent_version\": \"$version\"}" \
		"$api/v1/heartbeat/$node"; then
		echo "fixture: heartbeat accepted"
	else
		echo "fixture: heartbeat refused"
	fi
	sleep 30
done
`

// fixtureCommands answers POST /v1/commands/?wait=true&agent_token=T as
// api/app.py does: 401 without the lookup's token, clean.get_clean_steps'
// result as extensions/clean.py shapes it. busybox httpd runs it for the
// directory /v1/commands/, which has no index.html.
const fixtureCommands = `#!/bin/sh
reply() { printf 'Status: %s\r\nContent-Type: application/json\r\n\r\n%s\n' "$1" "$2"; exit 0; }
body=$(head -c "${CONTENT_LENGTH:-0}")
token=$(cat /tmp/agent_token 2>/dev/null)
[ "$REQUEST_METHOD" = POST ] || reply '405 Method Not Allowed' '{"faultcode": "Client", "faultstring": "The method is not allowed for the requested URL."}'
[ -n "$token" ] || reply '401 Unauthorized' '{"faultcode": "Client", "faultstring": "Token invalid."}'
case "&$QUERY_STRING&" in
*"&agent_token=$token&"*) ;;
*) reply '401 Unauthorized' '{"faultcode": "Client", "faultstring": "Token invalid."}' ;;
esac
case "$body" in
*'"clean.get_clean_steps"'*) ;;
*) reply '400 Bad Request' '{"faultcode": "Client", "faultstring": "Unknown command"}' ;;
esac
reply '200 OK' '{"id": "7c1c6a3e-0d0e-4f7a-9a52-f1f1f1f1f1f1", "command_name": "get_clean_steps", "command_status": "SUCCEEDED", "command_error": null, "command_result": {"clean_steps": {"FixtureHardwareManager": [{"step": "erase_devices_metadata", "priority": 99, "interface": "deploy", "reboot_requested": false, "abortable": true}, {"step": "erase_devices", "priority": 10, "interface": "deploy", "reboot_requested": false, "abortable": true}]}, "hardware_manager_version": {"fixture_hardware_manager": "1.0"}}}'
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
	mods := sha256.Sum256([]byte(strings.Join(fixtureModules, ",")))
	dir := filepath.Join(cacheRoot, "boot-"+kver+"-"+hex.EncodeToString(mods[:4]))
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
		{name: "www", mode: dirMode}, {name: "www/v1", mode: dirMode}, {name: "www/v1/commands", mode: dirMode},
		{name: "www/cgi-bin", mode: dirMode},
		{name: "dev/console", mode: charMode, rdev: [2]uint32{5, 1}},
		{name: "bin/busybox", mode: execMode, data: busybox},
		{name: "init", mode: execMode, data: []byte(fixtureInit)},
		{name: "udhcpc.sh", mode: execMode, data: []byte(fixtureDHCPScript)},
		{name: "agent.sh", mode: execMode, data: []byte(fixtureAgent)},
		{name: "www/index.html", mode: fileMode, data: []byte(ipaRootDocument + "\n")},
		{name: "www/cgi-bin/index.cgi", mode: execMode, data: []byte(fixtureCommands)},
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
