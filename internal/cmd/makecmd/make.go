// Package makecmd implements `ipabr make -- ARGS`: any Buildroot target
// with ipabr's -C, O=, BR2_EXTERNAL= and cache settings.
package makecmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are make's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context
	Args    []string
	Unique  bool
}

// NewCmdMake builds the command; runF replaces runMake in tests.
func NewCmdMake(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "make -- ARGS...",
		Short: "Run any Buildroot make target in the output directory",
		Long: `Run make with ipabr's settings: make -C BUILDROOT O=OUTPUT
BR2_EXTERNAL=EXTERNAL ARGS, with BR2_DL_DIR and BR2_CCACHE_DIR set. The
escape hatch for targets ipabr has no command for. Goals that delete (clean,
distclean, PKG-dirclean) run only in an output this project configured (see
'ipabr clean --help').`,
		Example: `  ipabr make -- show-info
  ipabr make -- python3-show-depends
  ipabr make -- legal-info`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runMake(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Unique, "unique", false, "run in a fresh output/UNIXTIME-XXXXXX")
	return cmd
}

func runMake(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	if !opts.Unique {
		if err := workspace.CheckDeletingGoals(s.Project, s.Project.Output, opts.Args); err != nil {
			return err
		}
	}
	out, err := f.OpenWorkspace(s, opts.Unique)
	if err != nil {
		return err
	}
	defer out.Close()
	return out.RunMake(opts.Context, f.IOStreams.Out, f.IOStreams.ErrOut, opts.Args...)
}
