package qemucmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cmdutil"
)

// readmeCommandLine is the command line README.md documents for
// `ipabr qemu --print`, from the console block that shows it.
func readmeCommandLine(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "$ ipabr qemu --print\n"
	s := string(b)
	i := strings.Index(s, prompt)
	if i < 0 {
		t.Fatalf("README.md has no %q block", strings.TrimSpace(prompt))
	}
	s = s[i+len(prompt):]
	return strings.TrimRight(s[:strings.Index(s, "```")], "\n")
}

// The documented command line is what --print prints, for a project at
// /home/me/ipabr on a host with KVM.
func TestPrintMatchesREADME(t *testing.T) {
	e := newEnv(t)
	e.kvm = nil
	e.touch("bzImage", "rootfs.cpio.xz")
	e.lookErr = errors.New("QEMU need not be installed to print")
	if code := e.run(context.Background(), "--print"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	got := strings.TrimRight(strings.ReplaceAll(e.out.String(), e.root, "/home/me/ipabr"), "\n")
	if want := readmeCommandLine(t); got != want {
		t.Fatalf("--print:\n%s\nREADME.md:\n%s", got, want)
	}
	if e.errOut.Len() != 0 {
		t.Fatalf("--print wrote to stderr: %s", e.errOut)
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
	e.f.Settings = func() (*cmdutil.Settings, error) { return nil, cmdutil.UsageError("not inside an ipabr project") }
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

// The whole --check path against a stand-in QEMU that serves the agent's
// root document on the forwarded port: the port asked for is taken, so
// another is chosen, printed and used.
func TestCheckFakeAgentAnswers(t *testing.T) {
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.withFakeQEMU("answer")
	taken := holdPort(t)
	log := filepath.Join(t.TempDir(), "serial.log")
	code := e.run(context.Background(), "--check", "--port", fmt.Sprint(taken), "--timeout", "30s", "--serial-log", log)
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
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.withFakeQEMU("silent")
	e.quiet = true
	port := freePort(t)
	start := time.Now()
	code := e.run(context.Background(), "--check", "--port", fmt.Sprint(port), "--timeout", "2s")
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
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.withFakeQEMU("die")
	code := e.run(context.Background(), "--check", "--port", fmt.Sprint(freePort(t)))
	want := "QEMU exited with status 1 before the agent answered: qemu-system-x86_64: could not load kernel: fake"
	if code != 1 || !strings.Contains(e.errOut.String(), want) || !strings.Contains(e.errOut.String(), "fake console line 60") {
		t.Fatalf("exit %d; stderr %q", code, e.errOut)
	}
	e.assertNoSurvivors()
}

func TestCheckFakeInterrupted(t *testing.T) {
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.withFakeQEMU("silent")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	cmd := e.command()
	cmd.SetArgs([]string{"--check", "--port", fmt.Sprint(freePort(t))})
	err := cmd.ExecuteContext(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled (exit 130)", err)
	}
	e.assertNoSurvivors()
}

func TestInteractiveFake(t *testing.T) {
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	e.withFakeQEMU("die")
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
