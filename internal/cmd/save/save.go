// Package save implements `ipabr save`: copy configuration changes from the
// output directory back into the tracked files of buildroot-ipa/.
package save

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmd/configure"
	"github.com/ipabr/ipabr/internal/cmd/menuconfig"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
)

// Options are save's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Buildroot      bool
	Linux          bool
	Busybox        bool
	DryRun         bool
	IncludeSecrets bool
}

// NewCmdSave builds the command; runF replaces runSave in tests.
func NewCmdSave(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "save",
		Short: "Save configuration changes into buildroot-ipa/ (savedefconfig and friends)",
		Long: `Write the output's configuration back into the external tree:
  --buildroot  make savedefconfig into the defconfig the output was loaded from
  --linux      the kernel: changes made with 'ipabr linux-menuconfig' become lines
               of the config fragment (or linux-update-defconfig for a custom config)
  --busybox    busybox-update-config into the tree's BusyBox config file
Without flags, every one that applies. Only files under buildroot-ipa/ are
written; --dry-run shows the difference and writes nothing. A root password
hash is never copied into the tracked defconfig without --include-secrets.`,
		Example: `  ipabr save --dry-run
  ipabr save
  ipabr save --linux`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runSave(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Buildroot, "buildroot", false, "save the Buildroot defconfig")
	cmd.Flags().BoolVar(&opts.Linux, "linux", false, "save the kernel configuration")
	cmd.Flags().BoolVar(&opts.Busybox, "busybox", false, "save the BusyBox configuration")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "show the difference, write nothing")
	cmd.Flags().BoolVar(&opts.IncludeSecrets, "include-secrets", false, "allow a root password hash into the tracked defconfig")
	return cmd
}

// update is one tracked file and its new content.
type update struct {
	what, path string
	content    []byte
	after      func() // runs once the file is written
}

type saver struct {
	opts *Options
	s    *cmdutil.Settings
	out  *cmdutil.Output
	cfg  *buildroot.Config
}

func runSave(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	out, err := cmdutil.OpenOutput(s, false, f.Now())
	if err != nil {
		return err
	}
	defer out.Close()
	cfg, err := out.RequireConfig(s)
	if err != nil {
		return err
	}
	sv := &saver{opts: opts, s: s, out: out, cfg: cfg}
	all := !opts.Buildroot && !opts.Linux && !opts.Busybox
	var updates []update
	parts := []struct {
		on      bool
		applies bool
		name    string
		collect func() (*update, error)
	}{
		{opts.Buildroot, true, "buildroot", sv.buildroot},
		{opts.Linux, cfg.Enabled("BR2_LINUX_KERNEL"), "linux", sv.linux},
		{opts.Busybox, cfg.Enabled("BR2_PACKAGE_BUSYBOX"), "busybox", sv.busybox},
	}
	for _, p := range parts {
		if !p.on && !all {
			continue
		}
		if !p.applies {
			if p.on {
				return cmdutil.UsageError("--%s: this configuration does not build %s", p.name, p.name)
			}
			continue
		}
		u, err := p.collect()
		if err != nil {
			return err
		}
		if u != nil {
			updates = append(updates, *u)
		}
	}
	return sv.apply(updates)
}

func (sv *saver) note(format string, a ...any) {
	if !sv.s.Quiet {
		fmt.Fprintf(sv.opts.Factory.IOStreams.ErrOut, format+"\n", a...)
	}
}

// inExternal resolves a path from .config and requires it inside the
// external tree: save writes nowhere else.
func (sv *saver) inExternal(what, raw string) (string, error) {
	p := sv.s.Project
	path := strings.NewReplacer("$(BR2_EXTERNAL_IPA_PATH)", p.External, "${BR2_EXTERNAL_IPA_PATH}", p.External,
		"$(TOPDIR)", p.Buildroot, "$(CONFIG_DIR)", sv.out.Dir).Replace(raw)
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Buildroot, path)
	}
	path = filepath.Clean(path)
	rel, err := filepath.Rel(p.External, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", cmdutil.UsageError("the %s comes from %s, outside %s; ipabr save writes only into the external tree", what, path, p.Rel(p.External))
	}
	return path, nil
}

func (sv *saver) buildroot() (*update, error) {
	target, err := sv.inExternal("configuration", sv.cfg.Values["BR2_DEFCONFIG"])
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(sv.out.Dir, ".ipabr-savedefconfig")
	defer os.Remove(tmp)
	if _, err := process.Output(sv.opts.Context, sv.opts.Factory.Runner, sv.out.Make.QuietCmd("savedefconfig", "BR2_DEFCONFIG="+tmp)); err != nil {
		return nil, cmdutil.MakeFailure(err)
	}
	content, err := os.ReadFile(tmp)
	if err != nil {
		return nil, cmdutil.Failure("savedefconfig wrote nothing: %v", err)
	}
	content = configure.DropFarmLines(content, sv.s.Farm) // a site's mirror stays out of the image definition
	saved, _ := buildroot.ParseConfig(bytes.NewReader(content))
	if saved.Values["BR2_TARGET_GENERIC_ROOT_PASSWD"] != "" && !sv.opts.IncludeSecrets {
		return nil, cmdutil.UsageError("the configuration holds a root password hash (BR2_TARGET_GENERIC_ROOT_PASSWD); ipabr save does not copy it into the tracked %s without --include-secrets (or run 'ipabr passwd --disable' first)", sv.s.Project.Rel(target))
	}
	return &update{what: "Buildroot defconfig", path: target, content: content}, nil
}

