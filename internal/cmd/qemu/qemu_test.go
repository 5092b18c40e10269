package qemucmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ironic"
	"github.com/ipabr/ipabr/internal/ironic/ironictest"
	"github.com/ipabr/ipabr/internal/qemu"
	"github.com/ipabr/ipabr/internal/term"
)

// readmeOutput is what doc/guide.md shows a command printing, from the
// console block that starts with "$ " + command.
func readmeOutput(t *testing.T, command string) string {
	t.Helper()
	b, err := os.ReadFile("../../../doc/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	prompt := "$ " + command + "\n"
	s := string(b)
	i := strings.Index(s, prompt)
	if i < 0 {
		t.Fatalf("doc/guide.md has no %q block", strings.TrimSpace(prompt))
	}
	s = s[i+len(prompt):]
	return strings.TrimRight(s[:strings.Index(s, "```")], "\n")
}

// The documented command line is what --print prints, for a project at
// /home/me/ipabr on a host with KVM.
func TestPrintMatchesGuide(t *testing.T) {
	e := newEnv(t)
	e.kvm = nil
	e.touch("bzImage", "rootfs.cpio.xz")
	e.lookErr = errors.New("QEMU need not be installed to print")
	if code := e.run(context.Background(), "--print"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	got := strings.TrimRight(strings.ReplaceAll(e.out.String(), e.root, "/home/me/ipabr"), "\n")
	if want := readmeOutput(t, "ipabr qemu --print"); got != want {
		t.Fatalf("--print:\n%s\ndoc/guide.md:\n%s", got, want)
	}
	if e.errOut.Len() != 0 {
		t.Fatalf("--print wrote to stderr: %s", e.errOut)
	}
}

// The guide's sample summary is what printSummary prints for its values.
func TestSummaryMatchesGuide(t *testing.T) {
	rep := &qemu.Report{
		OK: true, Accelerator: "tcg", Firmware: "bios",
		Phases: []qemu.PhaseTime{{Phase: qemu.PhaseDHCP, Seconds: 11.8}, {Phase: qemu.PhaseInventory, Seconds: 12.8},
			{Phase: qemu.PhaseLookup, Seconds: 12.9}, {Phase: qemu.PhaseHeartbeat, Seconds: 13.0}, {Phase: qemu.PhaseAgent, Seconds: 13.1}},
		DHCPAddress: "10.0.2.15", CallbackURL: "http://10.0.2.15:9999", AgentURL: "http://127.0.0.1:9999/",
		AgentVersion: "fixture-1.0", CPU: &qemu.CPUSummary{Count: 2, Model: "QEMU Virtual CPU version 2.5+", Architecture: "x86_64"},
		MemoryMiB: 1966, BootMode: "bios",
		Disks:            []qemu.DiskSummary{{Name: "/dev/nvme0n1", Bytes: 2 << 30, Model: "QEMU NVMe Ctrl"}, {Name: "/dev/vda", Bytes: 1 << 30}},
		NICs:             []qemu.NICSummary{{Name: "eth0", MAC: "52:54:00:12:34:56", Driver: "e1000"}},
		HardwareManagers: []ironic.HardwareManager{{Name: "fixture_hardware_manager", Version: "1.0"}},
		CleanSteps:       []ironic.CleanStep{{Step: "erase_devices_metadata", Priority: 99}, {Step: "erase_devices", Priority: 10}},
	}
	io, _, out, _ := term.Test()
	printSummary(io, rep)
	if got, want := strings.TrimRight(out.String(), "\n"), readmeOutput(t, "ipabr qemu --check"); got != want {
		t.Fatalf("summary:\n%s\ndoc/guide.md:\n%s", got, want)
	}
}

func TestPrintOptions(t *testing.T) {
	e := newEnv(t)
	e.touch("ipa.kernel", "ipa.initramfs", "ipa.iso")
	log := filepath.Join(t.TempDir(), "console.log")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--print"}, []string{
			"-accel tcg \\\n", "-kernel " + filepath.Join(e.images, "ipa.kernel"), "-initrd " + filepath.Join(e.images, "ipa.initramfs"),
			"-append console=ttyS0 \\\n", "-nographic\n"}},
		{[]string{"--print", "--memory", "512M", "--cpus", "1", "--port", "4000", "--nic", "virtio", "--append", "ipa-debug=1 console=ttyS0,115200"}, []string{
			"-m 512M \\\n", "-smp 1 \\\n", "-append 'ipa-debug=1 console=ttyS0,115200'", "-nic user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:4000-:9999"}},
		{[]string{"--print", "--display", "--serial-log", log}, []string{
			"-append 'console=tty0 console=ttyS0'", "-chardev stdio,id=console0,mux=on,signal=off,logfile=" + log}},
		{[]string{"--print", "--iso", filepath.Join(e.images, "ipa.iso")}, []string{
			"-drive if=none,id=cd0,media=cdrom,readonly=on,format=raw,file=" + filepath.Join(e.images, "ipa.iso"), "-device ide-cd,drive=cd0,bootindex=0"}},
	} {
		if code := e.run(context.Background(), tc.args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, e.errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(e.out.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, e.out)
			}
		}
	}
}

