package configure

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/ccache"
	"github.com/ipabr/ipabr/internal/cmdutil"
)

// FarmEdits are the .config edits the build-farm keys ask for (doc/farm.md):
// the download mirror (BR2_PRIMARY_SITE, BR2_PRIMARY_SITE_ONLY) when
// download.primary_site is set, and BR2_CCACHE when a shared compiler cache
// is configured but the configuration has ccache off. None when cfg already
// agrees.
func FarmEdits(fs cmdutil.FarmSettings, cfg *buildroot.Config) []buildroot.Edit {
	var edits []buildroot.Edit
	if fs.PrimarySite != "" {
		if cfg.Values["BR2_PRIMARY_SITE"] != fs.PrimarySite {
			edits = append(edits, buildroot.Set("BR2_PRIMARY_SITE", fs.PrimarySite))
		}
		if fs.PrimarySiteOnly != cfg.Enabled("BR2_PRIMARY_SITE_ONLY") {
			if fs.PrimarySiteOnly {
				edits = append(edits, buildroot.Enable("BR2_PRIMARY_SITE_ONLY"))
			} else {
				edits = append(edits, buildroot.Disable("BR2_PRIMARY_SITE_ONLY"))
			}
		}
	}
	if fs.CCacheRemoteStorage != "" && !cfg.Enabled("BR2_CCACHE") {
		edits = append(edits, buildroot.Enable("BR2_CCACHE"))
	}
	return edits
}

// ApplyFarm brings a configured output in line with the build-farm keys:
// FarmEdits through Buildroot's kconfig tooling, then the remote storage
// line of $BR2_CCACHE_DIR/ccache.conf. configure, build, rebuild and source
// call it; it changes nothing when everything already agrees.
func ApplyFarm(ctx context.Context, f *cmdutil.Factory, s *cmdutil.Settings, out *cmdutil.Output) error {
	cfg, ok, err := out.Config()
	if err != nil {
		return cmdutil.Failure("reading %s/.config: %v", s.Project.Rel(out.Dir), err)
	}
	if !ok {
		return nil
	}
	if edits := FarmEdits(s.Farm, cfg); len(edits) > 0 {
		changes, err := out.EditConfig(ctx, f.Runner, edits...)
		if err != nil {
			return cmdutil.WithDetail(cmdutil.Failure("applying download.primary_site / ccache.remote_storage to %s/.config failed", s.Project.Rel(out.Dir)), err.Error())
		}
		after, _, err := out.Config()
		if err != nil {
			return cmdutil.Failure("reading %s/.config: %v", s.Project.Rel(out.Dir), err)
		}
		if left := FarmEdits(s.Farm, after); len(left) > 0 {
			var syms []string
			for _, e := range left {
				syms = append(syms, e.Symbol)
			}
			return cmdutil.Failure("kconfig did not keep %s in %s/.config: their dependencies are not met in this configuration", strings.Join(syms, ", "), s.Project.Rel(out.Dir))
		}
		if !s.Quiet {
			cmdutil.PrintConfigChanges(f.IOStreams.ErrOut, s.Project.Rel(filepath.Join(out.Dir, ".config"))+" (build-farm settings)", changes)
		}
	}
	if rs := s.Farm.CCacheRemoteStorage; rs != "" {
		changed, err := ccache.SetRemoteStorage(s.Project.CCache, rs)
		if err != nil {
			return cmdutil.Failure("writing the ccache remote storage into %s: %v", s.Project.Rel(filepath.Join(s.Project.CCache, ccache.ConfFile)), err)
		}
		if changed && !s.Quiet {
			fmt.Fprintf(f.IOStreams.ErrOut, "ccache: remote storage %s written to %s\n", rs, s.Project.Rel(filepath.Join(s.Project.CCache, ccache.ConfFile)))
		}
	}
	return nil
}

// DropFarmLines removes from a saved defconfig the mirror lines ipabr's
// download.primary_site put into the configuration: a site's mirror is a
// property of the build machine, not of the image definition.
func DropFarmLines(defconfig []byte, fs cmdutil.FarmSettings) []byte {
	if fs.PrimarySite == "" {
		return defconfig
	}
	cfg, err := buildroot.ParseConfig(bytes.NewReader(defconfig))
	if err != nil || cfg.Values["BR2_PRIMARY_SITE"] != fs.PrimarySite {
		return defconfig
	}
	var out []string
	for _, line := range strings.SplitAfter(string(defconfig), "\n") {
		c, _ := buildroot.ParseConfig(strings.NewReader(line))
		if c != nil && len(c.Order) == 1 && (c.Order[0] == "BR2_PRIMARY_SITE" || c.Order[0] == "BR2_PRIMARY_SITE_ONLY") {
			continue
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, ""))
}
