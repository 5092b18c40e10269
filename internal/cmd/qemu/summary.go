package qemucmd

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/ipabr/ipabr/internal/qemu"
	"github.com/ipabr/ipabr/internal/term"
)

// phaseLabel names a phase in the summary.
func phaseLabel(p qemu.Phase) string {
	switch p {
	case qemu.PhaseDHCP:
		return "DHCP"
	case qemu.PhaseInventory:
		return "inventory"
	case qemu.PhaseLookup:
		return "lookup"
	case qemu.PhaseHeartbeat:
		return "heartbeat"
	case qemu.PhaseAgent:
		return "agent API"
	}
	return string(p)
}

// printSummary prints a proven agent: when each phase ended and what the
// agent reported.
func printSummary(io *term.IOStreams, r *qemu.Report) {
	st := io.StylesFor(io.Out)
	total, _ := r.At(qemu.PhaseAgent)
	fmt.Fprintf(io.Out, "%s Agent proven in %.1fs under %s (%s): inventory, lookup, heartbeat, status and clean steps\n",
		st.Success("✓"), total.Seconds(), strings.ToUpper(r.Accelerator), strings.ToUpper(r.Firmware))
	w := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
	for _, p := range qemu.Phases {
		at, ok := r.At(p)
		detail := map[qemu.Phase]string{
			qemu.PhaseDHCP:      r.DHCPAddress,
			qemu.PhaseHeartbeat: r.CallbackURL,
			qemu.PhaseAgent:     r.AgentURL,
		}[p]
		switch {
		case !ok:
			fmt.Fprintf(w, "  %s\t-\tnot seen on the wire\n", phaseLabel(p))
		case detail == "":
			fmt.Fprintf(w, "  %s\t%.1fs\n", phaseLabel(p), at.Seconds())
		default:
			fmt.Fprintf(w, "  %s\t%.1fs\t%s\n", phaseLabel(p), at.Seconds(), detail)
		}
	}
	w.Flush()
	row := func(label, value string) { fmt.Fprintf(io.Out, "  %-19s%s\n", label, value) }
	row("agent version", orDash(r.AgentVersion))
	if c := r.CPU; c != nil {
		row("CPUs", fmt.Sprintf("%d × %s (%s)", c.Count, orDash(c.Model), orDash(c.Architecture)))
	}
	row("memory", fmt.Sprintf("%d MiB", r.MemoryMiB))
	row("boot mode", orDash(r.BootMode))
	// Disks and NICs get a line each, their fields in columns.
	var disks, nics [][]string
	for _, d := range r.Disks {
		disks = append(disks, []string{d.Name, size(d.Bytes), orDash(d.Model)})
	}
	for _, n := range r.NICs {
		nics = append(nics, []string{n.Name, n.MAC, orDash(n.Driver)})
	}
	for _, t := range []struct {
		label string
		rows  [][]string
	}{{"disks", disks}, {"NICs", nics}} {
		label := t.label
		for _, line := range columns(t.rows) {
			row(label, line)
			label = ""
		}
		if len(t.rows) == 0 {
			row(label, "none")
		}
	}
	var managers []string
	for _, m := range r.HardwareManagers {
		managers = append(managers, m.Name+" "+m.Version)
	}
	row("hardware managers", orDash(strings.Join(managers, ", ")))
	var steps []string
	for _, s := range r.CleanSteps {
		steps = append(steps, fmt.Sprintf("%s (%d)", s.Step, s.Priority))
	}
	row("clean steps", fmt.Sprintf("%d: %s", len(steps), strings.Join(steps, ", ")))
}

// columns lays rows of fields out in left-aligned columns two spaces apart.
func columns(rows [][]string) []string {
	var widths []int
	for _, r := range rows {
		for i, f := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(f))
		}
	}
	var out []string
	for _, r := range rows {
		var b strings.Builder
		for i, f := range r {
			b.WriteString(f)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(f)+2))
			}
		}
		out = append(out, b.String())
	}
	return out
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// size prints bytes in binary units: 2 GiB, 931.5 GiB, 512 MiB.
func size(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, u := float64(b), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + units[u]
}