func TestPrintUEFI(t *testing.T) {
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.f.FileExists = func(p string) bool {
		return strings.HasPrefix(p, "/usr/share/OVMF/OVMF_") && !strings.Contains(p, "_4M") || strings.HasPrefix(p, e.root)
	}
	if code := e.run(context.Background(), "--print", "--uefi"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{
		"-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd \\\n",
		"-drive if=pflash,format=raw,unit=1,snapshot=on,file=/usr/share/OVMF/OVMF_VARS.fd \\\n",
	} {
		if !strings.Contains(e.out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, e.out)
		}
	}
	e.f.FileExists = func(p string) bool { return strings.HasPrefix(p, e.root) }
	if code := e.run(context.Background(), "--print", "--uefi"); code != 1 || !strings.Contains(e.errOut.String(), "apt-get install ovmf") {
		t.Fatalf("without OVMF: exit %d, %s", code, e.errOut)
	}
}

func TestMissingImages(t *testing.T) {
	e := newEnv(t)
	code := e.run(context.Background(), "--check")
	want := "no kernel image: " + filepath.Join(e.images, "bzImage") + " (or ipa.kernel) does not exist; run 'ipabr build' first, or pass --kernel FILE"
	if code != cmdutil.ExitUsage || !strings.Contains(e.errOut.String(), want) {
		t.Fatalf("exit %d, stderr %q; want 2 and %q", code, e.errOut, want)
	}
	e.touch("bzImage")
	code = e.run(context.Background())
	want = "no initramfs: " + filepath.Join(e.images, "rootfs.cpio.xz") + " (or ipa.initramfs) does not exist; run 'ipabr build' first"
	if code != cmdutil.ExitUsage || !strings.Contains(e.errOut.String(), want) {
		t.Fatalf("exit %d, stderr %q; want 2 and %q", code, e.errOut, want)
	}
	code = e.run(context.Background(), "--initrd", "nowhere.cpio")
	if code != cmdutil.ExitUsage || !strings.Contains(e.errOut.String(), "--initrd nowhere.cpio: no such file") {
		t.Fatalf("exit %d, stderr %q", code, e.errOut)
	}
}

