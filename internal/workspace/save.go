package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/project"
)

// Update is one tracked file of the external tree and its new content.
type Update struct {
	What, Path string
	Content    []byte
	// LeftOut says what of the configuration was kept out of Content.
	LeftOut []string
	after   func() // runs once the file is written
}

// SaveParts choose what Save collects; none chosen means every part that
// applies to the configuration.
type SaveParts struct {
	Buildroot, Linux, Busybox bool
	// IncludeSecrets lets a root password hash into the tracked defconfig;
	// without it the hash is left out and root login stays off there.
	IncludeSecrets bool
}

// Save collects the output's configuration as updates of the files of the
// external tree it was loaded from: the Buildroot defconfig
// (savedefconfig, without the build-farm mirror lines), the kernel's
// (menu changes as fragment lines, or linux-savedefconfig for a custom
// config) and BusyBox's. Nothing is written.
func (w *Workspace) Save(ctx context.Context, parts SaveParts) ([]Update, error) {
	cfg, err := w.RequireConfig()
	if err != nil {
		return nil, err
	}
	all := !parts.Buildroot && !parts.Linux && !parts.Busybox
	var updates []Update
	for _, part := range []struct {
		on, applies bool
		name        string
		collect     func(context.Context, *buildroot.Config, SaveParts) (*Update, error)
	}{
		{parts.Buildroot, true, "buildroot", w.saveBuildroot},
		{parts.Linux, cfg.Enabled("BR2_LINUX_KERNEL"), "linux", w.saveLinux},
		{parts.Busybox, cfg.Enabled("BR2_PACKAGE_BUSYBOX"), "busybox", w.saveBusybox},
	} {
		if !part.on && !all {
			continue
		}
		if !part.applies {
			if part.on {
				return nil, errs.At(errs.Flag("--"+part.name), errs.BadInputf("this configuration does not build %s", part.name))
			}
			continue
		}
		u, err := part.collect(ctx, cfg, parts)
		if err != nil {
			return nil, err
		}
		if u != nil {
			updates = append(updates, *u)
		}
	}
	return updates, nil
}

// Write writes an update in place (temp file and rename).
func (w *Workspace) Write(u Update) error {
	if err := project.WriteFileAtomic(u.Path, u.Content, 0o644); err != nil {
		return errs.Failedf("writing %s: %v", u.Path, err)
	}
	if u.after != nil {
		u.after()
	}
	return nil
}

// inExternal resolves a path from .config and requires it inside the
// external tree: save writes nowhere else.
func (w *Workspace) inExternal(what, symbol, raw string) (string, error) {
	p := w.Settings.Project
	path := ConfigPath(p, w.Dir, raw)
	rel, err := filepath.Rel(p.External, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", errs.At(errs.Symbol(w.Rel(w.ConfigFile()), symbol),
			errs.BadInputf("the %s comes from %s, outside %s; ipabr save writes only into the external tree", what, path, p.Rel(p.External)))
	}
	return path, nil
}

func (w *Workspace) saveBuildroot(ctx context.Context, cfg *buildroot.Config, parts SaveParts) (*Update, error) {
	target, err := w.inExternal("configuration", "BR2_DEFCONFIG", cfg.Values["BR2_DEFCONFIG"])
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(w.Dir, ".ipabr-savedefconfig")
	defer os.Remove(tmp)
	if _, err := w.Output(ctx, "savedefconfig", "BR2_DEFCONFIG="+tmp); err != nil {
		return nil, err
	}
	content, err := os.ReadFile(tmp)
	if err != nil {
		return nil, errs.Failedf("savedefconfig wrote nothing: %v", err)
	}
	content = DropFarmLines(content, w.Settings.Farm) // a site's mirror stays out of the image definition
	content, leftOut := w.leaveOutCustomisation(content, parts.IncludeSecrets)
	return &Update{What: "Buildroot defconfig", Path: target, Content: content, LeftOut: leftOut}, nil
}

