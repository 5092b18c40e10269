package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/ironic"
	"github.com/ipabr/ipabr/internal/process"
)

// Phase is a step of the agent check, named after what the agent does.
type Phase string

// The phases, in the order IPA goes through them (agent.py, run): the
// guest gets an address, posts its inventory to the inspection callback,
// looks its node up, heartbeats, and then answers Ironic's calls.
const (
	PhaseDHCP      Phase = "dhcp"
	PhaseInventory Phase = "inventory"
	PhaseLookup    Phase = "lookup"
	PhaseHeartbeat Phase = "heartbeat"
	PhaseAgent     Phase = "agent"
)

// Phases lists the phases in order.
var Phases = []Phase{PhaseDHCP, PhaseInventory, PhaseLookup, PhaseHeartbeat, PhaseAgent}

// ParsePhase checks a phase name.
func ParsePhase(s string) (Phase, error) {
	for _, p := range Phases {
		if string(p) == s {
			return p, nil
		}
	}
	names := make([]string, len(Phases))
	for i, p := range Phases {
		names[i] = string(p)
	}
	return "", fmt.Errorf("unknown phase %q; the phases are %s", s, strings.Join(names, ", "))
}

// awaited says what a phase waits for, for messages.
func (p Phase) awaited() string {
	switch p {
	case PhaseDHCP:
		return "a DHCP lease"
	case PhaseInventory:
		return "the inspection inventory (POST /v1/continue_inspection)"
	case PhaseLookup:
		return "the lookup (GET /v1/lookup)"
	case PhaseHeartbeat:
		return "a heartbeat (POST /v1/heartbeat)"
	}
	return "the agent's answers (GET /v1/status, clean.get_clean_steps)"
}

// PhaseTimeouts is how long each phase may take, counted from the end of
// the phase before it (the DHCP phase from QEMU's start).
type PhaseTimeouts map[Phase]time.Duration

// DefaultPhaseTimeouts are generous for a real agent on a server-sized
// guest: with KVM a few minutes each, three times that under TCG.
func DefaultPhaseTimeouts(accel string) PhaseTimeouts {
	t := PhaseTimeouts{PhaseDHCP: 2 * time.Minute, PhaseInventory: 5 * time.Minute, PhaseLookup: 5 * time.Minute,
		PhaseHeartbeat: 5 * time.Minute, PhaseAgent: 3 * time.Minute}
	if accel == TCG {
		for p := range t {
			t[p] *= 3
		}
	}
	return t
}

// GuestHostAddr is the host as QEMU's user networking shows it to the guest.
const GuestHostAddr = "10.0.2.2"

// GuestMAC is the NIC's address in the agent check.
const GuestMAC = "52:54:00:12:34:56"

// IronicArgs are the kernel arguments Ironic's PXE templates give the
// agent, for the stand-in API on the host's port.
func IronicArgs(port int) string {
	api := fmt.Sprintf("http://%s:%d", GuestHostAddr, port)
	return "ipa-api-url=" + api + " ipa-inspection-callback-url=" + api + "/v1/continue_inspection"
}

// AgentOptions tune CheckAgent beyond CheckOptions.
type AgentOptions struct {
	ImgBinary string        // qemu-img, for the scratch disks
	Phases    PhaseTimeouts // missing phases take DefaultPhaseTimeouts
	// APIStarted, when set, is called with the stand-in API's host URL.
	APIStarted func(url string)
}

