package workspace

import (
	"fmt"
	"strings"

	"github.com/ipabr/ipabr/internal/term"
)

// MinFreeBytes (20 GiB) is the free space below which a build is warned: a
// full IPA image build (toolchain, kernel, Python, the agent) takes about
// 15 GiB of output plus its downloads.
const MinFreeBytes = 20 << 30

// fsInfo is the free space and the device of the filesystem holding path
// (its nearest existing parent); tests replace it.
var fsInfo = statFS

// spaceWarnings checks the filesystems of the output and download
// directories (once when they are the same) and returns a warning for each
// with less than MinFreeBytes free.
func spaceWarnings(w *Workspace) []string {
	type fsys struct {
		free  uint64
		names []string
	}
	p := w.Settings.Project
	var order []uint64
	byDev := map[uint64]*fsys{}
	for _, d := range []struct{ name, path string }{{p.Rel(w.Dir), w.Dir}, {p.Rel(p.DL), p.DL}} {
		free, dev, err := fsInfo(d.path)
		if err != nil {
			continue
		}
		if fs, ok := byDev[dev]; ok {
			fs.names = append(fs.names, d.name)
			continue
		}
		byDev[dev] = &fsys{free: free, names: []string{d.name}}
		order = append(order, dev)
	}
	var warnings []string
	for _, dev := range order {
		fs := byDev[dev]
		if fs.free >= MinFreeBytes {
			continue
		}
		warnings = append(warnings, fmt.Sprintf("only %s free on the filesystem of %s; a full IPA build needs about 20 GiB, and one that runs out of space fails in whatever package is building then",
			term.HumanBytes(int64(fs.free)), strings.Join(fs.names, " and ")))
	}
	return warnings
}

// diskFullReason explains a failed build whose log tail says the disk
// filled up, with the space free now.
func diskFullReason(w *Workspace, tail string, at string) (string, bool) {
	if !strings.Contains(tail, "No space left on device") && !strings.Contains(tail, "Disk quota exceeded") {
		return "", false
	}
	msg := fmt.Sprintf("the disk filled up during %s (No space left on device)", at)
	if free, _, err := fsInfo(w.Dir); err == nil {
		msg += fmt.Sprintf("; %s is free now on the filesystem of %s", term.HumanBytes(int64(free)), w.Rel(w.Dir))
	}
	return msg + ": free at least 20 GiB (or build elsewhere with -O DIR) and rerun to continue where Buildroot's stamps allow", true
}
