package build

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
)

// MinFreeBytes (20 GiB) is the free space below which a build is warned: a full IPA
// image build (toolchain, kernel, Python, the agent) takes about 15 GiB of
// output plus its downloads.
const MinFreeBytes = 20 << 30

// fsInfo is the free space and the device of the filesystem holding path
// (its nearest existing parent); tests replace it.
var fsInfo = func(path string) (free uint64, dev uint64, err error) {
	for {
		var st syscall.Statfs_t
		err = syscall.Statfs(path, &st)
		if err == nil {
			var fi syscall.Stat_t
			if err := syscall.Stat(path, &fi); err != nil {
				return 0, 0, err
			}
			return st.Bavail * uint64(st.Bsize), uint64(fi.Dev), nil
		}
		if !errors.Is(err, syscall.ENOENT) || filepath.Dir(path) == path {
			return 0, 0, err
		}
		path = filepath.Dir(path)
	}
}

// spaceWarnings checks the filesystems of the output and download
// directories (once when they are the same) and returns a warning for each
// with less than MinFreeBytes free.
func spaceWarnings(s *cmdutil.Settings, out *cmdutil.Output) []string {
	type fsys struct {
		free  uint64
		names []string
	}
	var order []uint64
	byDev := map[uint64]*fsys{}
	for _, d := range []struct{ name, path string }{{s.Project.Rel(out.Dir), out.Dir}, {s.Project.Rel(s.Project.DL), s.Project.DL}} {
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
func diskFullReason(s *cmdutil.Settings, out *cmdutil.Output, tail string, at string) (string, bool) {
	if !strings.Contains(tail, "No space left on device") && !strings.Contains(tail, "Disk quota exceeded") {
		return "", false
	}
	msg := fmt.Sprintf("the disk filled up during %s (No space left on device)", at)
	if free, _, err := fsInfo(out.Dir); err == nil {
		msg += fmt.Sprintf("; %s is free now on the filesystem of %s", term.HumanBytes(int64(free)), s.Project.Rel(out.Dir))
	}
	return msg + ": free at least 20 GiB (or build elsewhere with -O DIR) and rerun to continue where Buildroot's stamps allow", true
}

// checkOffline refuses an --offline build when the download directory lacks
// a file the configuration needs: Buildroot's show-info lists every
// package's downloads (sources, patches, extra downloads such as the IPA
// wheels) and the dl/ subdirectory each goes to.
func checkOffline(ctx context.Context, f *cmdutil.Factory, s *cmdutil.Settings, out *cmdutil.Output) error {
	text, err := process.Output(ctx, f.Runner, out.Make.QuietCmd("show-info"))
	if err != nil {
		return cmdutil.MakeFailure(err)
	}
	downloads, err := buildroot.ParseDownloads([]byte(text))
	if err != nil {
		return cmdutil.Failure("--offline: %v", err)
	}
	missing := buildroot.MissingDownloads(s.Project.DL, downloads)
	dl := s.Project.Rel(s.Project.DL)
	if len(missing) == 0 {
		if s.Verbose {
			fmt.Fprintf(f.IOStreams.ErrOut, "offline: all %d files this configuration downloads are in %s\n", len(downloads), dl)
		}
		return nil
	}
	w := f.IOStreams.ErrOut
	fmt.Fprintf(w, "missing from %s:\n", dl)
	const show = 50
	for i, m := range missing {
		if i == show && !s.Verbose {
			fmt.Fprintf(w, "  … and %d more (-v lists them all)\n", len(missing)-show)
			break
		}
		fmt.Fprintf(w, "  %-60s (%s)\n", filepath.Join(dl, m.DLDir, m.Source), m.Package)
	}
	return cmdutil.Failure("--offline: %d of the %d files this configuration downloads are missing from %s; run 'ipabr source' where the network or a mirror (download.primary_site) is reachable, or copy %s from a machine that has them",
		len(missing), len(downloads), dl, dl)
}
