// Package qemu boots an ipabr image in QEMU and probes the Ironic Python
// Agent in it: the qemu command line, host checks (KVM, OVMF, free ports),
// the agent probe, a serial-console ring buffer, and the run and check loops
// that always stop QEMU. It never prints; callers get values and errors.
package qemu

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipabr/ipabr/internal/lazyregexp"
	"github.com/ipabr/ipabr/internal/process"
)

// DefaultBinary is the QEMU system emulator for the x86_64 image.
const DefaultBinary = "qemu-system-x86_64"

// AgentPort is the port the Ironic Python Agent listens on in the guest.
const AgentPort = 9999

// Accelerators.
const (
	KVM = "kvm"
	TCG = "tcg"
)

// Mode is how QEMU runs: ModeInteractive gives it the terminal; ModeCheck
// runs it headless with the serial console on its standard output.
type Mode int

const (
	ModeInteractive Mode = iota
	ModeCheck
)

// Firmware is a UEFI code image and the variable store template it pairs with.
type Firmware struct {
	Code string
	Vars string
}

// OVMFCandidates are the firmware pairs FindOVMF looks for, in order:
// Debian 12+ (the ovmf package), older Debian and Ubuntu, Fedora, Arch, and
// QEMU's own build. Secure-boot variants are left out: they need SMM.
var OVMFCandidates = []Firmware{
	{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"},
	{"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"},
	{"/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd"},
	{"/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd"},
	{"/usr/share/qemu/edk2-x86_64-code.fd", "/usr/share/qemu/edk2-i386-vars.fd"},
}

// FindOVMF returns the first candidate whose two files exist.
func FindOVMF(exists func(string) bool) (Firmware, error) {
	var tried []string
	for _, fw := range OVMFCandidates {
		if exists(fw.Code) && exists(fw.Vars) {
			return fw, nil
		}
		tried = append(tried, fw.Code)
	}
	return Firmware{}, fmt.Errorf("no OVMF firmware found (looked for %s); install Debian's ovmf package (apt-get install ovmf)", strings.Join(tried, ", "))
}

// KVMDevice is where KVMUsable looks.
const KVMDevice = "/dev/kvm"

// KVMAvailable checks that dev (normally /dev/kvm) can serve an x86_64
// guest: the host is x86_64, the device opens read-write and answers
// KVM_GET_API_VERSION with the stable API (12). The error says why not.
func KVMAvailable(dev string) error {
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("the host is %s, not x86_64", runtime.GOARCH)
	}
	fd, err := syscall.Open(dev, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", dev, err)
	}
	defer syscall.Close(fd)
	const kvmGetAPIVersion = 0xAE00
	v, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), kvmGetAPIVersion, 0)
	if errno != 0 {
		return fmt.Errorf("%s: KVM_GET_API_VERSION: %w", dev, errno)
	}
	if v != 12 {
		return fmt.Errorf("%s: KVM API version %d, not 12", dev, v)
	}
	return nil
}

// kvmProbeArgs start a stopped, device-less KVM machine with -cpu host and
// QMP on stdio; the QMP commands on stdin quit it at once. Nested or
// unusual hosts where /dev/kvm opens but QEMU cannot set up a vCPU abort here.
var kvmProbeArgs = []string{"-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "64M", "-smp", "1",
	"-S", "-nodefaults", "-display", "none", "-qmp", "stdio"}

const kvmProbeQMP = `{"execute":"qmp_capabilities"}` + "\n" + `{"execute":"quit"}` + "\n"

// KVMWorks starts binary under KVM for a moment (tens of milliseconds) and
// reports whether it could set up a vCPU; the error carries QEMU's message.
func KVMWorks(ctx context.Context, r process.Runner, binary string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	stderr := NewRing(20)
	err := r.Run(ctx, process.Cmd{
		Name: binary, Args: kvmProbeArgs,
		Stdin: strings.NewReader(kvmProbeQMP), Stdout: io.Discard, Stderr: stderr,
		Group: true, KillWithParent: true,
	})
	if err == nil {
		return nil
	}
	lines := stderr.Lines()
	for _, l := range lines {
		if i := strings.Index(l, "error: "); i >= 0 {
			return fmt.Errorf("QEMU cannot use it: %s", l[i+len("error: "):])
		}
	}
	if len(lines) > 0 {
		return fmt.Errorf("QEMU cannot use it: %s", lines[len(lines)-1])
	}
	return fmt.Errorf("QEMU cannot use it: QEMU exited %s", exitStatus(err))
}

