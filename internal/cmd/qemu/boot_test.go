package qemucmd

// The boot tier (CONTRIBUTING.md, "Tests"): real QEMU boots the fixture (see
// fixture_test.go) under TCG, the slowest case and what CI has, through the
// whole command, against the stand-in Ironic. Runs whenever
// qemu-system-x86_64 (and qemu-img) are on PATH.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/qemu"
	"github.com/ipabr/ipabr/internal/testenv"
)

// Small and short: the fixture needs little memory, and a budget of a few
// minutes on two shared cores leaves no room for long waits.
var fixtureArgs = []string{"--memory", "256M", "--cpus", "1"}

const bootTimeout = "3m"

// agentBootTier is the boot tier for the agent check, which also needs
// qemu-img for its scratch disks.
func agentBootTier(t *testing.T) *bootFixture {
	t.Helper()
	fx := bootTier(t)
	testenv.Program(t, "boot", "qemu-img")
	return fx
}

// phaseTimes reads the summary's phase lines: "  DHCP  3.1s  10.0.2.15".
func phaseTimes(t *testing.T, out string) map[string]float64 {
	t.Helper()
	times := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^  (DHCP|inventory|lookup|heartbeat|agent API) +(\d+\.\d)s`).FindAllStringSubmatch(out, -1) {
		times[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	if len(times) != 5 {
		t.Fatalf("the summary lacks phase times:\n%s", out)
	}
	return times
}

func logTimes(t *testing.T, what string, times map[string]float64) {
	t.Logf("%s (TCG): DHCP %.1fs, inventory %.1fs, lookup %.1fs, heartbeat %.1fs, agent API %.1fs",
		what, times["DHCP"], times["inventory"], times["lookup"], times["heartbeat"], times["agent API"])
}

// BIOS boot with the asked-for port taken: another one is chosen, printed
// and used; the agent goes through every phase; the summary shows the
// scratch disks and the NIC QEMU gave it; nothing is left behind.
func TestBootCheckBIOS(t *testing.T) {
	fx := agentBootTier(t)
	e := newEnv(t)
	taken := holdPort(t)
	log := filepath.Join(t.TempDir(), "serial.log")
	args := append([]string{"--check", "--kernel", fx.Kernel, "--initrd", fx.Initrd, "--append", "panic=-1",
		"--port", fmt.Sprint(taken), "--timeout", bootTimeout, "--serial-log", log}, fixtureArgs...)
	if code := e.run(context.Background(), args...); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := e.out.String()
	m := regexp.MustCompile(`Port (\d+) on 127\.0\.0\.1 is in use; forwarding port (\d+) to the agent instead\.`).FindStringSubmatch(e.errOut.String())
	if m == nil || m[1] != fmt.Sprint(taken) || m[2] == m[1] || !strings.Contains(out, "  agent API  ") || !strings.Contains(out, "http://127.0.0.1:"+m[2]+"/\n") {
		t.Fatalf("port %d was taken, but no other port was chosen and used: %q %q", taken, e.errOut, out)
	}
	for _, re := range []string{
		`^✓ Agent proven in \d+\.\ds under TCG \(BIOS\)`,
		`\n  DHCP +\d+\.\ds +10\.0\.2\.15\n`,
		`\n  heartbeat +\d+\.\ds +http://10\.0\.2\.15:9999\n`,
		`\n  agent version +fixture-1\.0\n`,
		`\n  CPUs +1 × .+ \(x86_64\)\n`,
		`\n  boot mode +bios\n`,
		`\n  disks +/dev/nvme0n1 +2 GiB +QEMU NVMe Ctrl\n +/dev/vda +1 GiB +-\n`,
		`\n  NICs +eth0 +52:54:00:12:34:56 +e1000\n`,
		`\n  hardware managers +fixture_hardware_manager 1\.0\n`,
		`\n  clean steps +2: erase_devices_metadata \(99\), erase_devices \(10\)\n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("summary does not match %s:\n%s", re, out)
		}
	}
	b, _ := os.ReadFile(log)
	for _, want := range []string{"fixture: inventory accepted", "fixture: agent API up on port 9999", "fixture: heartbeat accepted"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("serial log lacks %q:\n%s", want, b)
		}
	}
	e.assertNoSurvivors()
	logTimes(t, "BIOS", phaseTimes(t, out))
}

// UEFI (OVMF) with virtio-net, as JSON, with the inventory kept.
func TestBootCheckUEFI(t *testing.T) {
	fx := agentBootTier(t)
	if _, err := qemu.FindOVMF(func(p string) bool { _, err := os.Stat(p); return err == nil }); err != nil {
		testenv.Skip(t, "boot-uefi", "OVMF not installed (apt-get install ovmf)")
	}
	e := newEnv(t)
	inv := filepath.Join(t.TempDir(), "inventory.json")
	args := append([]string{"--check", "--json", "--inventory", inv, "--uefi", "--nic", "virtio-net-pci", "--kernel", fx.Kernel, "--initrd", fx.Initrd,
		"--append", "panic=-1", "--port", fmt.Sprint(freePort(t)), "--timeout", bootTimeout}, fixtureArgs...)
	if code := e.run(context.Background(), args...); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(e.errOut.String(), "(UEFI) under TCG") {
		t.Fatalf("not announced as a UEFI boot: %q", e.errOut)
	}
	var rep qemu.Report
	if err := json.Unmarshal(e.out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, e.out)
	}
	if !rep.OK || rep.Firmware != "uefi" || rep.BootMode != "uefi" || len(rep.NICs) != 1 || rep.NICs[0].Driver != "virtio_net" || rep.NICs[0].MAC != qemu.GuestMAC ||
		len(rep.Disks) != 2 || len(rep.Phases) != 5 || rep.DHCPAddress != "10.0.2.15" || rep.AgentVersion != "fixture-1.0" || len(rep.CleanSteps) != 2 {
		t.Fatalf("report %s", e.out)
	}
	b, err := os.ReadFile(inv)
	if err != nil || !strings.Contains(string(b), `"current_boot_mode": "uefi"`) || !strings.Contains(string(b), `"name": "/dev/nvme0n1", "model": "QEMU NVMe Ctrl", "size": 2147483648`) {
		t.Fatalf("--inventory: %v %s", err, b)
	}
	e.assertNoSurvivors()
	times := map[string]float64{}
	for _, p := range rep.Phases {
		times[map[qemu.Phase]string{qemu.PhaseDHCP: "DHCP", qemu.PhaseInventory: "inventory", qemu.PhaseLookup: "lookup", qemu.PhaseHeartbeat: "heartbeat", qemu.PhaseAgent: "agent API"}[p.Phase]] = p.Seconds
	}
	logTimes(t, "UEFI", times)
}

// The fixture's broken agents: each fails in its phase with its reason.
func TestBootBrokenAgents(t *testing.T) {
	fx := agentBootTier(t)
	for _, tc := range []struct {
		variant string
		extra   []string
		phase   string
		want    string
	}{
		{"noheartbeat", []string{"--phase-timeout", "heartbeat=15s"}, "heartbeat", "A heartbeat (POST /v1/heartbeat) did not come within 15s of the lookup (at "},
		{"wrongtoken", nil, "heartbeat", "the agent's heartbeat was refused: the heartbeat's agent_token is not the one lookup handed out"},
		{"nodisks", nil, "inventory", "the inventory lacks the virtio disk (1 GiB, /dev/vd*) and the NVMe disk (2 GiB, /dev/nvme*) that QEMU was given (it lists no disks)"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			e := newEnv(t)
			args := append([]string{"--check", "--json", "--kernel", fx.Kernel, "--initrd", fx.Initrd, "--append", "panic=-1 fixture.agent=" + tc.variant,
				"--port", fmt.Sprint(freePort(t)), "--timeout", bootTimeout}, append(tc.extra, fixtureArgs...)...)
			start := time.Now()
			if code := e.run(context.Background(), args...); code != cmdutil.ExitFailure {
				t.Fatalf("exit %d, want 1", code)
			}
			var rep qemu.Report
			if err := json.Unmarshal(e.out.Bytes(), &rep); err != nil || rep.OK || string(rep.FailedPhase) != tc.phase || !strings.HasPrefix(rep.Error, tc.want) {
				t.Fatalf("report %s (%v); want phase %s: %s", e.out, err, tc.phase, tc.want)
			}
			if !strings.Contains(e.errOut.String(), "error: "+tc.want) || !strings.Contains(e.errOut.String(), "  | fixture: ") {
				t.Fatalf("stderr lacks the reason or the console:\n%s", e.errOut)
			}
			e.assertNoSurvivors()
			t.Logf("%s: failed in phase %s after %.1fs: %s", tc.variant, rep.FailedPhase, time.Since(start).Seconds(), rep.Error)
		})
	}
}

// Without an agent the check fails when the timeout passes, naming what it
// waited for, with the console's last lines, and leaves nothing behind.
// This one boot uses the host's real accelerator choice: KVM when QEMU can
// use it, else TCG with the notice saying why.
func TestBootCheckNoAgent(t *testing.T) {
	fx := agentBootTier(t)
	e := newEnv(t)
	e.realKVM = true
	// Long enough for the kernel to print on a loaded machine under TCG
	// (the console's last lines are part of what is checked).
	const timeout = 45 * time.Second
	args := append([]string{"--check", "--kernel", fx.Kernel, "--initrd", fx.Initrd, "--append", "panic=-1 fixture.agent=off",
		"--port", fmt.Sprint(freePort(t)), "--timeout", timeout.String()}, fixtureArgs...)
	start := time.Now()
	code := e.run(context.Background(), args...)
	took := time.Since(start)
	if code != cmdutil.ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if took > timeout+15*time.Second {
		t.Fatalf("a %s check took %s", timeout, took)
	}
	errOut := e.errOut.String()
	if !regexp.MustCompile(`Last \d+ lines of the serial console \(ttyS0\):\n(  \| .*\n)+`).MatchString(errOut) {
		t.Fatalf("no serial lines in stderr:\n%s", errOut)
	}
	if !regexp.MustCompile(`error: the check's timeout of 45s passed while waiting for (a DHCP lease|the inspection inventory \(POST /v1/continue_inspection\))\n`).MatchString(errOut) {
		t.Fatalf("stderr does not name the phase:\n%s", errOut)
	}
	if !strings.Contains(errOut, "fixture: agent disabled") {
		t.Logf("note: the guest had not finished booting within %s", timeout)
	}
	kvmErr := qemu.KVMAvailable(qemu.KVMDevice)
	if kvmErr == nil {
		kvmErr = qemu.KVMWorks(context.Background(), e.f.Runner, "qemu-system-x86_64")
	}
	if kvmErr != nil {
		if want := fmt.Sprintf("Note: KVM is not usable (%v), so QEMU emulates the CPU (TCG)", kvmErr); !strings.Contains(errOut, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errOut)
		}
	} else if !strings.Contains(errOut, "(BIOS) under KVM") {
		t.Fatalf("KVM works here but was not used:\n%s", errOut)
	}
	t.Logf("accelerator: KVM unusable: %v", kvmErr)
	e.assertNoSurvivors()
}