// Report is what the agent check found; the JSON form is ipabr qemu
// --check --json's output (doc/qemu.md).
type Report struct {
	OK          bool   `json:"ok"`
	Error       string `json:"error,omitempty"`
	FailedPhase Phase  `json:"failed_phase,omitempty"`

	Accelerator string      `json:"accelerator"`
	Firmware    string      `json:"firmware"` // bios or uefi
	IronicURL   string      `json:"ironic_url"`
	NodeUUID    string      `json:"node_uuid"`
	Phases      []PhaseTime `json:"phases"`
	DHCPAddress string      `json:"dhcp_address,omitempty"`
	CallbackURL string      `json:"callback_url,omitempty"`
	AgentURL    string      `json:"agent_url,omitempty"` // the callback, forwarded to the host

	AgentVersion     string                   `json:"agent_version,omitempty"`
	CPU              *CPUSummary              `json:"cpu,omitempty"`
	MemoryMiB        int64                    `json:"memory_mib,omitempty"`
	BootMode         string                   `json:"boot_mode,omitempty"`
	Disks            []DiskSummary            `json:"disks,omitempty"`
	NICs             []NICSummary             `json:"nics,omitempty"`
	HardwareManagers []ironic.HardwareManager `json:"hardware_managers,omitempty"`
	CleanSteps       []ironic.CleanStep       `json:"clean_steps,omitempty"`
	Missing          []string                 `json:"missing,omitempty"`

	// Inventory is the inspection document as the agent sent it.
	Inventory []byte   `json:"-"`
	Serial    []string `json:"-"`
	PID       int      `json:"-"`
}

// PhaseTime is when a phase ended, in seconds after QEMU started.
type PhaseTime struct {
	Phase   Phase   `json:"phase"`
	Seconds float64 `json:"seconds"`
}

// At is when phase p ended, if it did.
func (r *Report) At(p Phase) (time.Duration, bool) {
	for _, t := range r.Phases {
		if t.Phase == p {
			return time.Duration(t.Seconds * float64(time.Second)), true
		}
	}
	return 0, false
}

// CPUSummary is the inventory's CPU.
type CPUSummary struct {
	Count        int64  `json:"count"`
	Model        string `json:"model"`
	Architecture string `json:"architecture"`
}

// DiskSummary is one disk of the inventory.
type DiskSummary struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	Model  string `json:"model"`
	Serial string `json:"serial,omitempty"`
}

// NICSummary is one network interface of the inventory.
type NICSummary struct {
	Name   string `json:"name"`
	MAC    string `json:"mac"`
	Driver string `json:"driver"`
	IPv4   string `json:"ipv4,omitempty"`
}

// summarise fills the report's hardware from the inspection document.
func (r *Report) summarise(in *ironic.Inspection) {
	inv := in.Inventory
	r.CPU = &CPUSummary{Count: int64(inv.CPU.Count), Model: inv.CPU.ModelName, Architecture: inv.CPU.Architecture}
	r.MemoryMiB = int64(inv.Memory.PhysicalMB)
	if r.MemoryMiB == 0 {
		r.MemoryMiB = int64(inv.Memory.Total) >> 20
	}
	r.BootMode = inv.Boot.CurrentBootMode
	r.Disks = nil
	for _, d := range inv.Disks {
		r.Disks = append(r.Disks, DiskSummary{Name: d.Name, Bytes: int64(d.Size), Model: strings.TrimSpace(d.Model), Serial: d.Serial})
	}
	r.NICs = nil
	for _, n := range inv.Interfaces {
		r.NICs = append(r.NICs, NICSummary{Name: n.Name, MAC: strings.ToLower(n.MACAddress), Driver: n.Driver, IPv4: n.IPv4Address})
	}
	if len(r.HardwareManagers) == 0 {
		r.HardwareManagers = in.Configuration.Managers
	}
}

// missing lists what QEMU gave the guest that the inventory lacks.
func missing(inv *ironic.Inventory, c Config) []string {
	var out []string
	mac := c.MAC
	if mac == "" {
		mac = GuestMAC
	}
	found := false
	for _, n := range inv.Interfaces {
		found = found || strings.EqualFold(n.MACAddress, mac)
	}
	if !found {
		out = append(out, "the NIC "+mac)
	}
	for _, want := range c.Disks {
		found := false
		for _, d := range inv.Disks {
			found = found || strings.HasPrefix(d.Name, want.DevicePrefix()) && int64(d.Size) == want.Size
		}
		if !found {
			out = append(out, want.Describe())
		}
	}
	mode := "bios"
	if c.Firmware != nil {
		mode = "uefi"
	}
	if got := strings.ToLower(inv.Boot.CurrentBootMode); got != mode {
		out = append(out, fmt.Sprintf("boot mode %s (it says %q)", mode, inv.Boot.CurrentBootMode))
	}
	return out
}

