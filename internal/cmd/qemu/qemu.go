// Package qemucmd implements `ipabr qemu`: boot the image in QEMU, either
// interactively on the terminal or headless until the Ironic Python Agent
// answers on its forwarded port (--check), or print the command line.
package qemucmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/qemu"
	"github.com/ipabr/ipabr/internal/term"
)

// Default check timeouts: with KVM, and under TCG (software emulation).
const (
	TimeoutKVM = 10 * time.Minute
	TimeoutTCG = 30 * time.Minute
)

// SerialLines is how much of the console a failed check shows.
const SerialLines = 50

// Options are qemu's inputs.
type Options struct {
	IO         *term.IOStreams
	Settings   func() (*config.Settings, error)
	Runner     process.Runner
	Context    context.Context
	LookPath   func(string) (string, error)
	FileExists func(string) bool
	// KVM decides the accelerator: nil means KVM works with this QEMU
	// binary ("" when QEMU is not installed and the line is only printed);
	// the error says why not. Tests force TCG or KVM.
	KVM func(binary string) error
	// Started receives QEMU's pid when it runs; tests check it is gone after.
	Started func(pid int)
	// APIStarted receives the stand-in Ironic API's URL when it listens.
	APIStarted func(url string)

	Kernel    string
	Initrd    string
	ISO       string
	UEFI      bool
	Memory    string
	CPUs      int
	Port      int
	Append    string
	NIC       string
	Check     bool
	NoIronic  bool
	JSON      bool
	Inventory string
	// PhaseTimeouts are --phase-timeout's PHASE=DURATION pairs.
	PhaseTimeouts map[string]string
	Timeout       time.Duration // 0: TimeoutKVM or TimeoutTCG
	SerialLog     string
	Display       bool
	Print         bool
	// ConfigDrive is a network_data.json to attach in a config-2 ISO.
	ConfigDrive string
}

