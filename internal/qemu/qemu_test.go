package qemu

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/process"
)

func base() Config {
	return Config{
		Kernel: "/img/bzImage", Initrd: "/img/rootfs.cpio.xz",
		Accel: TCG, Memory: "2G", CPUs: 2, HostPort: 9999, NIC: "e1000",
	}
}

func TestArgs(t *testing.T) {
	fw := &Firmware{Code: "/fw/CODE.fd", Vars: "/fw/VARS,1.fd"}
	const common = "-name ipabr -machine q35 "
	const boot = "-kernel /img/bzImage -initrd /img/rootfs.cpio.xz "
	const nic = "-nic user,model=e1000,hostfwd=tcp:127.0.0.1:9999-:9999 "
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"interactive tcg", func(*Config) {},
			common + "-accel tcg -m 2G -smp 2 -no-reboot " + boot + "-append console=ttyS0 " + nic + "-nographic"},
		{"kvm uses the host cpu", func(c *Config) { c.Accel = KVM },
			common + "-accel kvm -cpu host -m 2G -smp 2 -no-reboot " + boot + "-append console=ttyS0 " + nic + "-nographic"},
		{"check is headless on stdio", func(c *Config) { c.Mode = ModeCheck; c.Append = "quiet" },
			common + "-accel tcg -m 2G -smp 2 -no-reboot " + boot + "-append console=ttyS0 quiet " + nic + "-display none -monitor none -serial stdio"},
		{"check with a display", func(c *Config) { c.Mode = ModeCheck; c.Display = true },
			common + "-accel tcg -m 2G -smp 2 -no-reboot " + boot + "-append console=tty0 console=ttyS0 " + nic + "-monitor none -serial stdio"},
		{"interactive display", func(c *Config) { c.Display = true },
			common + "-accel tcg -m 2G -smp 2 -no-reboot " + boot + "-append console=tty0 console=ttyS0 " + nic + "-serial mon:stdio"},
		{"user console wins", func(c *Config) { c.Append = "console=ttyS1,115200 ipa-debug=1" },
			common + "-accel tcg -m 2G -smp 2 -no-reboot " + boot + "-append console=ttyS1,115200 ipa-debug=1 " + nic + "-nographic"},
		{"serial log", func(c *Config) { c.SerialLog = "/tmp/a,b.log" },
			common + "-accel tcg -m 2G -smp 2 -no-reboot " + boot + "-append console=ttyS0 " + nic +
				"-display none -chardev stdio,id=console0,mux=on,signal=off,logfile=/tmp/a,,b.log -serial chardev:console0 -mon chardev=console0"},
		{"uefi virtio", func(c *Config) { c.Firmware = fw; c.NIC = "virtio"; c.Memory = "512M"; c.CPUs = 1; c.HostPort = 4000 },
			common + "-accel tcg -m 512M -smp 1 -no-reboot " +
				"-drive if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd -drive if=pflash,format=raw,unit=1,snapshot=on,file=/fw/VARS,,1.fd " +
				boot + "-append console=ttyS0 -nic user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:4000-:9999 -nographic"},
		{"agent check hardware", func(c *Config) {
			c.Mode = ModeCheck
			c.MAC = "52:54:00:12:34:56"
			c.NetDump = "/tmp/x,y/net.pcap"
			c.Disks = []Disk{{Kind: DiskVirtio, File: "/tmp/x,y/virtio.qcow2", Serial: "ipabr-virtio"}, {Kind: DiskNVMe, File: "/tmp/n.qcow2", Serial: "ipabr-nvme"}}
		},
			common + "-accel tcg -m 2G -smp 2 -no-reboot " + boot + "-append console=ttyS0 " +
				"-drive if=none,id=disk0,format=qcow2,file=/tmp/x,,y/virtio.qcow2 -device virtio-blk-pci,drive=disk0,serial=ipabr-virtio " +
				"-drive if=none,id=disk1,format=qcow2,file=/tmp/n.qcow2 -device nvme,drive=disk1,serial=ipabr-nvme " +
				"-nic user,model=e1000,id=net0,mac=52:54:00:12:34:56,hostfwd=tcp:127.0.0.1:9999-:9999 " +
				"-object filter-dump,id=dump0,netdev=net0,file=/tmp/x,,y/net.pcap -display none -monitor none -serial stdio"},
		{"iso", func(c *Config) { c.Kernel, c.Initrd, c.ISO = "", "", "/img/ipa.iso" },
			common + "-accel tcg -m 2G -smp 2 -no-reboot " +
				"-drive if=none,id=cd0,media=cdrom,readonly=on,format=raw,file=/img/ipa.iso -device ide-cd,drive=cd0,bootindex=0 " + nic + "-nographic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.Args(), " "); got != tc.want {
				t.Errorf("args\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Initrd = "" }, "kernel and an initrd"},
		{func(c *Config) { c.ISO = "/x.iso" }, "excludes a kernel"},
		{func(c *Config) { c.Accel = "hvf" }, "accelerator"},
		{func(c *Config) { c.Memory = "2 GB" }, "memory"},
		{func(c *Config) { c.CPUs = 0 }, "cpus"},
		{func(c *Config) { c.HostPort = 70000 }, "port"},
		{func(c *Config) { c.NIC = "ne2k" }, "unknown NIC model"},
	} {
		c := base()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
		}
	}
}