// CheckAgent proves the agent in c does what Ironic needs: it boots c
// headless with scratch disks, a stand-in Ironic API on 127.0.0.1 (the
// guest's 10.0.2.2) named on the kernel command line, and follows the
// agent through DHCP, inspection, lookup and heartbeat, then calls the
// agent's status and clean.get_clean_steps through the forwarded port.
// Each phase has its own timeout and o.Timeout bounds the whole. QEMU, the
// API and the temporary directory (disks, capture) are gone when CheckAgent
// returns, whatever the outcome. A failure is a *CheckError whose Report
// holds what was seen.
func CheckAgent(ctx context.Context, r process.Runner, c Config, o CheckOptions, a AgentOptions) (*Report, error) {
	c.Mode = ModeCheck
	if c.ISO != "" {
		return nil, errors.New("the agent check passes the Ironic API on the kernel command line, which an ISO sets itself; check an ISO with the plain probe")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	phases := DefaultPhaseTimeouts(c.Accel)
	for p, d := range a.Phases {
		phases[p] = d
	}
	if a.ImgBinary == "" {
		a.ImgBinary = ImgBinary
	}
	dir, err := os.MkdirTemp("", "ipabr-qemu-")
	if err != nil {
		return nil, fmt.Errorf("a temporary directory for the scratch disks: %w", err)
	}
	defer os.RemoveAll(dir)
	if c.Disks, err = MakeDisks(ctx, r, a.ImgBinary, dir); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted while making the scratch disks: %w", ctx.Err())
		}
		return nil, err
	}
	if c.MAC == "" {
		c.MAC = GuestMAC
	}
	c.NetDump = filepath.Join(dir, "net.pcap")

	node, err := ironic.NewNode(c.MAC)
	if err != nil {
		return nil, err
	}
	api := ironic.NewAPI(node, o.Now)
	srv, err := ironic.Listen(api)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	if a.APIStarted != nil {
		a.APIStarted(srv.URL())
	}
	c.Append = strings.TrimSpace(IronicArgs(srv.Port()) + " " + c.Append)

	ck := &agentCheck{c: c, o: o, phases: phases, api: api, node: node,
		dhcp: &DHCPWatch{Path: c.NetDump},
		rep:  &Report{Accelerator: c.Accel, Firmware: "bios", IronicURL: fmt.Sprintf("http://%s:%d", GuestHostAddr, srv.Port()), NodeUUID: node.UUID}}
	if c.Firmware != nil {
		ck.rep.Firmware = "uefi"
	}
	ck.m = boot(ctx, r, c, o)
	defer ck.m.shutdown()
	return ck.run(ctx)
}

// agentCheck is one run of CheckAgent.
type agentCheck struct {
	c      Config
	o      CheckOptions
	phases PhaseTimeouts
	api    *ironic.API
	node   ironic.Node
	dhcp   *DHCPWatch
	m      *machine
	rep    *Report

	cur        int       // index in Phases of the phase awaited
	curStart   time.Time // when the phase before it ended
	lease      time.Time
	inspection *ironic.InspectionRecord // the one summarised
}

func (ck *agentCheck) run(ctx context.Context) (*Report, error) {
	ck.curStart = ck.m.start
	overall := time.NewTimer(ck.o.Timeout)
	defer overall.Stop()
	interval := min(ck.o.Interval, 250*time.Millisecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ck.m.done:
			return nil, ck.failed(ck.m.exitedEarly(Phases[ck.cur].awaited()))
		case <-ctx.Done():
			return nil, ck.failed(ck.m.fail(ctx.Err(), "interrupted while waiting for %s: %v", Phases[ck.cur].awaited(), ctx.Err()))
		case <-overall.C:
			return nil, ck.failed(ck.m.fail(nil, "the check's timeout of %s passed while waiting for %s%s", ck.o.Timeout, Phases[ck.cur].awaited(), ck.hints()))
		case <-ck.api.Changed():
		case <-tick.C:
		}
		if err := ck.observe(); err != nil {
			return nil, ck.failed(err)
		}
		if Phases[ck.cur] == PhaseAgent {
			return ck.callAgent(ctx)
		}
		if budget := ck.phases[Phases[ck.cur]]; ck.o.Now().Sub(ck.curStart) >= budget {
			e := ck.phaseFail(Phases[ck.cur], "%s did not come within %s of %s%s", capitalise(Phases[ck.cur].awaited()), budget, ck.since(), ck.hints())
			e.PhaseTimeout = true
			return nil, ck.failed(e)
		}
	}
}