func TestExplicitImagesNeedNoProject(t *testing.T) {
	e := newEnv(t)
	e.touch("k", "i")
	e.f.Settings = func() (*config.Settings, error) { return nil, errs.BadInputf("not inside an ipabr project") }
	if code := e.run(context.Background(), "--print", "--kernel", filepath.Join(e.images, "k"), "--initrd", filepath.Join(e.images, "i")); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if code := e.run(context.Background(), "--print"); code != cmdutil.ExitUsage || !strings.Contains(e.errOut.String(), "not inside an ipabr project (or pass --kernel and --initrd)") {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz", "ipa.iso")
	iso := filepath.Join(e.images, "ipa.iso")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cpus", "0"}, "--cpus must be 1 or more"},
		{[]string{"--memory", "lots"}, "--memory must be a size"},
		{[]string{"--port", "0"}, "--port must be between 1 and 65535"},
		{[]string{"--nic", "ne2k_pci"}, `--nic: unknown NIC model "ne2k_pci"`},
		{[]string{"--timeout", "1m"}, "--timeout only applies with --check"},
		{[]string{"--check", "--timeout", "-1s"}, "--timeout must be positive"},
		{[]string{"--print", "--check"}, "cannot be combined with --check"},
		{[]string{"--iso", iso, "--kernel", iso}, "--iso boots the ISO's own kernel"},
		{[]string{"--iso", iso, "--append", "quiet"}, "--append needs a direct kernel boot"},
		{[]string{"--iso", e.images}, "is a directory"},
		{[]string{"--json"}, "only apply with --check"},
		{[]string{"--no-ironic"}, "only apply with --check"},
		{[]string{"--check", "--no-ironic", "--inventory", "x.json"}, "--no-ironic only waits for the agent's API"},
		{[]string{"--check", "--iso", iso}, "check an ISO with --check --no-ironic"},
		{[]string{"--check", "--phase-timeout", "boot=1m"}, `--phase-timeout: unknown phase "boot"; the phases are dhcp, inventory, lookup, heartbeat, agent`},
		{[]string{"--check", "--phase-timeout", "lookup=soon"}, "--phase-timeout lookup=soon: want a positive duration"},
		{[]string{"--check", "--phase-timeout", "lookup=-1s"}, "--phase-timeout lookup=-1s: want a positive duration"},
		{[]string{"--check", "--inventory", "/nonexistent/dir/inv.json"}, "--inventory /nonexistent/dir/inv.json: the directory /nonexistent/dir does not exist"},
	} {
		if code := e.run(context.Background(), tc.args...); code != cmdutil.ExitUsage || !strings.Contains(e.errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, e.errOut, tc.want)
		}
	}
}

func TestQEMUMissing(t *testing.T) {
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.lookErr = errors.New("not found")
	if code := e.run(context.Background(), "--check"); code != 1 || !strings.Contains(e.errOut.String(), "apt-get install qemu-system-x86") {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
}

// The whole --check --no-ironic path against a stand-in QEMU that serves
// the agent's root document on the forwarded port: the port asked for is
// taken, so another is chosen, printed and used.
func TestCheckFakePlainProbe(t *testing.T) {
	e := fakeEnv(t, "answer")
	taken := holdPort(t)
	log := filepath.Join(t.TempDir(), "serial.log")
	code := e.run(context.Background(), "--check", "--no-ironic", "--port", fmt.Sprint(taken), "--timeout", "30s", "--serial-log", log)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	m := regexp.MustCompile(`Port (\d+) on 127\.0\.0\.1 is in use; forwarding port (\d+) to the agent instead\.`).FindStringSubmatch(e.errOut.String())
	if m == nil || m[1] != fmt.Sprint(taken) || m[2] == m[1] {
		t.Fatalf("no port notice for %d in %q", taken, e.errOut)
	}
	if !regexp.MustCompile(`^✓ Agent answered on http://127\.0\.0\.1:` + m[2] + `/ after \d+\.\ds \(OpenStack Ironic Python Agent API, versions v1; TCG\)\n$`).MatchString(e.out.String()) {
		t.Fatalf("stdout %q", e.out)
	}
	if !strings.Contains(e.errOut.String(), "Note: KVM is not usable (forced TCG by the test), so QEMU emulates the CPU (TCG): much slower; check timeout 30s.") {
		t.Fatalf("no TCG notice: %q", e.errOut)
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "fake console line 60\r\nfake: agent up on port "+m[2]) {
		t.Fatalf("serial log %q", b)
	}
	e.assertNoSurvivors()
}

func TestCheckFakeNoAgent(t *testing.T) {
	e := fakeEnv(t, "silent")
	e.quiet = true
	port := freePort(t)
	start := time.Now()
	code := e.run(context.Background(), "--check", "--no-ironic", "--port", fmt.Sprint(port), "--timeout", "2s")
	if code != cmdutil.ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Fatalf("a 2s check took %s", d)
	}
	errOut := e.errOut.String()
	for _, want := range []string{
		"Last 50 lines of the serial console (ttyS0):\n  | fake console line 11\n",
		"  | fake console line 60\n",
		fmt.Sprintf("the agent did not answer on http://127.0.0.1:%d/ within 2s (last probe: connection refused)", port),
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "line 10\n") || strings.Contains(errOut, "Note:") {
		t.Errorf("stderr shows more than 50 lines or a notice under -q:\n%s", errOut)
	}
	e.assertNoSurvivors()
}

