package workspace

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/project"
)

// SymUsersTables is the Buildroot option naming the users tables.
const SymUsersTables = "BR2_ROOTFS_USERS_TABLES"

// OverlayWarning says when the configured output does not copy overlay/
// (a configuration loaded from another defconfig); "" when it does or
// there is no configuration.
func OverlayWarning(s *config.Settings) string {
	p := s.Project
	cfg, err := buildroot.ReadConfigFile(filepath.Join(p.Output, ".config"))
	if err != nil {
		return ""
	}
	for _, dir := range strings.Fields(cfg.Values["BR2_ROOTFS_OVERLAY"]) {
		if ConfigPath(p, p.Output, dir) == p.Overlay() {
			return ""
		}
	}
	return fmt.Sprintf("%s does not copy %s/ (BR2_ROOTFS_OVERLAY does not name it); add it with 'ipabr menuconfig' (System configuration → Root filesystem overlay directories)",
		p.Rel(filepath.Join(p.Output, ".config")), p.Rel(p.Overlay()))
}

// UsersTable is the project's users table.
func UsersTable(p *project.Project) string {
	return filepath.Join(p.Scripts(), image.UsersTableName)
}

// usersTableRef is how .config names the table: relative to the external
// tree when the table sits beside it, as the defconfig names overlay/, so
// the value means the same in every checkout.
func usersTableRef(p *project.Project) string {
	if filepath.Join(filepath.Dir(p.External), "scripts") == p.Scripts() {
		return "$(BR2_EXTERNAL_IPA_PATH)/../scripts/" + image.UsersTableName
	}
	return UsersTable(p)
}

// UsesUsersTable reports whether a BR2_ROOTFS_USERS_TABLES value names
// the project's table.
func UsesUsersTable(p *project.Project, outputDir, value string) bool {
	for _, t := range strings.Fields(value) {
		if ConfigPath(p, outputDir, t) == UsersTable(p) {
			return true
		}
	}
	return false
}

// WireUsersTable adds the project's users table to BR2_ROOTFS_USERS_TABLES
// unless it is named there already (then changes is nil and already true).
func (w *Workspace) WireUsersTable(ctx context.Context) (changes []buildroot.ConfigChange, already bool, err error) {
	p := w.Settings.Project
	cfg, err := w.RequireConfig()
	if err != nil {
		return nil, false, err
	}
	current := cfg.Values[SymUsersTables]
	if UsesUsersTable(p, w.Dir, current) {
		return nil, true, nil
	}
	value := strings.TrimSpace(current + " " + usersTableRef(p))
	changes, err = w.EditConfig(ctx, buildroot.Set(SymUsersTables, value))
	if err != nil {
		return nil, false, MakeFailure(err)
	}
	if after, _, err := w.Config(); err != nil || after == nil || !UsesUsersTable(p, w.Dir, after.Values[SymUsersTables]) {
		return nil, false, errs.Failedf("Buildroot did not keep %s in %s", SymUsersTables, w.Rel(w.ConfigFile()))
	}
	return changes, false, nil
}
