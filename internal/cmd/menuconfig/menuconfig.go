// Package menuconfig implements `ipabr menuconfig` and its kin
// (nconfig, linux-menuconfig, linux-nconfig, busybox-menuconfig): the
// terminal is handed to Buildroot's configuration menus unchanged.
package menuconfig

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are the menu commands' inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context
	Target  string
}

// NewCmdMenu builds the command for one menu; runF replaces runMenu in tests.
func NewCmdMenu(f *cmdutil.Factory, runF func(*Options) error, m workspace.Menu) *cobra.Command {
	opts := &Options{Factory: f, Target: m.Target}
	return &cobra.Command{
		Use:   m.Target,
		Short: "Open " + m.Short,
		Long: fmt.Sprintf(`Open %s in this terminal. Needs a terminal on
stdin. Afterwards ipabr says whether the configuration changed; 'ipabr save'
copies changes into buildroot-ipa/.`, m.Short),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runMenu(opts, m)
		},
	}
}

func runMenu(opts *Options, m workspace.Menu) error {
	f := opts.Factory
	if !f.IOStreams.IsStdinTTY() {
		return errs.BadInputf("%s needs a terminal on stdin; to change options without one use 'ipabr make -- olddefconfig' after editing the output's .config, or run it in a terminal", m.Target)
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
	changed, err := w.OpenMenu(opts.Context, m, f.IOStreams.In, f.IOStreams.Out, f.IOStreams.ErrOut)
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintln(f.IOStreams.ErrOut, "The configuration changed. Run 'ipabr save' to keep it in buildroot-ipa/ (or 'ipabr save --dry-run' to see the difference).")
	} else {
		fmt.Fprintln(f.IOStreams.ErrOut, "The configuration did not change.")
	}
	return nil
}