// leaveOutCustomisation drops from a saved defconfig what every configure
// applies from the project (ApplyCustomisation), which the tracked file
// must not hold: the root password hash (unless includeSecrets), with the
// root login it needs turned off again and the host-mkpasswd it selected,
// and the project's users table, which most checkouts do not have.
func (w *Workspace) leaveOutCustomisation(content []byte, includeSecrets bool) ([]byte, []string) {
	p := w.Settings.Project
	lines := strings.SplitAfter(string(content), "\n")
	hasPassword := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, SymRootPass+"=") })
	var leftOut []string
	if hasPassword && !includeSecrets {
		leftOut = append(leftOut, fmt.Sprintf("the root password hash (%s; root login stays off in the defconfig): it stays in %s, which every configure applies; --include-secrets copies it", SymRootPass, w.Rel(RootPasswordFile(p))))
	}
	var out strings.Builder
	loginOff := "# " + SymRootLogin + " is not set\n"
	wroteLoginOff := false
	for _, l := range lines {
		sym, value, _ := strings.Cut(strings.TrimSuffix(l, "\n"), "=")
		switch {
		case !hasPassword || includeSecrets:
		case sym == SymRootPass || sym == SymRootLogin || l == loginOff:
			// Root login without the hash would mean root without a
			// password: off, where the symbols were.
			if !wroteLoginOff {
				out.WriteString(loginOff)
				wroteLoginOff = true
			}
			continue
		case sym == SymMkpasswd:
			continue
		}
		if sym == SymUsersTables && UsesUsersTable(p, w.Dir, strings.Trim(value, `"`)) {
			var keep []string
			for _, t := range strings.Fields(strings.Trim(value, `"`)) {
				if ConfigPath(p, w.Dir, t) != UsersTable(p) {
					keep = append(keep, t)
				}
			}
			leftOut = append(leftOut, fmt.Sprintf("the users table %s (%s): every configure applies it", w.Rel(UsersTable(p)), SymUsersTables))
			if len(keep) == 0 {
				continue
			}
			l = fmt.Sprintf("%s=%q\n", SymUsersTables, strings.Join(keep, " "))
		}
		out.WriteString(l)
	}
	return []byte(out.String()), leftOut
}

func (w *Workspace) saveLinux(ctx context.Context, cfg *buildroot.Config, _ SaveParts) (*Update, error) {
	current := firstMatch(w.Dir, LinuxConfig)
	if current == "" {
		w.Notes.Note("linux: not configured in %s yet; nothing to save", w.Rel(w.Dir))
		return nil, nil
	}
	if cfg.Enabled("BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG") {
		target, err := w.inExternal("kernel configuration", "BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE", cfg.Values["BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE"])
		if err != nil {
			return nil, err
		}
		if _, err := w.Output(ctx, "linux-savedefconfig"); err != nil {
			return nil, err
		}
		content, err := os.ReadFile(filepath.Join(filepath.Dir(current), "defconfig"))
		if err != nil {
			return nil, errs.Failedf("linux-savedefconfig wrote nothing: %v", err)
		}
		return &Update{What: "kernel defconfig", Path: target, Content: content}, nil
	}
	fragments := strings.Fields(cfg.Values["BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES"])
	if len(fragments) == 0 {
		return nil, errs.BadInputf("the kernel uses neither a custom config file nor a fragment; nothing in buildroot-ipa/ to save it into")
	}
	target, err := w.inExternal("kernel config fragment", "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", fragments[0])
	if err != nil {
		return nil, err
	}
	base := current + BaselineSuffix
	baseline, err := buildroot.ReadConfigFile(base)
	if errors.Is(err, os.ErrNotExist) {
		w.Notes.Note("linux: no kernel changes recorded (ipabr records the changes made with 'ipabr linux-menuconfig')")
		return nil, nil
	}
	if err != nil {
		return nil, errs.Failedf("%w", err)
	}
	now, err := buildroot.ReadConfigFile(current)
	if err != nil {
		return nil, errs.Failedf("%w", err)
	}
	old, err := os.ReadFile(target)
	if err != nil {
		return nil, errs.Failedf("%w", err)
	}
	return &Update{What: "kernel config fragment", Path: target, Content: buildroot.MergeFragment(old, baseline, now),
		after: func() { _ = copyFile(current, base) }}, nil
}

func (w *Workspace) saveBusybox(_ context.Context, cfg *buildroot.Config, _ SaveParts) (*Update, error) {
	current := firstMatch(w.Dir, BusyboxConfig)
	if current == "" {
		w.Notes.Note("busybox: not configured in %s yet; nothing to save", w.Rel(w.Dir))
		return nil, nil
	}
	target, err := w.inExternal("BusyBox configuration", "BR2_PACKAGE_BUSYBOX_CONFIG", cfg.Values["BR2_PACKAGE_BUSYBOX_CONFIG"])
	if err != nil {
		return nil, err
	}
	content, err := os.ReadFile(current)
	if err != nil {
		return nil, errs.Failedf("%w", err)
	}
	return &Update{What: "BusyBox config", Path: target, Content: content}, nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return project.WriteFileAtomic(dst, data, 0o644)
}