// Config is one QEMU invocation.
type Config struct {
	Binary string // default DefaultBinary
	Mode   Mode

	// Direct kernel boot: Kernel and Initrd, with Append as given by the
	// user (KernelArgs adds the console). Or ISO: boot the hybrid ISO.
	Kernel, Initrd, Append string
	ISO                    string
	// ConfigDrive is a config-2 ISO (ConfigDriveISO) attached as a second
	// CD-ROM, as virtual media would; "" for none.
	ConfigDrive string

	Firmware *Firmware // UEFI with this firmware; nil boots SeaBIOS
	Accel    string    // KVM or TCG
	Memory   string    // QEMU size: 2G, 512M
	CPUs     int
	HostPort int    // 127.0.0.1:HostPort forwards to the guest's AgentPort
	NIC      string // QEMU device model, see NICModel
	Display  bool   // open a graphical window too

	// SerialLog, in interactive mode, has QEMU append a copy of the console
	// to this file. In check mode the caller tees the output instead.
	SerialLog string

	// Hardware the agent check gives the guest and then looks for: the
	// NIC's MAC address (QEMU picks 52:54:00:12:34:56 when empty), scratch
	// disks, and a packet capture of the NIC (to see the DHCP lease).
	MAC     string
	Disks   []Disk
	NetDump string
}

// NICModel resolves a --nic name to a QEMU device model; empty means e1000,
// what the original ipa-buildroot README used.
func NICModel(name string) (string, error) {
	switch name {
	case "", "e1000":
		return "e1000", nil
	case "e1000e", "rtl8139":
		return name, nil
	case "virtio", "virtio-net", "virtio-net-pci":
		return "virtio-net-pci", nil
	}
	return "", fmt.Errorf("unknown NIC model %q; use e1000, e1000e, virtio-net-pci (or virtio) or rtl8139", name)
}

var memoryRE = lazyregexp.New(`^[1-9][0-9]*[kKmMgGtT]?$`)

// ValidMemory reports whether s is a QEMU memory size such as 2G or 512M.
func ValidMemory(s string) bool { return memoryRE.MatchString(s) }

// HasConsole reports whether kernel arguments set a console.
func HasConsole(args string) bool {
	for _, f := range strings.Fields(args) {
		if strings.HasPrefix(f, "console=") {
			return true
		}
	}
	return false
}

// KernelArgs is the -append value: the serial console (and the VGA one
// first when a display is shown, so ttyS0 stays /dev/console) followed by
// the user's arguments, unless those set a console themselves.
func KernelArgs(user string, display bool) string {
	user = strings.Join(strings.Fields(user), " ")
	if HasConsole(user) {
		return user
	}
	args := "console=ttyS0"
	if display {
		args = "console=tty0 console=ttyS0"
	}
	if user != "" {
		args += " " + user
	}
	return args
}

// Validate checks what the command line needs.
func (c Config) Validate() error {
	switch {
	case c.ISO == "" && (c.Kernel == "" || c.Initrd == ""):
		return fmt.Errorf("a kernel and an initrd, or an ISO, are required")
	case c.ISO != "" && (c.Kernel != "" || c.Initrd != "" || c.Append != ""):
		return fmt.Errorf("an ISO boots with its own kernel and arguments; it excludes a kernel, an initrd and kernel arguments")
	case c.Accel != KVM && c.Accel != TCG:
		return fmt.Errorf("accelerator must be %s or %s, not %q", KVM, TCG, c.Accel)
	case !ValidMemory(c.Memory):
		return fmt.Errorf("memory must be a size such as 2G or 512M, not %q", c.Memory)
	case c.CPUs < 1:
		return fmt.Errorf("cpus must be 1 or more, not %d", c.CPUs)
	case c.HostPort < 1 || c.HostPort > 65535:
		return fmt.Errorf("port must be between 1 and 65535, not %d", c.HostPort)
	}
	if _, err := NICModel(c.NIC); err != nil {
		return err
	}
	return nil
}

