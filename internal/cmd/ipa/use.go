package ipa

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmd/configure"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/ipa"
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
		return cmdutil.AsUsage(err)
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	out, err := cmdutil.OpenOutput(s, false, f.Now())
	if err != nil {
		return err
	}
	defer out.Close()
	cfg, _, err := configure.Ensure(opts.Context, f, s, out)
	if err != nil {
		return err
	}
	edits := []buildroot.Edit{buildroot.Set(ipa.SeriesSymbol, opts.Series)}
	if !cfg.Enabled(ipa.EnableSymbol) {
		edits = append([]buildroot.Edit{buildroot.Enable(ipa.EnableSymbol)}, edits...)
	}
	changes, err := out.EditConfig(opts.Context, f.Runner, edits...)
	if err != nil {
		return cmdutil.MakeFailure(err)
	}
	cfg, _, err = out.Config()
	if err != nil {
		return cmdutil.Failure("reading %s/.config: %v", s.Project.Rel(out.Dir), err)
	}
	if !cfg.Enabled(ipa.EnableSymbol) || cfg.Values[ipa.SeriesSymbol] != opts.Series {
		return cmdutil.Failure("kconfig did not keep %s=%q in %s/.config (the package needs Python 3 on x86_64 with glibc: BR2_PACKAGE_PYTHON3, BR2_x86_64, a glibc toolchain)",
			ipa.SeriesSymbol, opts.Series, s.Project.Rel(out.Dir))
	}
	w := f.IOStreams.Out
	if !s.Quiet {
		cmdutil.PrintConfigChanges(f.IOStreams.ErrOut, s.Project.Rel(out.Dir)+"/.config", changes)
	}
	fmt.Fprintf(w, "%s %s: ironic-python-agent from OpenStack %s\n", f.IOStreams.Styles().Success("✓"), s.Project.Rel(out.Dir), opts.Series)
	if ipa.HasLock(s.Project.External, opts.Series) {
		if lock, err := ipa.ReadLock(s.Project.External, opts.Series); err == nil {
			fmt.Fprintf(w, "  lock: IPA %s, %d wheels, locked %s\n", lock.IPAVersion, len(lock.Wheels), lock.Created.Format(time.DateOnly))
		}
		return nil
	}
	var gitURL, gitRef string
	if cfg.Values[ipa.GitURLSymbol] != "" {
		gitURL, gitRef = cfg.Values[ipa.GitURLSymbol], cfg.Values[ipa.GitRefSymbol]
	}
	fmt.Fprintf(w, "  no lock yet: run %s (ipabr build runs it when the package index answers)\n",
		ipa.LockCommand(opts.Series, gitURL, gitRef, strings.Fields(cfg.Values[ipa.ExtraSymbol])))
	return nil
}