// --no-ironic keeps the plain probe: the fixture, without ipa-api-url,
// serves only its API, and the root document answers.
func TestBootPlainProbe(t *testing.T) {
	fx := bootTier(t)
	e := newEnv(t)
	args := append([]string{"--check", "--no-ironic", "--kernel", fx.Kernel, "--initrd", fx.Initrd, "--append", "panic=-1",
		"--port", fmt.Sprint(freePort(t)), "--timeout", bootTimeout}, fixtureArgs...)
	if code := e.run(context.Background(), args...); code != 0 {
		t.Fatalf("exit %d", code)
	}
	m := regexp.MustCompile(`^✓ Agent answered on http://127\.0\.0\.1:\d+/ after (\d+\.\d)s \(OpenStack Ironic Python Agent API, versions v1; TCG\)\n$`).FindStringSubmatch(e.out.String())
	if m == nil {
		t.Fatalf("no success line with the time in %q", e.out)
	}
	e.assertNoSurvivors()
	t.Logf("BIOS boot-to-agent, plain probe (TCG): %ss", m[1])
}

// QEMU refusing to start (a kernel that is not one) fails at once with
// QEMU's own message.
func TestBootQEMUExits(t *testing.T) {
	fx := agentBootTier(t)
	e := newEnv(t)
	junk := filepath.Join(t.TempDir(), "not-a-kernel")
	if err := os.WriteFile(junk, []byte("not a kernel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code := e.run(context.Background(), append([]string{"--check", "--kernel", junk, "--initrd", fx.Initrd,
		"--port", fmt.Sprint(freePort(t)), "--timeout", "1m"}, fixtureArgs...)...)
	if code != cmdutil.ExitFailure || !strings.Contains(e.errOut.String(), "QEMU exited with status 1 before a DHCP lease: qemu") {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %s to notice QEMU had exited", d)
	}
	e.assertNoSurvivors()
}

