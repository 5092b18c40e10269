// Package rebuild implements `ipabr rebuild`: rebuild packages and then the
// images, instead of deleting stamp files by hand.
package rebuild

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are rebuild's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Packages    []string
	Reconfigure bool
	Dirclean    bool
	JSON        bool
}

// NewCmdRebuild builds the command; runF replaces runRebuild in tests.
func NewCmdRebuild(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "rebuild PKG...",
		Short: "Rebuild packages (make PKG-rebuild), then the images",
		Long: `Rebuild the named packages and then the final images: make PKG-rebuild all.
--reconfigure restarts from the configure step (PKG-reconfigure), --dirclean
removes the package's build directory first (PKG-dirclean). This replaces
removing .stamp_built files by hand.

Each PKG is checked before make runs: it must be a package of Buildroot or
buildroot-ipa (a PKG.mk) and enabled in the output's .config; host-PKG only
needs to exist, since what pulls a host package in is make's to know.
A wrong name is exit 2 with the reason, and a close enabled name if any.`,
		Example: `  ipabr rebuild ironic-python-agent
  ipabr rebuild --reconfigure linux
  ipabr rebuild --dirclean busybox python3`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Packages = args
			if runF != nil {
				return runF(opts)
			}
			return runRebuild(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Reconfigure, "reconfigure", false, "restart from the configure step")
	cmd.Flags().BoolVar(&opts.Dirclean, "dirclean", false, "remove the packages' build directories first")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as a JSON object")
	return cmd
}

// Targets are the make targets for packages.
func Targets(packages []string, reconfigure, dirclean bool) ([]string, error) {
	suffix := "-rebuild"
	switch {
	case reconfigure:
		suffix = "-reconfigure"
	case dirclean:
		suffix = "-dirclean"
	}
	var targets []string
	for _, p := range packages {
		if !buildroot.ValidPackageName(p) {
			return nil, errs.At(errs.Arg("PKG"), errs.BadInputf("%q is not a package name (lowercase letters, digits and ._+- only)", p))
		}
		targets = append(targets, p+suffix)
	}
	return append(targets, "all"), nil
}

func runRebuild(opts *Options) error {
	f := opts.Factory
	if opts.Reconfigure && opts.Dirclean {
		return errs.BadInputf("--reconfigure and --dirclean cannot be used together")
	}
	targets, err := Targets(opts.Packages, opts.Reconfigure, opts.Dirclean)
	if err != nil {
		return err
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	if err := workspace.CheckDeletingGoals(s.Project, s.Project.Output, targets); err != nil {
		return err
	}
	w, err := f.OpenWorkspace(s, false)
	if err != nil {
		return err
	}
	defer w.Close()
	cfg, err := w.RequireConfig()
	if err != nil {
		return err
	}
	if err := w.CheckPackages(cfg, opts.Packages); err != nil {
		return err
	}
	res, err := w.Build(opts.Context, targets, term.NewBuildDisplay(f.Notes(s), f.Now))
	if opts.JSON && res != nil {
		return cmdutil.PrintJSONResult(f.IOStreams.Out, res, err)
	}
	if err == nil {
		fmt.Fprint(f.IOStreams.Out, res.ImagesTable(s.Project))
	}
	return err
}
