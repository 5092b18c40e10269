package workspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/project"
)

// The Buildroot symbols of the project's customisation.
const (
	SymUsersTables = "BR2_ROOTFS_USERS_TABLES"
	SymRootLogin   = "BR2_TARGET_ENABLE_ROOT_LOGIN"
	SymSHA512      = "BR2_TARGET_GENERIC_PASSWD_SHA512"
	SymSHA256      = "BR2_TARGET_GENERIC_PASSWD_SHA256"
	SymRootPass    = "BR2_TARGET_GENERIC_ROOT_PASSWD"
	SymMkpasswd    = "BR2_PACKAGE_HOST_MKPASSWD"
)

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

// RootPasswordFile is the project's root password hash (git-ignored, 0600).
func RootPasswordFile(p *project.Project) string {
	return filepath.Join(p.Root, image.RootPasswordFileName)
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

// rootPasswordEdits set hash (single dollars) as the root password: root
// login on, SHA-512, the hash with its dollars doubled as make needs.
func rootPasswordEdits(hash string) []buildroot.Edit {
	return []buildroot.Edit{
		buildroot.Enable(SymRootLogin),
		buildroot.Disable(SymSHA256), buildroot.Enable(SymSHA512),
		buildroot.Set(SymRootPass, image.DoubleDollars(hash)),
	}
}

// hasRootPassword reports whether cfg sets hash as the root password.
func hasRootPassword(cfg *buildroot.Config, hash string) bool {
	return cfg.Enabled(SymRootLogin) && cfg.Enabled(SymSHA512) && cfg.Values[SymRootPass] == image.DoubleDollars(hash)
}

// errRootPasswordDropped is why Buildroot drops a root password.
func (w *Workspace) errRootPasswordDropped() error {
	return errs.Failedf("Buildroot did not keep the root password in %s: %s needs Buildroot's default skeleton (BR2_ROOTFS_SKELETON_DEFAULT)", w.Rel(w.ConfigFile()), SymRootLogin)
}

// SetRootPassword puts hash into the output's .config and checks that
// Buildroot kept it. A failure never shows the hash.
func (w *Workspace) SetRootPassword(ctx context.Context, hash string) ([]buildroot.ConfigChange, error) {
	changes, err := w.EditConfig(ctx, rootPasswordEdits(hash)...)
	if err != nil {
		return nil, redact(MakeFailure(err), hash)
	}
	after, err := w.RequireConfig()
	if err != nil {
		return nil, err
	}
	if !hasRootPassword(after, hash) {
		return nil, w.errRootPasswordDropped()
	}
	return changes, nil
}

// DisableRootPassword turns root login with a password off and removes
// the hash. The password selected host-mkpasswd; nothing else in Buildroot
// does, and olddefconfig turns it back on if something selects it, so the
// configuration returns to the defconfig's.
func (w *Workspace) DisableRootPassword(ctx context.Context) ([]buildroot.ConfigChange, error) {
	changes, err := w.EditConfig(ctx, buildroot.Set(SymRootPass, ""), buildroot.Disable(SymRootLogin), buildroot.Disable(SymMkpasswd))
	if err != nil {
		return nil, MakeFailure(err)
	}
	after, err := w.RequireConfig()
	if err != nil {
		return nil, err
	}
	if after.Enabled(SymRootLogin) {
		return nil, errs.Failedf("Buildroot kept %s enabled in %s", SymRootLogin, w.Rel(w.ConfigFile()))
	}
	return changes, nil
}

// ApplyCustomisation brings the project's customisation into the output's
// .config, which a defconfig load has just replaced or an earlier
// configure left behind: the root password hash of RootPasswordFile and
// the users table (BR2_ROOTFS_USERS_TABLES) when there is one. What is
// already there is not edited again. It says in one note what applies,
// and warns about an SSH key in an overlay home without its user.
func (w *Workspace) ApplyCustomisation(ctx context.Context) error {
	p := w.Settings.Project
	hash, err := image.LoadRootHash(RootPasswordFile(p))
	if err != nil {
		return err
	}
	table, hasTable, err := loadUsersTable(p)
	if err != nil {
		return err
	}
	cfg, err := w.RequireConfig()
	if err != nil {
		return err
	}
	var edits []buildroot.Edit
	if hash != "" && !hasRootPassword(cfg, hash) {
		edits = append(edits, rootPasswordEdits(hash)...)
	}
	current := cfg.Values[SymUsersTables]
	if hasTable && !UsesUsersTable(p, w.Dir, current) {
		edits = append(edits, buildroot.Set(SymUsersTables, strings.TrimSpace(current+" "+usersTableRef(p))))
	}
	if len(edits) > 0 {
		if _, err := w.EditConfig(ctx, edits...); err != nil {
			return redact(MakeFailure(err), hash)
		}
		if cfg, err = w.RequireConfig(); err != nil {
			return err
		}
	}
	var applied []string
	if hash != "" {
		if hasRootPassword(cfg, hash) {
			applied = append(applied, "root password hash from "+w.Rel(RootPasswordFile(p)))
		} else {
			w.Notes.Warn("%v; this image gets no root password", w.errRootPasswordDropped())
		}
	}
	if hasTable {
		if !UsesUsersTable(p, w.Dir, cfg.Values[SymUsersTables]) {
			return errs.Failedf("Buildroot did not keep %s in %s", SymUsersTables, w.Rel(w.ConfigFile()))
		}
		n := len(table.Users())
		applied = append(applied, fmt.Sprintf("users table %s (%d %s)", w.Rel(UsersTable(p)), n, map[bool]string{true: "user", false: "users"}[n == 1]))
	}
	for _, name := range homesWithoutUser(p, table) {
		w.Notes.Warn("%s goes into the image, but %s has no user %s to own it: add the account with 'ipabr user add %s', or remove the directory",
			w.Rel(filepath.Join(p.Overlay(), "home", name, ".ssh")), w.Rel(UsersTable(p)), name, name)
	}
	if len(applied) > 0 {
		w.Notes.Note("%s: applied the project's customisation: %s", w.Rel(w.ConfigFile()), strings.Join(applied, ", "))
	}
	return nil
}

// loadUsersTable reads the project's users table; ok is false when there
// is none.
func loadUsersTable(p *project.Project) (table *image.UsersTable, ok bool, err error) {
	path := UsersTable(p)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &image.UsersTable{}, false, nil
	}
	table, err = image.LoadUsersTable(path)
	if err != nil {
		return nil, false, err
	}
	return table, true, nil
}