// NewCmdQemu builds the command; runF replaces runQemu in tests.
func NewCmdQemu(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{
		IO:         f.IOStreams,
		Settings:   f.Settings,
		Runner:     f.Runner,
		LookPath:   f.LookPath,
		FileExists: f.FileExists,
	}
	opts.KVM = func(binary string) error {
		if err := qemu.KVMAvailable(qemu.KVMDevice); err != nil {
			return err
		}
		if binary == "" {
			return nil
		}
		return qemu.KVMWorks(opts.Context, opts.Runner, binary)
	}
	cmd := &cobra.Command{
		Use:   "qemu",
		Short: "Boot the image in QEMU; --check proves the agent does what Ironic needs",
		Long: `Boot the image in QEMU with the agent's port 9999 forwarded to 127.0.0.1:--port
(user-mode networking; another free port is picked and printed when that one
is taken) and the serial console on ttyS0.

By default QEMU owns the terminal until it exits: the console is shown live,
Ctrl-A X quits, Ctrl-C goes to the guest.

With --check QEMU runs headless with a scratch virtio disk and NVMe disk
(qcow2 files made with qemu-img, from Debian's qemu-utils) while ipabr
serves a stand-in Ironic API on 127.0.0.1 (10.0.2.2 in the guest), named on
the kernel command line as ipa-api-url and ipa-inspection-callback-url. It
follows the agent through DHCP, the inspection inventory, lookup and its
first heartbeat, then calls the agent's GET /v1/status and
clean.get_clean_steps as Ironic does, and prints a summary (--json: an
object). It fails, naming the phase and showing the last 50 console lines,
when a phase does not happen in time, the inventory lacks a disk or NIC QEMU
gave the guest, the heartbeat carries a wrong token or a call to the agent
fails. --check --no-ironic only waits until the agent's API root document
answers (or GET /v1/status does), for images built to run without Ironic.
QEMU, the stand-in API and the temporary files never outlive ipabr.

The images default to the output directory's images/bzImage and
images/rootfs.cpio.xz (or ipa.kernel and ipa.initramfs). KVM (-cpu host) is
used when /dev/kvm is usable, otherwise TCG with a notice and a longer
default timeout. --uefi boots Debian's OVMF firmware (package ovmf); --iso
boots the hybrid ISO, as virtual media would. --config-drive FILE attaches a
config drive (an ISO labelled config-2 on a second CD-ROM) holding FILE as
openstack/latest/network_data.json, as Ironic's DHCP-less virtual media
does. --print shows the qemu command line instead of running it.`,
		Example: `  ipabr qemu --check
  ipabr qemu --check --json --inventory inventory.json
  ipabr qemu --check --phase-timeout inventory=20m,lookup=10m
  ipabr qemu
  ipabr qemu --uefi --iso output/images/ipa.iso --check --no-ironic
  ipabr qemu --print > boot.sh
  ipabr qemu --config-drive node1.json --check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if opts.Context == nil {
				opts.Context = context.Background()
			}
			if runF != nil {
				return runF(opts)
			}
			return runQemu(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Kernel, "kernel", "", "the kernel `FILE` (default: the output's images/bzImage, or images/ipa.kernel)")
	fl.StringVar(&opts.Initrd, "initrd", "", "the initramfs `FILE` (default: the output's images/rootfs.cpio.xz, or images/ipa.initramfs)")
	fl.StringVar(&opts.ISO, "iso", "", "boot this hybrid ISO `FILE` instead of a kernel and initramfs (virtual media)")
	fl.BoolVar(&opts.UEFI, "uefi", false, "boot with UEFI firmware (OVMF, Debian package ovmf) instead of SeaBIOS")
	fl.StringVar(&opts.Memory, "memory", "2G", "guest memory `SIZE` (2G, 512M)")
	fl.IntVar(&opts.CPUs, "cpus", 2, "`N` virtual CPUs")
	fl.IntVar(&opts.Port, "port", qemu.AgentPort, "host `PORT` on 127.0.0.1 forwarded to the agent's port 9999 (another free one when taken)")
	fl.StringVar(&opts.Append, "append", "", "extra kernel `ARGS`; console=ttyS0 is added unless they set console=")
	fl.StringVar(&opts.NIC, "nic", "e1000", "NIC `MODEL`: e1000, e1000e, virtio-net-pci (or virtio), rtl8139")
	fl.BoolVar(&opts.Check, "check", false, "boot headless and prove the agent against a stand-in Ironic; exit 0 (proven) or 1")
	fl.BoolVar(&opts.NoIronic, "no-ironic", false, "with --check: only wait until the agent's API answers (images without Ironic)")
	fl.BoolVar(&opts.JSON, "json", false, "with --check: print the result as a JSON object (also on failure)")
	fl.StringVar(&opts.Inventory, "inventory", "", "with --check: write the inventory document the agent sent to `FILE` (also on failure)")
	fl.StringToStringVar(&opts.PhaseTimeouts, "phase-timeout", nil, "with --check: `PHASE=DURATION` pairs for dhcp, inventory, lookup, heartbeat, agent (default 2m,5m,5m,5m,3m with KVM, 3× under TCG)")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "with --check: the `DURATION` the whole check may take (default 10m with KVM, 30m under TCG)")
	fl.StringVar(&opts.SerialLog, "serial-log", "", "also write the serial console to `FILE`")
	fl.BoolVar(&opts.Display, "display", false, "open a graphical window (VGA console) as well")
	fl.BoolVar(&opts.Print, "print", false, "print the qemu command line instead of running it")
	fl.StringVar(&opts.ConfigDrive, "config-drive", "", "attach a config drive (a config-2 ISO, made with xorriso or genisoimage) holding this network_data.json `FILE`")
	return cmd
}

func runQemu(opts *Options) error {
	cfg, err := opts.config()
	if err != nil {
		return err
	}
	binary, lookErr := opts.LookPath(qemu.DefaultBinary)
	if lookErr != nil && !opts.Print {
		return errs.Failedf("%s not found on PATH; install QEMU: apt-get install qemu-system-x86 (Fedora: dnf install qemu-system-x86)", qemu.DefaultBinary)
	}
	kvmErr := opts.KVM(binary)
	if kvmErr == nil {
		cfg.Accel = qemu.KVM
	}
	if opts.Print {
		fmt.Fprintln(opts.IO.Out, cfg.CommandLine())
		return nil
	}
	s := opts.settings()
	cfg.Binary = binary

	port, moved, err := qemu.ChoosePort(cfg.HostPort)
	if err != nil {
		return errs.Failedf("%v", err)
	}
	if moved {
		opts.notice(s, "Port %d on 127.0.0.1 is in use; forwarding port %d to the agent instead.", cfg.HostPort, port)
	}
	cfg.HostPort = port
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = TimeoutKVM
		if cfg.Accel == qemu.TCG {
			timeout = TimeoutTCG
		}
	}
	if cfg.Accel == qemu.TCG {
		extra := ""
		if opts.Check {
			extra = fmt.Sprintf("; check timeout %s", shortDuration(timeout))
		}
		opts.notice(s, "Note: KVM is not usable (%v), so QEMU emulates the CPU (TCG): much slower%s.", kvmErr, extra)
	}
	if opts.ConfigDrive != "" {
		iso, cleanup, err := opts.configDrive()
		if err != nil {
			return err
		}
		defer cleanup()
		cfg.ConfigDrive = iso
		opts.notice(s, "Attaching a config drive (label %s) with %s as openstack/latest/network_data.json.", qemu.ConfigDriveLabel, opts.ConfigDrive)
	}
	switch {
	case opts.Check && opts.NoIronic:
		return opts.check(s, cfg, timeout)
	case opts.Check:
		return opts.checkAgent(s, cfg, timeout)
	}
	return opts.interactive(s, cfg)
}

// configDrive makes the config-2 ISO of --config-drive in a temporary
// directory, which the returned function removes.
func (opts *Options) configDrive() (string, func(), error) {
	data, err := os.ReadFile(opts.ConfigDrive)
	if err != nil {
		return "", nil, errs.BadInputf("--config-drive: %v", err)
	}
	dir, err := os.MkdirTemp("", "ipabr-config-drive-")
	if err != nil {
		return "", nil, errs.Failedf("--config-drive: %v", err)
	}
	iso, err := qemu.ConfigDriveISO(opts.Context, opts.Runner, opts.LookPath, data, dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, errs.Failedf("--config-drive: %v", err)
	}
	return iso, func() { os.RemoveAll(dir) }, nil
}

// config turns the flags into a QEMU configuration, or a usage error.
func (opts *Options) config() (qemu.Config, error) {
	var cfg qemu.Config
	switch {
	case opts.CPUs < 1:
		return cfg, errs.BadInputf("--cpus must be 1 or more, not %d", opts.CPUs)
	case !qemu.ValidMemory(opts.Memory):
		return cfg, errs.BadInputf("--memory must be a size such as 2G or 512M, not %q", opts.Memory)
	case opts.Port < 1 || opts.Port > 65535:
		return cfg, errs.BadInputf("--port must be between 1 and 65535, not %d", opts.Port)
	case opts.Timeout < 0:
		return cfg, errs.BadInputf("--timeout must be positive, not %s", opts.Timeout)
	case opts.Timeout != 0 && !opts.Check:
		return cfg, errs.BadInputf("--timeout only applies with --check")
	case opts.Print && opts.Check:
		return cfg, errs.BadInputf("--print shows the interactive command line; it cannot be combined with --check")
	case !opts.Check && (opts.NoIronic || opts.JSON || opts.Inventory != "" || len(opts.PhaseTimeouts) > 0):
		return cfg, errs.BadInputf("--no-ironic, --json, --inventory and --phase-timeout only apply with --check")
	case opts.NoIronic && (opts.JSON || opts.Inventory != "" || len(opts.PhaseTimeouts) > 0):
		return cfg, errs.BadInputf("--json, --inventory and --phase-timeout belong to the agent check; --no-ironic only waits for the agent's API")
	case opts.Check && !opts.NoIronic && opts.ISO != "":
		return cfg, errs.BadInputf("--check names the stand-in Ironic on the kernel command line, which an ISO sets itself; check an ISO with --check --no-ironic, or boot --kernel and --initrd")
	case opts.ISO != "" && (opts.Kernel != "" || opts.Initrd != ""):
		return cfg, errs.BadInputf("--iso boots the ISO's own kernel; it cannot be combined with --kernel or --initrd")
	case opts.ISO != "" && opts.Append != "":
		return cfg, errs.BadInputf("--append needs a direct kernel boot; with --iso the ISO's boot loader sets the kernel arguments")
	case opts.ConfigDrive != "" && opts.Print:
		return cfg, errs.BadInputf("--config-drive makes an ISO for the run only; it cannot be combined with --print")
	}
	if opts.ConfigDrive != "" {
		if _, err := opts.existing("--config-drive", opts.ConfigDrive); err != nil {
			return cfg, err
		}
	}
	nic, err := qemu.NICModel(opts.NIC)
	if err != nil {
		return cfg, errs.BadInputf("--nic: %v", err)
	}
	if _, err := opts.phaseTimeouts(); err != nil {
		return cfg, err
	}
	if opts.Inventory != "" {
		if st, err := os.Stat(filepath.Dir(opts.Inventory)); err != nil || !st.IsDir() {
			return cfg, errs.BadInputf("--inventory %s: the directory %s does not exist", opts.Inventory, filepath.Dir(opts.Inventory))
		}
	}
	cfg = qemu.Config{
		Binary:   qemu.DefaultBinary,
		Append:   opts.Append,
		Accel:    qemu.TCG,
		Memory:   opts.Memory,
		CPUs:     opts.CPUs,
		HostPort: opts.Port,
		NIC:      nic,
		Display:  opts.Display,
	}
	if opts.Check {
		cfg.Mode = qemu.ModeCheck
	}
	if opts.ISO != "" {
		if cfg.ISO, err = opts.existing("--iso", opts.ISO); err != nil {
			return cfg, err
		}
	} else if cfg.Kernel, cfg.Initrd, err = opts.images(); err != nil {
		return cfg, err
	}
	if opts.SerialLog != "" {
		if cfg.SerialLog, err = filepath.Abs(opts.SerialLog); err != nil {
			return cfg, errs.BadInputf("--serial-log: %v", err)
		}
		if opts.Check {
			cfg.SerialLog = "" // ipabr writes the file itself
		}
	}
	if opts.UEFI {
		fw, err := qemu.FindOVMF(opts.FileExists)
		if err != nil {
			return cfg, errs.Failedf("--uefi: %v", err)
		}
		cfg.Firmware = &fw
	}
	return cfg, nil
}

// existing makes a file named by a flag absolute and checks it is there.
func (opts *Options) existing(flag, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", errs.BadInputf("%s %s: %v", flag, path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", errs.BadInputf("%s %s: no such file", flag, path)
	}
	if st.IsDir() {
		return "", errs.BadInputf("%s %s is a directory, not a file", flag, path)
	}
	return abs, nil
}

// Default image names in the output's images/, in order of preference: what
// Buildroot writes, then the names the board's post-image script gives them.
var (
	KernelNames = []string{"bzImage", "ipa.kernel"}
	InitrdNames = []string{"rootfs.cpio.xz", "ipa.initramfs"}
)

// images resolves --kernel and --initrd, falling back to the output's images.
func (opts *Options) images() (kernel, initrd string, err error) {
	var imagesDir string
	pick := func(flag, given string, names []string, what string) (string, error) {
		if given != "" {
			return opts.existing(flag, given)
		}
		if imagesDir == "" {
			s, err := opts.Settings()
			if err != nil {
				return "", errs.As(errs.BadInput, fmt.Errorf("%w (or pass --kernel and --initrd)", err))
			}
			imagesDir = filepath.Join(s.Project.Output, "images")
		}
		for _, name := range names {
			if p := filepath.Join(imagesDir, name); opts.FileExists(p) {
				return p, nil
			}
		}
		return "", errs.BadInputf("no %s: %s (or %s) does not exist; run 'ipabr build' first, or pass %s FILE",
			what, filepath.Join(imagesDir, names[0]), strings.Join(names[1:], ", "), flag)
	}
	if kernel, err = pick("--kernel", opts.Kernel, KernelNames, "kernel image"); err != nil {
		return "", "", err
	}
	if initrd, err = pick("--initrd", opts.Initrd, InitrdNames, "initramfs"); err != nil {
		return "", "", err
	}
	return kernel, initrd, nil
}

// settings are the verbose and quiet switches; with explicit images ipabr
// also runs outside a project, where there are none.
func (opts *Options) settings() *config.Settings {
	if s, err := opts.Settings(); err == nil {
		return s
	}
	return &config.Settings{}
}

func (opts *Options) notice(s *config.Settings, format string, a ...any) {
	if !s.Quiet {
		fmt.Fprintf(opts.IO.ErrOut, format+"\n", a...)
	}
}

// checkOptions are the check's options, with the console going to
// --serial-log and, with -v, to stderr; close the returned file after.
func (opts *Options) checkOptions(s *config.Settings, timeout time.Duration) (qemu.CheckOptions, io.Closer, error) {
	o := qemu.CheckOptions{Timeout: timeout, Lines: SerialLines, Started: opts.Started}
	var writers []io.Writer
	var closer io.Closer = io.NopCloser(nil)
	if opts.SerialLog != "" {
		f, err := os.Create(opts.SerialLog)
		if err != nil {
			return o, nil, errs.Failedf("--serial-log: %v", err)
		}
		closer = f
		writers = append(writers, f)
	}
	if s.Verbose {
		writers = append(writers, opts.IO.ErrOut)
	}
	if len(writers) > 0 {
		o.Serial = io.MultiWriter(writers...)
	}
	return o, closer, nil
}

// checkFailure turns a failed check into the command's error, showing the
// console's last lines.
func (opts *Options) checkFailure(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var ce *qemu.CheckError
	if !errors.As(err, &ce) {
		return errs.Failedf("%v", err)
	}
	opts.showSerial(ce.Serial)
	if ce.PhaseTimeout {
		return errs.Failedf("%s (--phase-timeout %s=DURATION allows longer)", ce.Reason, ce.Phase)
	}
	return errs.Failedf("%s", ce.Reason)
}

// check is the plain probe (--check --no-ironic).
func (opts *Options) check(s *config.Settings, cfg qemu.Config, timeout time.Duration) error {
	o, closer, err := opts.checkOptions(s, timeout)
	if err != nil {
		return err
	}
	defer closer.Close()
	url := fmt.Sprintf("http://127.0.0.1:%d/", cfg.HostPort)
	opts.notice(s, "Booting %s under %s; waiting up to %s for the agent on %s", bootMedia(cfg), strings.ToUpper(cfg.Accel), shortDuration(timeout), url)
	res, err := qemu.Check(opts.Context, opts.Runner, cfg, o)
	if err != nil {
		return opts.checkFailure(err)
	}
	st := opts.IO.StylesFor(opts.IO.Out)
	fmt.Fprintf(opts.IO.Out, "%s Agent answered on %s after %.1fs (%s; %s)\n",
		st.Success("✓"), res.URL, res.Elapsed.Seconds(), res.Answer.Describe(), strings.ToUpper(cfg.Accel))
	return nil
}

// phaseTimeouts reads --phase-timeout.
func (opts *Options) phaseTimeouts() (qemu.PhaseTimeouts, error) {
	t := qemu.PhaseTimeouts{}
	for name, value := range opts.PhaseTimeouts {
		p, err := qemu.ParsePhase(name)
		if err != nil {
			return nil, errs.BadInputf("--phase-timeout: %v", err)
		}
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return nil, errs.BadInputf("--phase-timeout %s=%s: want a positive duration such as 90s or 10m", name, value)
		}
		t[p] = d
	}
	return t, nil
}

// checkAgent proves the agent against the stand-in Ironic (--check).
func (opts *Options) checkAgent(s *config.Settings, cfg qemu.Config, timeout time.Duration) error {
	img, err := opts.LookPath(qemu.ImgBinary)
	if err != nil {
		return errs.Failedf("%s not found on PATH; --check makes its scratch disks with it: apt-get install qemu-utils (Fedora: dnf install qemu-img), or use --check --no-ironic", qemu.ImgBinary)
	}
	phases, _ := opts.phaseTimeouts() // checked in config
	o, closer, err := opts.checkOptions(s, timeout)
	if err != nil {
		return err
	}
	defer closer.Close()
	a := qemu.AgentOptions{ImgBinary: img, Phases: phases, APIStarted: func(url string) {
		opts.notice(s, "Booting %s under %s with a stand-in Ironic API on %s (%s:%s in the guest); the check may take %s",
			bootMedia(cfg), strings.ToUpper(cfg.Accel), url, qemu.GuestHostAddr, url[strings.LastIndex(url, ":")+1:], shortDuration(timeout))
		if opts.APIStarted != nil {
			opts.APIStarted(url)
		}
	}}
	rep, err := qemu.CheckAgent(opts.Context, opts.Runner, cfg, o, a)
	var ce *qemu.CheckError
	if err != nil && errors.As(err, &ce) && ce.Report != nil {
		rep = ce.Report
	}
	if rep != nil && len(rep.Inventory) > 0 && opts.Inventory != "" {
		if werr := project.WriteFileAtomic(opts.Inventory, rep.Inventory, 0o644); werr != nil && err == nil {
			err = errs.Failedf("--inventory: %v", werr)
		}
	}
	if opts.JSON && rep != nil && !errors.Is(err, context.Canceled) {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil && err == nil {
			err = jerr
		}
	}
	if err != nil {
		return opts.checkFailure(err)
	}
	if !opts.JSON {
		printSummary(opts.IO, rep)
	}
	return nil
}

func (opts *Options) showSerial(lines []string) {
	w := opts.IO.ErrOut
	if len(lines) == 0 {
		fmt.Fprintln(w, "The serial console (ttyS0) printed nothing.")
		return
	}
	fmt.Fprintf(w, "Last %d lines of the serial console (ttyS0):\n", len(lines))
	for _, l := range lines {
		fmt.Fprintf(w, "  | %s\n", l)
	}
}

func (opts *Options) interactive(s *config.Settings, cfg qemu.Config) error {
	opts.notice(s, "Booting %s under %s; the agent will answer on http://127.0.0.1:%d/. Quit QEMU with Ctrl-A X.",
		bootMedia(cfg), strings.ToUpper(cfg.Accel), cfg.HostPort)
	err := qemu.Run(opts.Context, opts.Runner, cfg, opts.IO.In, opts.IO.Out, opts.IO.ErrOut, opts.Started)
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return errs.Failedf("%v", err)
}

func bootMedia(cfg qemu.Config) string {
	fw := "BIOS"
	if cfg.Firmware != nil {
		fw = "UEFI"
	}
	if cfg.ISO != "" {
		return fmt.Sprintf("%s (%s)", cfg.ISO, fw)
	}
	return fmt.Sprintf("%s + %s (%s)", cfg.Kernel, filepath.Base(cfg.Initrd), fw)
}

// shortDuration prints 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
