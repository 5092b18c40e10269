package network

// The converter as ipa-network-data.service runs it at boot ("apply"): the
// config drive found, read and converted, or a console line and nothing
// written, so that the kernel command line and DHCP apply.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/qemu"
	"github.com/ipabr/ipabr/internal/testenv"
)

// machine is what the converter sees at boot: network interfaces in a
// sysfs stand-in and the directory networkd reads from /run.
type machine struct {
	sysfs, networkDir string
}

func newMachine(t *testing.T, macs ...string) machine {
	t.Helper()
	m := machine{sysfs: t.TempDir(), networkDir: filepath.Join(t.TempDir(), "network")}
	for i, mac := range append([]string{"00:00:00:00:00:00"}, macs...) {
		writeTestFile(t, filepath.Join(m.sysfs, "eth"+string(rune('0'+i)), "address"), mac+"\n")
	}
	// Earlier files of the converter go; the command line's stay.
	writeTestFile(t, filepath.Join(m.networkDir, "10-config-drive-port-000000000001.network"), "[Match]\n")
	writeTestFile(t, filepath.Join(m.networkDir, "90-eno1.network"), "[Match]\nName=eno1\n")
	return m
}

// apply runs the converter's boot mode; it must always exit 0.
func (m machine) apply(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.Python(t, "hermetic"), append([]string{filepath.Join(external(t), Converter), "apply",
		"--sys-class-net", m.sysfs, "--network-dir", m.networkDir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("apply %v: %v\n%s", args, err, stderr.String())
	}
	return stderr.String()
}

// configDrive lays out a config drive's files with this network_data.json.
func configDrive(t *testing.T, networkData string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(networkData)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "openstack/latest/network_data.json"), string(data))
	writeTestFile(t, filepath.Join(dir, "openstack/latest/meta_data.json"), `{"uuid": "0d2d3f0e-1f4b-4cde-9c5a-0e6f2b8b9a10"}`)
	return dir
}

func TestApplyWritesTheConfigDrivesFiles(t *testing.T) {
	m := newMachine(t, "b8:59:9f:10:20:30", "B8:59:9F:10:20:31")
	log := m.apply(t, "--config-drive", configDrive(t, nd("bond-lacp")))
	if !strings.Contains(log, "wrote 4 file(s) to "+m.networkDir) {
		t.Errorf("log: %s", log)
	}
	got := readDir(t, m.networkDir)
	want := readDir(t, "testdata/network_data/bond-lacp")
	want["90-eno1.network"] = "[Match]\nName=eno1\n"
	if strings.Join(names(got), " ") != strings.Join(names(want), " ") {
		t.Fatalf("files %v, want %v", names(got), names(want))
	}
	for n, text := range want {
		if got[n] != text {
			t.Errorf("%s differs from what render writes:\n%s", n, got[n])
		}
	}
}

// TestApplyFallsBack: input the image cannot apply leaves the network
// directory as it was, with one line saying why, and exit 0.
func TestApplyFallsBack(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	writeTestFile(t, bad, `{"links": [{"id": "p", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],`)
	unknown := filepath.Join(t.TempDir(), "unknown.json")
	writeTestFile(t, unknown, `{"links": [{"id": "wl0", "type": "wifi", "ethernet_mac_address": "52:54:00:12:34:56"}]}`)
	for _, c := range []struct{ name, drive, want string }{
		{"a MAC no interface has", configDrive(t, nd("bond-lacp")), "no interface has MAC address b8:59:9f:10:20:31"},
		{"malformed JSON", configDrive(t, bad), "not valid JSON"},
		{"unknown link type", configDrive(t, unknown), `unknown link type "wifi"`},
		{"a device that cannot be mounted", filepath.Join(t.TempDir(), "nothing"), "cannot mount"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMachine(t, "b8:59:9f:10:20:30")
			log := m.apply(t, "--config-drive", c.drive)
			if !strings.Contains(log, "ERROR: ") || !strings.Contains(log, c.want) ||
				!strings.Contains(log, "NOT applied: falling back: the kernel command line's network settings apply, else DHCP on every wired port") {
				t.Errorf("log: %s", log)
			}
			if strings.Count(strings.TrimSpace(log), "\n") != 0 {
				t.Errorf("want one line, got:\n%s", log)
			}
			if got := readDir(t, m.networkDir); len(got) != 2 {
				t.Errorf("network directory changed: %v", names(got))
			}
		})
	}
}