func TestCheckFakeQEMUDies(t *testing.T) {
	e := fakeEnv(t, "die")
	for _, tc := range []struct{ flag, want string }{
		{"--no-ironic", "QEMU exited with status 1 before the agent answered: qemu-system-x86_64: could not load kernel: fake"},
		{"--json", "QEMU exited with status 1 before a DHCP lease: qemu-system-x86_64: could not load kernel: fake"},
	} {
		code := e.run(context.Background(), "--check", tc.flag, "--port", fmt.Sprint(freePort(t)))
		if code != 1 || !strings.Contains(e.errOut.String(), tc.want) || !strings.Contains(e.errOut.String(), "fake console line 60") {
			t.Fatalf("%s: exit %d; stderr %q", tc.flag, code, e.errOut)
		}
		e.assertNoSurvivors()
	}
}

// Ctrl-C (a cancelled context) ends either check with exit 130 and leaves
// no QEMU, stand-in API or temporary file behind.
func TestCheckFakeInterrupted(t *testing.T) {
	for _, args := range [][]string{{"--check", "--no-ironic"}, {"--check"}, {"--check", "--append", "fixture.agent=noheartbeat"}} {
		e := newEnv(t)
		e.touch("bzImage", "rootfs.cpio.xz")
		// Silent, QEMU waits for DHCP (or the agent's API); the agent that
		// never heartbeats has the check wait for the heartbeat.
		if len(args) > 2 {
			e.withFakeQEMU("agent")
		} else {
			e.withFakeQEMU("silent")
		}
		ctx, cancel := context.WithCancel(context.Background())
		go e.cancelAfterStart(cancel, 500*time.Millisecond)
		cmd := e.command()
		cmd.SetArgs(append(args, "--port", fmt.Sprint(freePort(t))))
		err := cmd.ExecuteContext(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%v: err = %v, want context.Canceled (exit 130)", args, err)
		}
		e.assertNoSurvivors()
	}
}