func (sv *saver) linux() (*update, error) {
	current := glob(sv.out.Dir, menuconfig.LinuxConfig)
	if current == "" {
		sv.note("linux: not configured in %s yet; nothing to save", sv.s.Project.Rel(sv.out.Dir))
		return nil, nil
	}
	if sv.cfg.Enabled("BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG") {
		target, err := sv.inExternal("kernel configuration", sv.cfg.Values["BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE"])
		if err != nil {
			return nil, err
		}
		if _, err := process.Output(sv.opts.Context, sv.opts.Factory.Runner, sv.out.Make.QuietCmd("linux-savedefconfig")); err != nil {
			return nil, cmdutil.MakeFailure(err)
		}
		content, err := os.ReadFile(filepath.Join(filepath.Dir(current), "defconfig"))
		if err != nil {
			return nil, cmdutil.Failure("linux-savedefconfig wrote nothing: %v", err)
		}
		return &update{what: "kernel defconfig", path: target, content: content}, nil
	}
	fragments := strings.Fields(sv.cfg.Values["BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES"])
	if len(fragments) == 0 {
		return nil, cmdutil.UsageError("the kernel uses neither a custom config file nor a fragment; nothing in buildroot-ipa/ to save it into")
	}
	target, err := sv.inExternal("kernel config fragment", fragments[0])
	if err != nil {
		return nil, err
	}
	base := current + menuconfig.BaselineSuffix
	baseline, err := buildroot.ReadConfigFile(base)
	if errors.Is(err, os.ErrNotExist) {
		sv.note("linux: no kernel changes recorded (ipabr records the changes made with 'ipabr linux-menuconfig')")
		return nil, nil
	}
	if err != nil {
		return nil, cmdutil.Failure("%v", err)
	}
	now, err := buildroot.ReadConfigFile(current)
	if err != nil {
		return nil, cmdutil.Failure("%v", err)
	}
	old, err := os.ReadFile(target)
	if err != nil {
		return nil, cmdutil.Failure("%v", err)
	}
	return &update{what: "kernel config fragment", path: target, content: buildroot.MergeFragment(old, baseline, now),
		after: func() { _ = copyFile(current, base) }}, nil
}

func (sv *saver) busybox() (*update, error) {
	current := glob(sv.out.Dir, menuconfig.BusyboxConfig)
	if current == "" {
		sv.note("busybox: not configured in %s yet; nothing to save", sv.s.Project.Rel(sv.out.Dir))
		return nil, nil
	}
	target, err := sv.inExternal("BusyBox configuration", sv.cfg.Values["BR2_PACKAGE_BUSYBOX_CONFIG"])
	if err != nil {
		return nil, err
	}
	content, err := os.ReadFile(current)
	if err != nil {
		return nil, cmdutil.Failure("%v", err)
	}
	return &update{what: "BusyBox config", path: target, content: content}, nil
}

func (sv *saver) apply(updates []update) error {
	f := sv.opts.Factory
	p := sv.s.Project
	wrote := 0
	for _, u := range updates {
		old, _ := os.ReadFile(u.path)
		if bytes.Equal(old, u.content) {
			fmt.Fprintf(f.IOStreams.Out, "%s: %s unchanged\n", u.what, p.Rel(u.path))
			continue
		}
		if sv.opts.DryRun {
			fmt.Fprintf(f.IOStreams.Out, "%s: %s would change:\n", u.what, p.Rel(u.path))
			if err := sv.diff(u); err != nil {
				return err
			}
			continue
		}
		if err := project.WriteFileAtomic(u.path, u.content, 0o644); err != nil {
			return cmdutil.Failure("writing %s: %v", u.path, err)
		}
		if u.after != nil {
			u.after()
		}
		wrote++
		fmt.Fprintf(f.IOStreams.Out, "%s: wrote %s\n", u.what, p.Rel(u.path))
	}
	if wrote > 0 {
		stat, err := process.Output(sv.opts.Context, f.Runner, process.Cmd{Name: "git", Args: []string{"-C", p.Root, "diff", "--stat", "--", p.External}})
		if err == nil && strings.TrimSpace(stat) != "" {
			fmt.Fprint(f.IOStreams.Out, stat)
		}
	}
	return nil
}

// diff prints a unified diff of the tracked file against its new content.
func (sv *saver) diff(u update) error {
	tmp, err := os.CreateTemp("", "ipabr-save-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(u.content)
	tmp.Close()
	if err != nil {
		return err
	}
	rel := sv.s.Project.Rel(u.path)
	old := u.path
	if _, err := os.Stat(old); err != nil {
		old = os.DevNull // a new file
	}
	c := process.Cmd{Name: "diff", Args: []string{"-u", "--label", "a/" + rel, "--label", "b/" + rel, old, tmp.Name()},
		Stdout: sv.opts.Factory.IOStreams.Out}
	if err := sv.opts.Factory.Runner.Run(sv.opts.Context, c); err != nil && process.ExitCode(err) != 1 {
		return cmdutil.Failure("diff: %v", err)
	}
	return nil
}

func glob(dir, pattern string) string {
	if matches := menuconfig.Glob(dir, pattern); len(matches) > 0 {
		return matches[0]
	}
	return ""
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return project.WriteFileAtomic(dst, data, 0o644)
}