func TestApplyWithoutNetworkData(t *testing.T) {
	m := newMachine(t)
	drive := t.TempDir()
	writeTestFile(t, filepath.Join(drive, "openstack/latest/meta_data.json"), "{}")
	if log := m.apply(t, "--config-drive", drive); !strings.Contains(log, "no openstack/latest/network_data.json") {
		t.Errorf("log: %s", log)
	}
	if got := readDir(t, m.networkDir); len(got) != 2 {
		t.Errorf("network directory changed: %v", names(got))
	}
}

// kernelMounts reports whether the kernel has (or loads) the filesystem.
func kernelMounts(fs string) bool {
	_ = exec.Command("modprobe", "-q", fs).Run()
	data, _ := os.ReadFile("/proc/filesystems")
	return strings.Contains(string(data), "\t"+fs+"\n")
}

// TestApplyFindsTheConfigDrive puts a filesystem labelled config-2 on a
// loop device and lets the converter find it (blkid), mount it read-only,
// read it and unmount it, as at boot. The drive is the ISO 'ipabr qemu
// --config-drive' makes, or, where the kernel cannot mount iso9660, an
// ext4 filesystem with the same label and files (the converter does not
// care). Tier "loop": root, losetup, blkid, and xorriso or mkfs.ext4.
func TestApplyFindsTheConfigDrive(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Skip(t, "loop", "not root (loop devices need it)")
	}
	losetup := testenv.Program(t, "loop", "losetup")
	testenv.Program(t, "loop", "blkid")
	if out, err := exec.Command("blkid", "-c", "/dev/null", "-l", "-o", "device", "-t", "LABEL=config-2").Output(); err == nil && len(out) > 0 {
		testenv.Skip(t, "loop", "this machine already has a filesystem labelled config-2 ("+strings.TrimSpace(string(out))+")")
	}
	var img string
	if kernelMounts("iso9660") {
		data, err := os.ReadFile(nd("metal3-static-ipv4"))
		if err != nil {
			t.Fatal(err)
		}
		if img, err = qemu.ConfigDriveISO(context.Background(), process.OS{}, exec.LookPath, data, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	} else {
		fmt.Println("SKIP loop: this kernel cannot mount iso9660; the config drive is an ext4 filesystem labelled config-2 instead")
		mkfs := testenv.Program(t, "loop", "mkfs.ext4")
		img = filepath.Join(t.TempDir(), "config-2.img")
		if out, err := exec.Command(mkfs, "-q", "-L", "config-2", "-d", configDrive(t, nd("metal3-static-ipv4")), img, "4M").CombinedOutput(); err != nil {
			t.Fatalf("mkfs.ext4: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(losetup, "--find", "--show", "--read-only", img).CombinedOutput()
	if err != nil {
		testenv.Skip(t, "loop", "losetup: "+strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command(losetup, "--detach", dev).Run() })

	m := newMachine(t, "00:c2:fc:2c:1e:22")
	log := m.apply(t, "--settle", "0")
	if !strings.Contains(log, dev+" (config drive)") || !strings.Contains(log, "wrote 1 file(s)") {
		t.Errorf("log: %s", log)
	}
	if _, ok := readDir(t, m.networkDir)["10-config-drive-port-00c2fc2c1e22.network"]; !ok {
		t.Errorf("files: %v", names(readDir(t, m.networkDir)))
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), dev+" ") {
		t.Errorf("%s is still mounted:\n%s", dev, mounts)
	}
	if left, _ := filepath.Glob("/run/ipa-network-data.*"); len(left) > 0 {
		t.Errorf("mount points left behind: %v", left)
	}
}