// observe takes in what happened and moves through the phases; an error
// ends the check.
func (ck *agentCheck) observe() *CheckError {
	now := ck.o.Now()
	if ck.lease.IsZero() {
		if l, err := ck.dhcp.Poll(); err != nil {
			return ck.m.fail(err, "reading QEMU's capture of the NIC: %v", err)
		} else if l != nil {
			ck.lease = now
			ck.rep.DHCPAddress = l.IP.String()
		}
	}
	obs := ck.api.Observed()
	if in := obs.Inspection; in != nil && in != ck.inspection {
		ck.inspection = in
		ck.rep.Inventory = in.Raw
		ck.rep.summarise(in.Parsed)
		if ck.rep.Missing = missing(in.Parsed.Inventory, ck.c); len(ck.rep.Missing) > 0 {
			return ck.phaseFail(PhaseInventory, "the inventory lacks %s that QEMU was given%s", joinAnd(ck.rep.Missing), ck.inventoryHint())
		}
	}
	if h := obs.Refused; h != nil {
		return ck.phaseFail(PhaseHeartbeat, "the agent's heartbeat was refused: %s", h.Reason)
	}
	if h := obs.Heartbeat; h != nil {
		ck.rep.CallbackURL = h.CallbackURL
		ck.rep.AgentVersion = h.AgentVersion
	}
	for Phases[ck.cur] != PhaseAgent {
		p := Phases[ck.cur]
		var at time.Time
		switch p {
		case PhaseDHCP:
			at = ck.lease
			if at.IsZero() && (obs.Inspection != nil || obs.Lookup != nil) {
				// The guest is on the network without a lease QEMU saw
				// (a static address): no DHCP time, carry on.
				ck.cur++
				continue
			}
		case PhaseInventory:
			if ck.inspection != nil {
				at = ck.inspection.At
			}
		case PhaseLookup:
			if obs.Lookup != nil {
				at = obs.Lookup.At
			}
		case PhaseHeartbeat:
			if obs.Heartbeat != nil {
				at = obs.Heartbeat.At
			}
		}
		if at.IsZero() {
			return nil
		}
		ck.rep.Phases = append(ck.rep.Phases, PhaseTime{Phase: p, Seconds: seconds(at.Sub(ck.m.start))})
		if at.After(ck.curStart) {
			ck.curStart = at
		}
		ck.cur++
	}
	return nil
}