// Interrupting ipabr (Ctrl-C, SIGTERM: a cancelled context) stops QEMU and
// the stand-in API and removes the scratch disks, while the agent boots and
// once it is waiting for a heartbeat that never comes.
func TestBootInterrupted(t *testing.T) {
	fx := agentBootTier(t)
	for _, tc := range []struct {
		variant string
		after   time.Duration
	}{{"", 3 * time.Second}, {"noheartbeat", 0}} {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		log := filepath.Join(t.TempDir(), "serial.log")
		if tc.after > 0 {
			time.AfterFunc(tc.after, cancel)
		} else {
			// Cancel once the agent has looked its node up.
			go func() {
				for ctx.Err() == nil {
					if b, _ := os.ReadFile(log); strings.Contains(string(b), "fixture: not heartbeating") {
						cancel()
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		}
		cmd := e.command()
		cmd.SetArgs(append([]string{"--check", "--kernel", fx.Kernel, "--initrd", fx.Initrd, "--append", "fixture.agent=" + tc.variant,
			"--serial-log", log, "--port", fmt.Sprint(freePort(t)), "--timeout", bootTimeout}, fixtureArgs...))
		if err := cmd.ExecuteContext(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("%q: err = %v, want context.Canceled (exit 130)", tc.variant, err)
		}
		e.assertNoSurvivors()
	}
}