func TestKernelArgs(t *testing.T) {
	for _, tc := range []struct {
		user    string
		display bool
		want    string
	}{
		{"", false, "console=ttyS0"},
		{"  ipa-debug=1   nofb ", false, "console=ttyS0 ipa-debug=1 nofb"},
		{"", true, "console=tty0 console=ttyS0"},
		{"console=tty0", false, "console=tty0"},
		{"quiet console=ttyS0,115200n8", true, "quiet console=ttyS0,115200n8"},
		{"netconsole=x", false, "console=ttyS0 netconsole=x"}, // not a console= argument
	} {
		if got := KernelArgs(tc.user, tc.display); got != tc.want {
			t.Errorf("KernelArgs(%q, %v) = %q, want %q", tc.user, tc.display, got, tc.want)
		}
	}
}

func TestNICModelAndMemory(t *testing.T) {
	for in, want := range map[string]string{"": "e1000", "e1000": "e1000", "virtio": "virtio-net-pci", "virtio-net-pci": "virtio-net-pci"} {
		if got, err := NICModel(in); err != nil || got != want {
			t.Errorf("NICModel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for s, ok := range map[string]bool{"2G": true, "512M": true, "2048": true, "1g": true, "0": false, "2GB": false, "-1G": false, "": false} {
		if ValidMemory(s) != ok {
			t.Errorf("ValidMemory(%q) = %v", s, !ok)
		}
	}
}

func TestFindOVMF(t *testing.T) {
	present := map[string]bool{
		"/usr/share/OVMF/OVMF_CODE_4M.fd": true, // without its VARS: skipped
		"/usr/share/OVMF/OVMF_CODE.fd":    true,
		"/usr/share/OVMF/OVMF_VARS.fd":    true,
	}
	fw, err := FindOVMF(func(p string) bool { return present[p] })
	if err != nil || fw.Code != "/usr/share/OVMF/OVMF_CODE.fd" || fw.Vars != "/usr/share/OVMF/OVMF_VARS.fd" {
		t.Fatalf("FindOVMF = %+v, %v", fw, err)
	}
	if _, err := FindOVMF(func(string) bool { return false }); err == nil || !strings.Contains(err.Error(), "apt-get install ovmf") {
		t.Fatalf("FindOVMF with nothing installed = %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	c := base()
	c.Append = "ipa-debug=1 nofb"
	want := `qemu-system-x86_64 \
  -name ipabr \
  -machine q35 \
  -accel tcg \
  -m 2G \
  -smp 2 \
  -no-reboot \
  -kernel /img/bzImage \
  -initrd /img/rootfs.cpio.xz \
  -append 'console=ttyS0 ipa-debug=1 nofb' \
  -nic user,model=e1000,hostfwd=tcp:127.0.0.1:9999-:9999 \
  -nographic`
	if got := c.CommandLine(); got != want {
		t.Fatalf("CommandLine:\n%s\nwant:\n%s", got, want)
	}
	if got := c.Cmd(); got.Name != DefaultBinary || len(got.Args) != len(c.Args()) {
		t.Fatalf("Cmd = %+v", got)
	}
}

func TestKVMAvailableMissingDevice(t *testing.T) {
	err := KVMAvailable(filepath.Join(t.TempDir(), "kvm"))
	if err == nil {
		t.Fatal("a missing device is usable")
	}
}

// fakeQEMU writes an executable shell script standing in for QEMU.
func fakeQEMU(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "qemu-system-x86_64")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKVMWorks(t *testing.T) {
	ok := fakeQEMU(t, `read a; read b; case "$*" in *"-accel kvm -cpu host"*"-qmp stdio"*) exit 0;; esac; exit 9`)
	if err := KVMWorks(context.Background(), process.OS{}, ok); err != nil {
		t.Fatalf("KVMWorks(working QEMU) = %v", err)
	}
	bad := fakeQEMU(t, `echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2; echo "Assertion failed" >&2; kill -ABRT $$`)
	err := KVMWorks(context.Background(), process.OS{}, bad)
	if err == nil || err.Error() != "QEMU cannot use it: failed to set MSR 0x10a to 0x69" {
		t.Fatalf("KVMWorks(aborting QEMU) = %v", err)
	}
}
