package ipa

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/workspace"
)

// UseOptions are `ipa use`'s inputs.
type UseOptions struct {
	Factory *cmdutil.Factory
	Context context.Context
	Series  string
}

// NewCmdUse is `ipabr ipa use`; runF replaces runUse in tests.
func NewCmdUse(f *cmdutil.Factory, runF func(*UseOptions) error) *cobra.Command {
	opts := &UseOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "use SERIES",
		Short: "Configure the output directory for an OpenStack series",
		Long: `Set BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES (and enable the package) in the
output directory's configuration with Buildroot's own kconfig tools
(utils/config, then olddefconfig). An output without a configuration gets the
default defconfig first. The next build installs that series' lock; without
one, 'ipabr build' makes it when the package index answers.`,
		Example: `  ipabr ipa use 2026.1
  ipabr -O output/test ipa use master`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Series = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runUse(opts)
		},
	}
	return cmd
}

func runUse(opts *UseOptions) error {
	f := opts.Factory
	if err := ipa.ValidateSeries(opts.Series); err != nil {
		return errs.At(errs.Arg("SERIES"), err)
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	w, err := f.OpenWorkspace(s, false)
	if err != nil {
		return err
	}
	defer w.Close()
	cfg, _, err := w.Ensure(opts.Context)
	if err != nil {
		return err
	}
	edits := []buildroot.Edit{buildroot.Set(ipa.SeriesSymbol, opts.Series)}
	if !cfg.Enabled(ipa.EnableSymbol) {
		edits = append([]buildroot.Edit{buildroot.Enable(ipa.EnableSymbol)}, edits...)
	}
	changes, err := w.EditConfig(opts.Context, edits...)
	if err != nil {
		return workspace.MakeFailure(err)
	}
	if cfg, err = w.RequireConfig(); err != nil {
		return err
	}
	if !cfg.Enabled(ipa.EnableSymbol) || cfg.Values[ipa.SeriesSymbol] != opts.Series {
		return errs.Failedf("kconfig did not keep %s=%q in %s (the package needs Python 3 on x86_64 with glibc: BR2_PACKAGE_PYTHON3, BR2_x86_64, a glibc toolchain)",
			ipa.SeriesSymbol, opts.Series, w.Rel(w.ConfigFile()))
	}
	out := f.IOStreams.Out
	if !s.Quiet {
		fmt.Fprint(f.IOStreams.ErrOut, buildroot.FormatChanges(w.Rel(w.ConfigFile()), changes))
	}
	fmt.Fprintf(out, "%s %s: ironic-python-agent from OpenStack %s\n", f.IOStreams.StylesFor(out).Success("✓"), w.Rel(w.Dir), opts.Series)
	p := s.Project
	if ipa.HasLock(p.External, opts.Series) {
		if lock, err := ipa.ReadLock(p.External, opts.Series); err == nil {
			fmt.Fprintf(out, "  lock: IPA %s, %d wheels, locked %s\n", lock.IPAVersion, len(lock.Wheels), lock.Created.Format(time.DateOnly))
		}
		return nil
	}
	fmt.Fprintf(out, "  no lock yet: run %s (ipabr build runs it when the package index answers)\n", workspace.LockCommand(opts.Series, cfg, nil))
	return nil
}