// Args is QEMU's argument list (without the binary). Options come in a
// fixed order: machine, accelerator, size, firmware, boot media, disks,
// network, console; CommandLine groups them one per line the same way.
func (c Config) Args() []string {
	nic, _ := NICModel(c.NIC)
	args := []string{"-name", "ipabr", "-machine", "q35"}
	if c.Accel == KVM {
		args = append(args, "-accel", "kvm", "-cpu", "host")
	} else {
		args = append(args, "-accel", "tcg")
	}
	args = append(args, "-m", c.Memory, "-smp", strconv.Itoa(c.CPUs), "-no-reboot")
	if fw := c.Firmware; fw != nil {
		// snapshot=on keeps the variable store template untouched: writes
		// go to a temporary overlay, so no copy is needed.
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+optValue(fw.Code),
			"-drive", "if=pflash,format=raw,unit=1,snapshot=on,file="+optValue(fw.Vars))
	}
	if c.ISO != "" {
		args = append(args,
			"-drive", "if=none,id=cd0,media=cdrom,readonly=on,format=raw,file="+optValue(c.ISO),
			"-device", "ide-cd,drive=cd0,bootindex=0")
	} else {
		args = append(args, "-kernel", c.Kernel, "-initrd", c.Initrd, "-append", KernelArgs(c.Append, c.Display))
	}
	for i, d := range c.Disks {
		args = append(args, d.args(i)...)
	}
	if c.ConfigDrive != "" {
		args = append(args,
			"-drive", "if=none,id=cfg0,media=cdrom,readonly=on,format=raw,file="+optValue(c.ConfigDrive),
			"-device", "ide-cd,drive=cfg0")
	}
	nicOpts := "user,model=" + nic
	if c.NetDump != "" {
		nicOpts += ",id=net0"
	}
	if c.MAC != "" {
		nicOpts += ",mac=" + c.MAC
	}
	args = append(args, "-nic", fmt.Sprintf("%s,hostfwd=tcp:127.0.0.1:%d-:%d", nicOpts, c.HostPort, AgentPort))
	if c.NetDump != "" {
		args = append(args, "-object", "filter-dump,id=dump0,netdev=net0,file="+optValue(c.NetDump))
	}
	switch {
	case c.Mode == ModeCheck:
		if !c.Display {
			args = append(args, "-display", "none")
		}
		args = append(args, "-monitor", "none", "-serial", "stdio")
	case c.SerialLog != "":
		// -nographic's console (serial and monitor muxed on stdio, Ctrl-C to
		// the guest) spelled out, with QEMU logging the console to a file.
		if !c.Display {
			args = append(args, "-display", "none")
		}
		args = append(args,
			"-chardev", "stdio,id=console0,mux=on,signal=off,logfile="+optValue(c.SerialLog),
			"-serial", "chardev:console0", "-mon", "chardev=console0")
	case c.Display:
		args = append(args, "-serial", "mon:stdio")
	default:
		args = append(args, "-nographic")
	}
	return args
}

// optValue escapes a value inside a QEMU option list, where a comma
// separates options and a doubled comma is a literal one.
func optValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// binary is the QEMU program to run.
func (c Config) binary() string {
	if c.Binary == "" {
		return DefaultBinary
	}
	return c.Binary
}

// Cmd is the process for this configuration.
func (c Config) Cmd() process.Cmd {
	return process.Cmd{Name: c.binary(), Args: c.Args()}
}

// CommandLine renders the command for a shell: one option and its value a
// line, joined with backslash continuations.
func (c Config) CommandLine() string {
	var b strings.Builder
	b.WriteString(process.Quote(c.binary()))
	args := c.Args()
	for i := 0; i < len(args); i++ {
		b.WriteString(" \\\n  ")
		b.WriteString(process.Quote(args[i]))
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			b.WriteString(" ")
			b.WriteString(process.Quote(args[i+1]))
			i++
		}
	}
	return b.String()
}
