package qemucmd

// The boot tier (ARCHITECTURE.md §5): real QEMU boots the fixture (see
// fixture_test.go) under TCG, the slowest case and what CI has, through the
// whole command. Runs whenever qemu-system-x86_64 is on PATH.

import (
	"context"
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
)

// Small and short: the fixture needs little memory, and a budget of a few
// minutes on two shared cores leaves no room for long waits.
var fixtureArgs = []string{"--memory", "256M", "--cpus", "1"}

const bootTimeout = "3m"

// bootTime extracts the boot-to-agent time from the success line.
func bootTime(t *testing.T, out string) float64 {
	t.Helper()
	m := regexp.MustCompile(`^✓ Agent answered on http://127\.0\.0\.1:(\d+)/ after (\d+\.\d)s \(OpenStack Ironic Python Agent API, versions v1; TCG\)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no success line with the time in %q", out)
	}
	s, _ := strconv.ParseFloat(m[2], 64)
	return s
}

// BIOS boot with the asked-for port taken: another one is chosen, printed
// and used, the agent answers, and QEMU is gone afterwards.
func TestBootCheckBIOS(t *testing.T) {
	fx := bootTier(t)
	e := newEnv(t)
	taken := holdPort(t)
	log := filepath.Join(t.TempDir(), "serial.log")
	args := append([]string{"--check", "--kernel", fx.Kernel, "--initrd", fx.Initrd, "--append", "panic=-1",
		"--port", fmt.Sprint(taken), "--timeout", bootTimeout, "--serial-log", log}, fixtureArgs...)
	if code := e.run(context.Background(), args...); code != 0 {
		t.Fatalf("exit %d", code)
	}
	secs := bootTime(t, e.out.String())
	m := regexp.MustCompile(`Port (\d+) on 127\.0\.0\.1 is in use; forwarding port (\d+) to the agent instead\.`).FindStringSubmatch(e.errOut.String())
	if m == nil || m[1] != fmt.Sprint(taken) || m[2] == m[1] || !strings.Contains(e.out.String(), "127.0.0.1:"+m[2]+"/") {
		t.Fatalf("port %d was taken, but no other port was chosen and used: %q %q", taken, e.errOut, e.out)
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "fixture: responder up on port 9999") {
		t.Fatalf("serial log lacks the fixture's responder line:\n%s", b)
	}
	e.assertNoSurvivors()
	t.Logf("BIOS boot-to-agent (TCG): %.1fs", secs)
}

// UEFI (OVMF) with virtio-net.
func TestBootCheckUEFI(t *testing.T) {
	fx := bootTier(t)
	if _, err := qemu.FindOVMF(func(p string) bool { _, err := os.Stat(p); return err == nil }); err != nil {
		fmt.Println("SKIP boot-uefi: OVMF not installed (apt-get install ovmf)")
		t.Skip("SKIP boot-uefi: OVMF not installed (apt-get install ovmf)")
	}
	e := newEnv(t)
	args := append([]string{"--check", "--uefi", "--nic", "virtio-net-pci", "--kernel", fx.Kernel, "--initrd", fx.Initrd,
		"--append", "panic=-1", "--port", fmt.Sprint(freePort(t)), "--timeout", bootTimeout}, fixtureArgs...)
	if code := e.run(context.Background(), args...); code != 0 {
		t.Fatalf("exit %d", code)
	}
	secs := bootTime(t, e.out.String())
	if !strings.Contains(e.errOut.String(), "(UEFI) under TCG") {
		t.Fatalf("not announced as a UEFI boot: %q", e.errOut)
	}
	e.assertNoSurvivors()
	t.Logf("UEFI boot-to-agent (TCG): %.1fs", secs)
}

// Without a responder the check fails when the timeout passes, with the
// console's last lines and the reason, and leaves no QEMU behind. This one
// boot uses the host's real accelerator choice: KVM when QEMU can use it,
// else TCG with the notice saying why.
func TestBootCheckNoResponder(t *testing.T) {
	fx := bootTier(t)
	e := newEnv(t)
	e.realKVM = true
	const timeout = 20 * time.Second
	port := freePort(t)
	args := append([]string{"--check", "--kernel", fx.Kernel, "--initrd", fx.Initrd, "--append", "panic=-1 fixture.responder=off",
		"--port", fmt.Sprint(port), "--timeout", timeout.String()}, fixtureArgs...)
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
	if want := fmt.Sprintf("the agent did not answer on http://127.0.0.1:%d/ within 20s", port); !strings.Contains(errOut, want) {
		t.Fatalf("stderr lacks %q:\n%s", want, errOut)
	}
	if !strings.Contains(errOut, "fixture: responder disabled") {
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

// QEMU refusing to start (a kernel that is not one) fails at once with
// QEMU's own message.
func TestBootQEMUExits(t *testing.T) {
	fx := bootTier(t)
	e := newEnv(t)
	junk := filepath.Join(t.TempDir(), "not-a-kernel")
	if err := os.WriteFile(junk, []byte("not a kernel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code := e.run(context.Background(), append([]string{"--check", "--kernel", junk, "--initrd", fx.Initrd,
		"--port", fmt.Sprint(freePort(t)), "--timeout", "1m"}, fixtureArgs...)...)
	if code != cmdutil.ExitFailure || !strings.Contains(e.errOut.String(), "QEMU exited with status 1 before the agent answered: qemu") {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %s to notice QEMU had exited", d)
	}
	e.assertNoSurvivors()
}

// Interrupting ipabr (Ctrl-C, SIGTERM: a cancelled context) stops QEMU.
func TestBootInterrupted(t *testing.T) {
	fx := bootTier(t)
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(3*time.Second, cancel)
	cmd := e.command()
	cmd.SetArgs(append([]string{"--check", "--kernel", fx.Kernel, "--initrd", fx.Initrd,
		"--port", fmt.Sprint(freePort(t)), "--timeout", "1m"}, fixtureArgs...))
	if err := cmd.ExecuteContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled (exit 130)", err)
	}
	e.assertNoSurvivors()
}