// homesWithoutUser are the names NAME of overlay/home/NAME/.ssh that have
// no user NAME in table: Buildroot would copy the keys into the image
// with no account to use them.
func homesWithoutUser(p *project.Project, table *image.UsersTable) []string {
	entries, err := os.ReadDir(filepath.Join(p.Overlay(), "home"))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(p.Overlay(), "home", e.Name(), ".ssh")); err != nil {
			continue
		}
		if !slices.ContainsFunc(table.Users(), func(u image.User) bool { return u.Name == e.Name() || u.Home == "/home/"+e.Name() }) {
			names = append(names, e.Name())
		}
	}
	return names
}

// maskedError is an error whose message had a secret replaced.
type maskedError struct {
	msg   string
	cause error // context.Canceled when interrupted, so the exit code stays 130
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.cause }

// redact replaces hash (in both spellings) in err's message and verbose
// detail: a failed utils/config reports its command line.
func redact(err error, hash string) error {
	if err == nil || hash == "" {
		return err
	}
	doubled := image.DoubleDollars(hash)
	r := strings.NewReplacer(doubled, buildroot.MaskConfigValue(SymRootPass, doubled), hash, buildroot.MaskConfigValue(SymRootPass, hash))
	var cause error
	if errors.Is(err, context.Canceled) {
		cause = context.Canceled
	}
	return &errs.Error{Kind: errs.KindOf(err), Err: &maskedError{msg: r.Replace(err.Error()), cause: cause}, Detail: r.Replace(errs.DetailOf(err))}
}
