// Package save implements `ipabr save`: copy configuration changes from the
// output directory back into the tracked files of buildroot-ipa/.
package save

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/workspace"
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
written; --dry-run shows the difference (a root password hash masked) and
writes nothing.

The project's customisation, which every 'ipabr configure' applies, stays
out of the tracked defconfig and save says so: the root password hash of
root-password.hash (with root login left off there), unless
--include-secrets, and the users table scripts/users.table in
BR2_ROOTFS_USERS_TABLES. Everything else is saved.`,
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
	cmd.Flags().BoolVar(&opts.IncludeSecrets, "include-secrets", false, "copy the root password hash into the tracked defconfig")
	return cmd
}

func runSave(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	w, err := f.OpenWorkspace(s, false)
	if err != nil {
		return err
	}
	defer w.Close()
	updates, err := w.Save(opts.Context, workspace.SaveParts{Buildroot: opts.Buildroot, Linux: opts.Linux, Busybox: opts.Busybox, IncludeSecrets: opts.IncludeSecrets})
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	p := s.Project
	wrote := 0
	for _, u := range updates {
		for _, what := range u.LeftOut {
			fmt.Fprintf(out, "%s: left out %s\n", u.What, what)
		}
		old, err := os.ReadFile(u.Path)
		if err != nil {
			old = nil // a new file
		}
		if bytes.Equal(old, u.Content) {
			fmt.Fprintf(out, "%s: %s unchanged\n", u.What, p.Rel(u.Path))
			continue
		}
		if opts.DryRun {
			fmt.Fprintf(out, "%s: %s would change:\n", u.What, p.Rel(u.Path))
			if err := diff(opts, p.Rel(u.Path), old, u); err != nil {
				return err
			}
			continue
		}
		if err := w.Write(u); err != nil {
			return err
		}
		wrote++
		fmt.Fprintf(out, "%s: wrote %s\n", u.What, p.Rel(u.Path))
	}
	if wrote > 0 {
		stat, err := process.Output(opts.Context, f.Runner, process.Cmd{Name: "git", Args: []string{"-C", p.Root, "diff", "--stat", "--", p.External}})
		if err == nil && strings.TrimSpace(stat) != "" {
			fmt.Fprint(out, stat)
		}
	}
	return nil
}

// diff prints a unified diff of the tracked file against its new content,
// secrets masked on both sides (buildroot.MaskSecrets).
func diff(opts *Options, rel string, old []byte, u workspace.Update) error {
	dir, err := os.MkdirTemp("", "ipabr-save-")
	if err != nil {
		return errs.Failedf("%w", err)
	}
	defer os.RemoveAll(dir)
	oldFile, newFile := os.DevNull, filepath.Join(dir, "new") // no old file: a new file
	if old != nil {
		oldFile = filepath.Join(dir, "old")
		if err := os.WriteFile(oldFile, buildroot.MaskSecrets(old), 0o600); err != nil {
			return errs.Failedf("%w", err)
		}
	}
	if err := os.WriteFile(newFile, buildroot.MaskSecrets(u.Content), 0o600); err != nil {
		return errs.Failedf("%w", err)
	}
	c := process.Cmd{Name: "diff", Args: []string{"-u", "--label", "a/" + rel, "--label", "b/" + rel, oldFile, newFile},
		Stdout: opts.Factory.IOStreams.Out}
	if err := opts.Factory.Runner.Run(opts.Context, c); err != nil && process.ExitCode(err) != 1 {
		return errs.Failedf("diff: %v", err)
	}
	return nil
}