// callAgent calls the agent the way Ironic does after its first heartbeat.
func (ck *agentCheck) callAgent(ctx context.Context) (*Report, error) {
	h := ck.api.Observed().Heartbeat
	if port := ironic.AdvertisedPort(h.CallbackURL); port != fmt.Sprint(AgentPort) {
		return nil, ck.failed(ck.phaseFail(PhaseAgent, "the agent advertises %s, but only port %d is forwarded", h.CallbackURL, AgentPort))
	}
	agent, err := ironic.NewAgent(h.CallbackURL, h.VerifyCA, fmt.Sprintf("127.0.0.1:%d", ck.c.HostPort), ck.node.Token)
	if err != nil {
		return nil, ck.failed(ck.phaseFail(PhaseAgent, "%v", err))
	}
	ck.rep.AgentURL = agent.URL + "/"
	budget := ck.phases[PhaseAgent]
	callCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	type answer struct {
		st  *ironic.AgentStatus
		cs  *ironic.CleanSteps
		err error
	}
	done := make(chan answer, 1)
	go func() {
		var a answer
		// The agent heartbeats once its API listens; a status call can still
		// race a slow start, so it is retried until the phase's end.
		for {
			if a.st, a.err = agent.Status(callCtx); a.err == nil || callCtx.Err() != nil {
				break
			}
			select {
			case <-callCtx.Done():
			case <-time.After(time.Second):
			}
		}
		if a.err == nil {
			a.cs, a.err = agent.GetCleanSteps(callCtx, ck.node)
		}
		done <- a
	}()
	overallLeft := ck.o.Timeout - ck.o.Now().Sub(ck.m.start)
	overall := time.NewTimer(max(overallLeft, 0))
	defer overall.Stop()
	select {
	case <-ck.m.done:
		return nil, ck.failed(ck.m.exitedEarly(PhaseAgent.awaited()))
	case <-ctx.Done():
		return nil, ck.failed(ck.m.fail(ctx.Err(), "interrupted while waiting for %s: %v", PhaseAgent.awaited(), ctx.Err()))
	case <-overall.C:
		return nil, ck.failed(ck.m.fail(nil, "the check's timeout of %s passed while waiting for %s", ck.o.Timeout, PhaseAgent.awaited()))
	case a := <-done:
		if a.err != nil {
			if errors.Is(a.err, context.DeadlineExceeded) || callCtx.Err() != nil {
				e := ck.phaseFail(PhaseAgent, "%s did not come within %s of the heartbeat: %v", capitalise(PhaseAgent.awaited()), budget, a.err)
				e.PhaseTimeout = true
				return nil, ck.failed(e)
			}
			return nil, ck.failed(ck.phaseFail(PhaseAgent, "the agent's API failed: %v", a.err))
		}
		if ck.rep.AgentVersion == "" {
			ck.rep.AgentVersion = a.st.Version
		}
		ck.rep.HardwareManagers = a.cs.Managers
		ck.rep.CleanSteps = a.cs.Steps
	}
	ck.rep.Phases = append(ck.rep.Phases, PhaseTime{Phase: PhaseAgent, Seconds: seconds(ck.o.Now().Sub(ck.m.start))})
	ck.rep.OK = true
	ck.rep.PID = ck.m.getPID()
	ck.m.shutdown()
	ck.rep.Serial = ck.m.serial.Lines()
	return ck.rep, nil
}

// phaseFail is a failure of phase p.
func (ck *agentCheck) phaseFail(p Phase, format string, a ...any) *CheckError {
	e := ck.m.fail(nil, format, a...)
	e.Phase = p
	return e
}

// failed stops QEMU and attaches the report to e.
func (ck *agentCheck) failed(e *CheckError) *CheckError {
	ck.m.shutdown()
	if e.Phase == "" && e.Err == nil {
		e.Phase = Phases[ck.cur]
	}
	e.Serial = ck.m.serial.Lines()
	ck.rep.Error = e.Reason
	ck.rep.FailedPhase = e.Phase
	ck.rep.PID = ck.m.getPID()
	ck.rep.Serial = e.Serial
	e.Report = ck.rep
	return e
}

// since names the end of the phase before the current one.
func (ck *agentCheck) since() string {
	if ck.cur == 0 || len(ck.rep.Phases) == 0 {
		return "QEMU's start"
	}
	last := ck.rep.Phases[len(ck.rep.Phases)-1]
	what := map[Phase]string{PhaseDHCP: "the DHCP lease", PhaseInventory: "the inventory", PhaseLookup: "the lookup", PhaseHeartbeat: "the heartbeat"}[last.Phase]
	return fmt.Sprintf("%s (at %.1fs)", what, last.Seconds)
}

// hints add what the stand-in saw that explains a wait.
func (ck *agentCheck) hints() string {
	obs := ck.api.Observed()
	var h []string
	if obs.LookupMisses > 0 {
		h = append(h, fmt.Sprintf("%d lookup(s) found no node: %s", obs.LookupMisses, obs.LastMiss))
	}
	if n := len(obs.Rejected); n > 0 {
		h = append(h, "the last request refused: "+obs.Rejected[n-1].String())
	}
	if len(h) == 0 {
		return ""
	}
	return "; " + strings.Join(h, "; ")
}

func (ck *agentCheck) inventoryHint() string {
	var have []string
	for _, d := range ck.rep.Disks {
		have = append(have, fmt.Sprintf("%s (%d bytes)", d.Name, d.Bytes))
	}
	if len(have) == 0 {
		return " (it lists no disks)"
	}
	sort.Strings(have)
	return " (its disks: " + strings.Join(have, ", ") + ")"
}

func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(100*time.Millisecond)) / float64(time.Second)
}