// The agent check against a fake QEMU whose guest plays IPA (ironictest):
// the summary names every phase and what the agent reported.
func TestCheckFakeAgentSummary(t *testing.T) {
	e := fakeEnv(t, "agent")
	port := freePort(t)
	if code := e.run(context.Background(), "--check", "--port", fmt.Sprint(port), "--timeout", "30s"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := e.out.String()
	for _, re := range []string{
		`^✓ Agent proven in \d+\.\ds under TCG \(BIOS\): inventory, lookup, heartbeat, status and clean steps\n`,
		`\n  DHCP +- +not seen on the wire\n`,
		`\n  inventory +\d+\.\ds\n`,
		`\n  heartbeat +\d+\.\ds +http://10\.0\.2\.15:9999\n`,
		`\n  agent API +\d+\.\ds +http://127\.0\.0\.1:` + fmt.Sprint(port) + `/\n`,
		`\n  agent version +11\.3\.0\n`,
		`\n  CPUs +2 × QEMU Virtual CPU version 2\.5\+ \(x86_64\)\n`,
		`\n  memory +2048 MiB\n  boot mode +bios\n`,
		`\n  disks +/dev/vda      1 GiB  -\n +/dev/nvme0n1  2 GiB  QEMU NVMe Ctrl\n`,
		`\n  NICs +enp0s2  52:54:00:12:34:56  e1000\n`,
		`\n  hardware managers +generic_hardware_manager 1\.2\n`,
		`\n  clean steps +3: erase_devices_metadata \(99\), erase_devices \(10\), delete_configuration \(0\)\n$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("summary does not match %s:\n%s", re, out)
		}
	}
	if !regexp.MustCompile(`with a stand-in Ironic API on http://127\.0\.0\.1:\d+ \(10\.0\.2\.2:\d+ in the guest\); the check may take 30s`).MatchString(e.errOut.String()) {
		t.Errorf("no notice of the stand-in: %s", e.errOut)
	}
	e.assertNoSurvivors()
}

func TestCheckFakeAgentJSONAndInventory(t *testing.T) {
	e := fakeEnv(t, "agent")
	inv := filepath.Join(t.TempDir(), "inventory.json")
	if code := e.run(context.Background(), "--check", "--json", "--inventory", inv, "--port", fmt.Sprint(freePort(t))); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		OK     bool
		Phases []struct {
			Phase   string
			Seconds float64
		}
		Disks []struct {
			Name  string
			Bytes int64
			Model string
		}
		CleanSteps []struct{ Step, Manager string } `json:"clean_steps"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, e.out)
	}
	if !rep.OK || len(rep.Phases) != 4 || rep.Phases[3].Phase != "agent" || len(rep.Disks) != 2 || rep.Disks[0].Bytes != 1<<30 || len(rep.CleanSteps) != 3 || rep.CleanSteps[0].Manager != "GenericHardwareManager" {
		t.Fatalf("report %s", e.out)
	}
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	var sent, want any
	if json.Unmarshal(b, &sent) != nil || json.Unmarshal(ironictest.Inspection, &want) != nil || !reflect.DeepEqual(sent, want) {
		t.Fatalf("--inventory wrote %.200s…", b)
	}
	e.assertNoSurvivors()
}

// Broken agents fail with the phase and the reason; --json and --inventory
// still report what was seen.
func TestCheckFakeAgentFailures(t *testing.T) {
	for _, tc := range []struct {
		variant string
		extra   []string
		phase   string
		want    string
	}{
		{"wrongtoken", nil, "heartbeat", "error: the agent's heartbeat was refused: the heartbeat's agent_token is not the one lookup handed out\n"},
		{"nodisks", nil, "inventory", "error: the inventory lacks the virtio disk (1 GiB, /dev/vd*) and the NVMe disk (2 GiB, /dev/nvme*) that QEMU was given (it lists no disks)\n"},
		{"noheartbeat", []string{"--phase-timeout", "heartbeat=1s"}, "heartbeat", "did not come within 1s of the lookup (at "},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			e := fakeEnv(t, "agent")
			inv := filepath.Join(t.TempDir(), "inventory.json")
			args := append([]string{"--check", "--json", "--inventory", inv, "--append", "fixture.agent=" + tc.variant, "--port", fmt.Sprint(freePort(t))}, tc.extra...)
			if code := e.run(context.Background(), args...); code != cmdutil.ExitFailure {
				t.Fatalf("exit %d", code)
			}
			if !strings.Contains(e.errOut.String(), tc.want) || !strings.Contains(e.errOut.String(), "  | fake console line 60\n") {
				t.Fatalf("stderr lacks %q and the console:\n%s", tc.want, e.errOut)
			}
			if tc.variant == "noheartbeat" && !strings.Contains(e.errOut.String(), "(--phase-timeout heartbeat=DURATION allows longer)") {
				t.Errorf("no hint at --phase-timeout: %s", e.errOut)
			}
			var rep struct {
				OK          bool
				Error       string
				FailedPhase string `json:"failed_phase"`
			}
			if err := json.Unmarshal(e.out.Bytes(), &rep); err != nil || rep.OK || rep.FailedPhase != tc.phase || !strings.Contains("error: "+rep.Error+"\n", tc.want) {
				t.Fatalf("JSON %s (%v)", e.out, err)
			}
			if b, err := os.ReadFile(inv); err != nil || !bytes.Contains(b, []byte(`"inventory"`)) {
				t.Errorf("--inventory on failure: %v %.100s", err, b)
			}
			e.assertNoSurvivors()
		})
	}
}

func TestCheckNeedsQemuImg(t *testing.T) {
	e := fakeEnv(t, "agent")
	self, _ := os.Executable()
	e.f.LookPath = func(name string) (string, error) {
		if name == "qemu-img" {
			return "", errors.New("not found")
		}
		return self, nil
	}
	if code := e.run(context.Background(), "--check"); code != 1 || !strings.Contains(e.errOut.String(), "qemu-img not found on PATH; --check makes its scratch disks with it: apt-get install qemu-utils") {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
}

func TestInteractiveFake(t *testing.T) {
	e := fakeEnv(t, "die")
	code := e.run(context.Background(), "--port", fmt.Sprint(freePort(t)))
	// Interactive mode shows the console live and QEMU's own messages.
	if code != 1 || !strings.Contains(e.out.String(), "fake console line 60") || !strings.Contains(e.errOut.String(), "could not load kernel: fake") {
		t.Fatalf("exit %d; stdout %q; stderr %q", code, e.out, e.errOut)
	}
	if !strings.Contains(e.errOut.String(), "Quit QEMU with Ctrl-A X.") {
		t.Fatalf("no interactive notice: %q", e.errOut)
	}
	e.assertNoSurvivors()
}
