package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/ironic/ironictest"
)

// agentRig is CheckAgent around a fake QEMU and a test agent playing IPA
// from the host: the fake records its arguments, writes the real DHCP
// capture into the filter-dump file, prints a console and waits; the agent
// starts once the stand-in API listens.
type agentRig struct {
	t       *testing.T
	c       Config
	o       CheckOptions
	a       AgentOptions
	args    string // file with QEMU's arguments, one a line
	tmp     string // TMPDIR during the check
	apiURL  string
	pids    pids
	variant string
	noAgent bool
}

func newAgentRig(t *testing.T, variant string) *agentRig {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	capture, err := filepath.Abs("testdata/dhcp.pcap")
	if err != nil {
		t.Fatal(err)
	}
	rg := &agentRig{t: t, args: filepath.Join(dir, "args"), tmp: filepath.Join(dir, "tmp"), variant: variant}
	if err := os.Mkdir(rg.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", rg.tmp)
	rg.c = base()
	rg.c.HostPort = port
	//lint:ignore SA1006 consoleScript is a format string: Sprintf turns its %% into %
	console := fmt.Sprintf(consoleScript)
	rg.c.Binary = fakeQEMU(t, fmt.Sprintf(`for a in "$@"; do case "$a" in filter-dump,*) cp %s "${a##*file=}";; esac; done
`, capture)+console+fmt.Sprintf(`printf '%%s\n' "$@" > %s.tmp; mv %s.tmp %s
sleep 300 & wait`, rg.args, rg.args, rg.args))
	img := filepath.Join(dir, "qemu-img")
	if err := os.WriteFile(img, []byte("#!/bin/sh\n[ \"$1\" = create ] && : > \"$5\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rg.o = CheckOptions{Timeout: 20 * time.Second, Interval: 50 * time.Millisecond, Started: rg.pids.add}
	rg.a = AgentOptions{ImgBinary: img, APIStarted: rg.startAgent}
	return rg
}

func (rg *agentRig) startAgent(url string) {
	rg.apiURL = url
	if rg.noAgent {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	rg.t.Cleanup(cancel)
	ag := &ironictest.Agent{API: url, Callback: url + "/v1/continue_inspection", Listen: fmt.Sprintf("127.0.0.1:%d", rg.c.HostPort), Variant: rg.variant}
	go func() {
		// The guest's agent starts once QEMU has booted it: after the
		// fake has written its console and arguments.
		for {
			if _, err := os.Stat(rg.args); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		_ = ag.Run(ctx)
	}()
}

func (rg *agentRig) check(ctx context.Context) (*Report, error) {
	return CheckAgent(ctx, runner, rg.c, rg.o, rg.a)
}

// assertCleanedUp: no QEMU, no stand-in API and no temporary file remain.
func (rg *agentRig) assertCleanedUp() {
	rg.t.Helper()
	assertGone(rg.t, filepath.Join(rg.t.TempDir(), "none"), rg.pids.list...)
	if left, _ := filepath.Glob(filepath.Join(rg.tmp, "ipabr-qemu-*")); len(left) != 0 {
		rg.t.Errorf("left in TMPDIR: %v", left)
	}
	if rg.apiURL == "" {
		rg.t.Fatal("the stand-in API never started")
	}
	if c, err := net.Dial("tcp", strings.TrimPrefix(rg.apiURL, "http://")); err == nil {
		c.Close()
		rg.t.Errorf("the stand-in API still listens on %s", rg.apiURL)
	}
}

func TestCheckAgentProves(t *testing.T) {
	rg := newAgentRig(t, ironictest.OK)
	rg.c.Append = "ipa-debug=1"
	rep, err := rg.check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	last := -1.0
	for _, p := range rep.Phases {
		order = append(order, string(p.Phase))
		if p.Seconds < last {
			t.Errorf("phase %s at %.1fs, before the one before it", p.Phase, p.Seconds)
		}
		last = p.Seconds
	}
	if strings.Join(order, " ") != "dhcp inventory lookup heartbeat agent" {
		t.Errorf("phases %v", order)
	}
	if !rep.OK || rep.DHCPAddress != "10.0.2.15" || rep.AgentVersion != "11.3.0" || rep.BootMode != "bios" || rep.Firmware != "bios" ||
		rep.CPU.Count != 2 || rep.MemoryMiB != 2048 || len(rep.Disks) != 2 || rep.Disks[1] != (DiskSummary{"/dev/nvme0n1", 2 << 30, "QEMU NVMe Ctrl", "ipabr-nvme"}) ||
		len(rep.NICs) != 1 || rep.NICs[0].Driver != "e1000" || rep.NICs[0].MAC != GuestMAC ||
		len(rep.HardwareManagers) != 1 || rep.HardwareManagers[0].Name != "generic_hardware_manager" || len(rep.CleanSteps) != 3 ||
		rep.CallbackURL != "http://10.0.2.15:9999" || rep.AgentURL != fmt.Sprintf("http://127.0.0.1:%d/", rg.c.HostPort) ||
		len(rep.Missing) != 0 || !strings.Contains(string(rep.Inventory), `"inventory"`) {
		t.Errorf("report %s", reportJSON(rep))
	}
	b, err := os.ReadFile(rg.args)
	if err != nil {
		t.Fatal(err)
	}
	args := string(b)
	port := strings.TrimPrefix(rg.apiURL, "http://127.0.0.1:")
	for _, want := range []string{
		"console=ttyS0 ipa-api-url=http://10.0.2.2:" + port + " ipa-inspection-callback-url=http://10.0.2.2:" + port + "/v1/continue_inspection ipa-debug=1\n",
		",id=net0,mac=52:54:00:12:34:56,hostfwd=",
		"\n-device\nnvme,drive=disk1,serial=ipabr-nvme\n",
		"\n-device\nvirtio-blk-pci,drive=disk0,serial=ipabr-virtio\n",
		"\nfilter-dump,id=dump0,netdev=net0,file=" + rg.tmp + "/ipabr-qemu-",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("QEMU's arguments lack %q:\n%s", want, args)
		}
	}
	if rep.IronicURL != "http://10.0.2.2:"+port || rep.NodeUUID == "" {
		t.Errorf("ironic %s node %s", rep.IronicURL, rep.NodeUUID)
	}
	rg.assertCleanedUp()
}

// Each broken agent fails in its phase, says why, and leaves nothing behind.
func TestCheckAgentFailures(t *testing.T) {
	for _, tc := range []struct {
		name, variant string
		phase         Phase
		timeouts      PhaseTimeouts
		noAgent       bool
		want          string
	}{
		{"no heartbeat", ironictest.NoHeartbeat, PhaseHeartbeat, PhaseTimeouts{PhaseHeartbeat: time.Second}, false,
			"A heartbeat (POST /v1/heartbeat) did not come within 1s of the lookup (at "},
		{"wrong token", ironictest.WrongToken, PhaseHeartbeat, nil, false,
			"the agent's heartbeat was refused: the heartbeat's agent_token is not the one lookup handed out"},
		{"inventory without disks", ironictest.NoDisks, PhaseInventory, nil, false,
			"the inventory lacks the virtio disk (1 GiB, /dev/vd*) and the NVMe disk (2 GiB, /dev/nvme*) that QEMU was given (it lists no disks)"},
		{"boot mode", ironictest.UEFI, PhaseInventory, nil, false,
			`the inventory lacks boot mode bios (it says "uefi") that QEMU was given`},
		{"no agent", "", PhaseInventory, PhaseTimeouts{PhaseInventory: time.Second}, true,
			"The inspection inventory (POST /v1/continue_inspection) did not come within 1s of the DHCP lease (at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newAgentRig(t, tc.variant)
			rg.noAgent = tc.noAgent
			rg.a.Phases = tc.timeouts
			_, err := rg.check(context.Background())
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("want a *CheckError, got %v", err)
			}
			if ce.Phase != tc.phase || !strings.HasPrefix(ce.Reason, tc.want) || ce.PhaseTimeout != (tc.timeouts != nil) {
				t.Fatalf("phase %s: %s\nwant phase %s: %s", ce.Phase, ce.Reason, tc.phase, tc.want)
			}
			if ce.Report == nil || ce.Report.OK || ce.Report.Error != ce.Reason || ce.Report.FailedPhase != tc.phase || len(ce.Serial) == 0 {
				t.Fatalf("report %s, serial %q", reportJSON(ce.Report), ce.Serial)
			}
			if !tc.noAgent && len(ce.Report.Inventory) == 0 {
				t.Error("the inventory the agent sent is not in the report")
			}
			rg.assertCleanedUp()
		})
	}
}

func TestCheckAgentOverallTimeout(t *testing.T) {
	rg := newAgentRig(t, "")
	rg.noAgent = true
	rg.o.Timeout = time.Second
	_, err := rg.check(context.Background())
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Reason != "the check's timeout of 1s passed while waiting for the inspection inventory (POST /v1/continue_inspection)" || ce.Phase != PhaseInventory {
		t.Fatalf("err %v", err)
	}
	rg.assertCleanedUp()
}

func TestCheckAgentInterrupted(t *testing.T) {
	rg := newAgentRig(t, ironictest.NoHeartbeat)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	_, err := rg.check(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	rg.assertCleanedUp()
}

func TestCheckAgentSetupErrors(t *testing.T) {
	rg := newAgentRig(t, "")
	rg.c.Kernel, rg.c.Initrd, rg.c.ISO = "", "", "/img/ipa.iso"
	if _, err := rg.check(context.Background()); err == nil || !strings.Contains(err.Error(), "check an ISO with the plain probe") {
		t.Fatalf("iso: %v", err)
	}
	rg = newAgentRig(t, "")
	rg.a.ImgBinary = fakeQEMU(t, `echo "qemu-img: Could not create '$5': No space left on device" >&2; exit 1`)
	_, err := rg.check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "making the scratch disks:") || !strings.Contains(err.Error(), "No space left on device") || len(rg.pids.list) != 0 {
		t.Fatalf("qemu-img failing: %v (pids %v)", err, rg.pids.list)
	}
	if left, _ := filepath.Glob(filepath.Join(rg.tmp, "ipabr-qemu-*")); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
	// Ctrl-C while qemu-img runs is an interruption, and cleans up.
	rg = newAgentRig(t, "")
	rg.a.ImgBinary = fakeQEMU(t, `sleep 30`)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := rg.check(ctx); !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "interrupted while making the scratch disks") {
		t.Fatalf("interrupted qemu-img: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(rg.tmp, "ipabr-qemu-*")); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

func TestParsePhase(t *testing.T) {
	if p, err := ParsePhase("heartbeat"); err != nil || p != PhaseHeartbeat {
		t.Fatal(p, err)
	}
	if _, err := ParsePhase("boot"); err == nil || err.Error() != `unknown phase "boot"; the phases are dhcp, inventory, lookup, heartbeat, agent` {
		t.Fatal(err)
	}
	if d := DefaultPhaseTimeouts(TCG); d[PhaseAgent] != 9*time.Minute || DefaultPhaseTimeouts(KVM)[PhaseAgent] != 3*time.Minute {
		t.Fatal(d)
	}
}

func reportJSON(r *Report) string {
	b, _ := json.Marshal(r)
	return string(b)
}
