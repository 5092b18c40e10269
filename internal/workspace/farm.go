package workspace

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/ccache"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
)

// FarmEdits are the .config edits the build-farm keys ask for (doc/farm.md):
// the download mirror (BR2_PRIMARY_SITE, BR2_PRIMARY_SITE_ONLY) when
// download.primary_site is set, and BR2_CCACHE when a shared compiler cache
// is configured but the configuration has ccache off. None when cfg already
// agrees.
func FarmEdits(fs config.Farm, cfg *buildroot.Config) []buildroot.Edit {
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
// line of $BR2_CCACHE_DIR/ccache.conf. Loading a defconfig, building and
// fetching sources apply it; it changes nothing when everything agrees.
func (w *Workspace) ApplyFarm(ctx context.Context) error {
	cfg, ok, err := w.Config()
	if err != nil || !ok {
		return err
	}
	s := w.Settings
	if edits := FarmEdits(s.Farm, cfg); len(edits) > 0 {
		changes, err := w.EditConfig(ctx, edits...)
		if err != nil {
			return errs.WithDetail(errs.Failedf("applying download.primary_site / ccache.remote_storage to %s failed", w.Rel(w.ConfigFile())), err.Error())
		}
		after, _, err := w.Config()
		if err != nil {
			return err
		}
		if left := FarmEdits(s.Farm, after); len(left) > 0 {
			var syms []string
			for _, e := range left {
				syms = append(syms, e.Symbol)
			}
			return errs.Failedf("kconfig did not keep %s in %s: their dependencies are not met in this configuration", strings.Join(syms, ", "), w.Rel(w.ConfigFile()))
		}
		w.Notes.Note("%s", strings.TrimSuffix(buildroot.FormatChanges(w.Rel(w.ConfigFile())+" (build-farm settings)", changes), "\n"))
	}
	if rs := s.Farm.CCacheRemoteStorage; rs != "" {
		conf := filepath.Join(s.Project.CCache, ccache.ConfFile)
		changed, err := ccache.SetRemoteStorage(s.Project.CCache, rs)
		if err != nil {
			return errs.Failedf("writing the ccache remote storage into %s: %v", w.Rel(conf), err)
		}
		if changed {
			w.Notes.Note("ccache: remote storage %s written to %s", rs, w.Rel(conf))
		}
	}
	return nil
}

// DropFarmLines removes from a saved defconfig the mirror lines ipabr's
// download.primary_site put into the configuration: a site's mirror is a
// property of the build machine, not of the image definition.
func DropFarmLines(defconfig []byte, fs config.Farm) []byte {
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
