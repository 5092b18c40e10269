// Package build implements `ipabr build`: configure if needed, run make with
// a progress display and a full log, then list the images with checksums.
package build

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are build's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Jobs      int
	JSON      bool
	KeepGoing bool
	Offline   bool
	Unique    bool
	Targets   []string
}

// NewCmdBuild builds the command; runF replaces runBuild in tests.
func NewCmdBuild(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "build [TARGET...]",
		Short: "Build the image (or the named make targets) with progress and a full log",
		Long: `Configure the output directory from the default defconfig if it has no
.config, then run make (all, or the named targets). The full make output goes
to OUTPUT/build.log (OUTPUT: the output directory); a terminal shows one live progress line instead (-v shows
the raw output too), other outputs get one timestamped line per package step.

Before make, the project's customisation is applied to the output's .config
and named in one line, as 'ipabr configure' does: the root password hash of
root-password.hash and the users table scripts/users.table. A password or
user added since the output was configured reaches it so.

On success ipabr writes the CycloneDX SBOM OUTPUT/images/sbom.cdx.json
(as 'ipabr sbom' does; a failure to is a warning), prints the files in
OUTPUT/images with their sizes and sha256 sums and writes
OUTPUT/images/SHA256SUMS. On failure it prints the
failing package and step, the last 40 lines of this run's part of the log
(without escape sequences unless colour is on) and the log's path, and
exits 1. Ctrl-C or SIGTERM stops make's whole process group and exits 130;
rerunning continues where Buildroot's stamps allow.

--jobs passes -jN to the top-level make, which Buildroot supports only with
BR2_PER_PACKAGE_DIRECTORIES=y; without it Buildroot parallelises inside each
package (BR2_JLEVEL) and --jobs is refused.

Before make starts, ipabr warns when the output or dl/ filesystem has less
than 20 GiB free, and reports a build killed by a signal (the OOM killer's
SIGKILL) or stopped by a full disk as such. --offline first checks that dl/
holds every file the configuration downloads (Buildroot's show-info) and
refuses to start, listing them, when some are missing: prefetch with
'ipabr source'. The build-farm keys (doc/farm.md) apply here too.

When the agent is enabled and its OpenStack series has no lock, build makes
the lock first if the package index answers; when it does not (or with
--offline) the build stops before make runs, exit 2, naming the exact
'ipabr ipa lock --release SERIES ...' command to run where the index answers.`,
		Example: `  ipabr build
  ipabr build --unique --json > result.json
  ipabr source && ipabr build --offline
  ipabr build linux-rebuild all`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Targets = args
			if runF != nil {
				return runF(opts)
			}
			return runBuild(opts)
		},
	}
	cmd.Flags().VarP((*cmdutil.Count)(&opts.Jobs), "jobs", "j", "top-level make jobs, 1 or more (needs BR2_PER_PACKAGE_DIRECTORIES=y)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as a JSON object")
	cmd.Flags().BoolVarP(&opts.KeepGoing, "keep-going", "k", false, "keep building other packages after a failure (make -k)")
	cmd.Flags().BoolVar(&opts.Unique, "unique", false, "build in a fresh output/UNIXTIME-XXXXXX")
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "refuse to start when dl/ lacks a file the build needs (see 'ipabr source')")
	return cmd
}

func runBuild(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	w, err := f.OpenWorkspace(s, opts.Unique)
	if err != nil {
		return err
	}
	defer w.Close()
	cfg, _, err := w.Ensure(opts.Context)
	if err != nil {
		return err
	}
	if opts.Jobs > 0 && !cfg.Enabled("BR2_PER_PACKAGE_DIRECTORIES") {
		return errs.At(errs.Flag("--jobs"), errs.BadInputf("needs BR2_PER_PACKAGE_DIRECTORIES=y: without per-package directories Buildroot's top-level make must run serially (it already builds each package with BR2_JLEVEL jobs); enable it with 'ipabr menuconfig' (Build options) or drop --jobs"))
	}
	// The agent's lock: made first when the series has none.
	if !opts.Offline {
		if err := f.Locker(s).EnsureLock(opts.Context, cfg, opts.Targets); err != nil {
			return err
		}
	} else if err := f.Locker(s).RequireLock(cfg, opts.Targets); err != nil {
		return err
	} else if err := w.CheckOffline(opts.Context); err != nil {
		printMissing(f.IOStreams.ErrOut, s.Verbose, err)
		return err
	}
	var args []string
	if opts.Jobs > 0 {
		args = append(args, fmt.Sprintf("-j%d", opts.Jobs))
	}
	if opts.KeepGoing {
		args = append(args, "-k")
	}
	res, err := w.Build(opts.Context, append(args, opts.Targets...), term.NewBuildDisplay(f.Notes(s), f.Now))
	if opts.JSON && res != nil {
		return cmdutil.PrintJSONResult(f.IOStreams.Out, res, err)
	}
	if err == nil {
		fmt.Fprint(f.IOStreams.Out, res.ImagesTable(s.Project))
	}
	return err
}

// printMissing lists the files a *workspace.MissingDownloadsError names
// (the first 50 without verbose).
func printMissing(w io.Writer, verbose bool, err error) {
	var missing *workspace.MissingDownloadsError
	if !errors.As(err, &missing) {
		return
	}
	fmt.Fprintf(w, "missing from %s:\n", missing.DL)
	const show = 50
	for i, m := range missing.Missing {
		if i == show && !verbose {
			fmt.Fprintf(w, "  … and %d more (-v lists them all)\n", len(missing.Missing)-show)
			break
		}
		fmt.Fprintf(w, "  %-60s (%s)\n", m.Path(missing.DL), m.Package)
	}
}
