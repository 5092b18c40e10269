// Package ipa implements `ipabr ipa lock|show|use`: the OpenStack release
// whose Ironic Python Agent the image installs, pinned by a lock of wheel
// URLs and sha256 sums (doc/ipa.md).
package ipa

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Runs replaces the subcommands' run functions in tests; nil fields (or a
// nil Runs) run the real ones.
type Runs struct {
	Lock func(*LockOptions) error
	Show func(*ShowOptions) error
	Use  func(*UseOptions) error
}

// NewCmdIPA is `ipabr ipa` with its subcommands.
func NewCmdIPA(f *cmdutil.Factory, runs *Runs) *cobra.Command {
	if runs == nil {
		runs = &Runs{}
	}
	cmd := &cobra.Command{
		Use:   "ipa",
		Short: "Choose the OpenStack release of the agent and lock its wheels",
		Long: `The image's ironic-python-agent package installs the wheels a lock pins for
one OpenStack series (2026.1, master, ...): each wheel's URL and sha256, in
buildroot-ipa/package/ironic-python-agent/SERIES/. Buildroot downloads and
checks them like any other source; no pip and no network run during the build.

  ipabr ipa lock --release SERIES   resolve IPA for a series and write its lock
  ipabr ipa show                    the configured series and its lock
  ipabr ipa use SERIES              configure the output for a series

Where the lock's inputs come from (config keys, environment):
  ipa.requirements_url  IPABR_IPA_REQUIREMENTS_URL  IPA's git repository
  ipa.constraints_url   IPABR_IPA_CONSTRAINTS_URL   openstack/requirements
  ipa.index_url         IPABR_IPA_INDEX_URL         the package index (PEP 503)
  ipa.python            IPABR_IPA_PYTHON            the host Python whose pip resolves
A repository URL with {series} or {branch} in it is read as a plain file
over HTTP(S) instead of git.`,
	}
	cmd.AddCommand(NewCmdLock(f, runs.Lock), NewCmdShow(f, runs.Show), NewCmdUse(f, runs.Use))
	return cmd
}

// LockOptions are `ipa lock`'s inputs: the flags fill the lock request
// (--release is its Series).
type LockOptions struct {
	Factory *cmdutil.Factory
	Context context.Context
	workspace.LockRequest
}

// NewCmdLock is `ipabr ipa lock`; runF replaces runLock in tests.
func NewCmdLock(f *cmdutil.Factory, runF func(*LockOptions) error) *cobra.Command {
	opts := &LockOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "lock [--release SERIES]",
		Short: "Resolve IPA for an OpenStack series and write its lock",
		Long: `Resolve the Ironic Python Agent of an OpenStack series and write its lock.

1. IPA's requirements.txt comes from the series' branch (stable/SERIES, or
   master) of IPA's repository, upper-constraints.txt from the same branch
   of openstack/requirements; over git (shallow) or HTTPS.
2. pip on this machine (pip 22.2 or newer, of --python, else ipa.python, else
   python3) resolves them for the image: its Python and the glibc of its
   toolchain (read from Buildroot for the output's configuration: Buildroot's
   own glibc, or a Bootlin release's), CPython, manylinux x86_64 wheels only. IPA itself is the
   newest release tag on the series' branch (or --ipa-version), or a wheel
   built here from --ipa-source; --extra adds requirements such as custom
   hardware managers.
3. The lock goes to buildroot-ipa/package/ironic-python-agent/SERIES/:
   ironic-python-agent.lock.mk (each wheel's URL), ironic-python-agent.hash
   (each wheel's sha256, Buildroot's hash format) and manifest.txt (name,
   version, size, sha256, license). The files are replaced together; a
   failed lock leaves the previous one as it was.

Without --release the series is the output's (see 'ipabr ipa show'), else the
package's default. --extra and --ipa-source default to the output's
BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS and _GIT_URL/_GIT_REF.

Locking the same inputs again gives the same files, byte for byte: only
manifest.txt says when the lock was made, and an unchanged lock is left as it
was. Packages upper-constraints does not pin (certifi, setuptools, the
extras) keep the previous lock's versions, and manifest.txt names them;
--upgrade-unpinned takes the newest instead. --check resolves the lock's own
inputs again (its extras, IPA source and --ipa-version, with today's
upstream files, index and Buildroot) and writes nothing: exit 0 when the lock
still matches, 1 with the differences when it does not (for CI).

Exit codes: 2 for a bad or unknown series and bad flags, 1 when the index or a
repository does not answer, pip is missing or older than 22.2, pip cannot
resolve (a conflict with upper-constraints, a package without a wheel for the
image, two wheels installing one file differently), or --check finds that the
lock no longer matches its inputs.`,
		Example: `  ipabr ipa lock --release 2026.1
  ipabr ipa lock --release 2026.1 --extra 'my-hardware-manager>=1.0'
  ipabr ipa lock --release master --ipa-source https://review.opendev.org/openstack/ironic-python-agent@refs/changes/45/123445/3
  ipabr ipa lock --release 2026.1 --index-url https://pypi.example.com/simple
  ipabr ipa lock --release 2026.1 --python ~/.venvs/ipabr/bin/python
  ipabr ipa lock --release 2026.1 --check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runLock(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Series, "release", "", "the OpenStack series, such as 2026.1 or master")
	fl.StringVar(&opts.IndexURL, "index-url", "", "the package index (default: config ipa.index_url, else https://pypi.org/simple)")
	fl.StringVar(&opts.IPAVersion, "ipa-version", "", "the IPA release to lock (default: the newest on the series' branch)")
	fl.StringVar(&opts.IPASource, "ipa-source", "", "build IPA from git: GIT_URL@REF (branch, tag, refs/... or commit)")
	fl.StringArrayVar(&opts.Extras, "extra", nil, "an extra requirement or .whl file to install beside IPA (repeatable)")
	fl.StringVar(&opts.PythonVersion, "python-version", "", "the image's Python as major.minor (default: read from Buildroot)")
	fl.BoolVar(&opts.Check, "check", false, "resolve the lock's own inputs again and fail (exit 1) if the lock differs; write nothing")
	fl.BoolVar(&opts.UpgradeUnpinned, "upgrade-unpinned", false, "take the newest versions of what upper-constraints does not pin (the lock keeps them otherwise)")
	fl.StringVar(&opts.GlibcVersion, "glibc-version", "", "the glibc of the image's toolchain as major.minor (default: read from Buildroot for the output's toolchain)")
	fl.StringVar(&opts.Python, "python", "", "the host Python whose pip resolves (default: config ipa.python, else python3)")
	return cmd
}

func runLock(opts *LockOptions) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	locker := f.Locker(s)
	res, err := locker.Lock(opts.Context, opts.LockRequest)
	if err != nil {
		return err
	}
	w := f.IOStreams.Out
	mark := f.IOStreams.StylesFor(w).Success("✓")
	if opts.Check {
		fmt.Fprintf(w, "%s the lock of OpenStack %s matches its inputs: ironic-python-agent %s and %d more wheels\n",
			mark, res.Series, res.Lock.IPAVersion, len(res.Lock.Wheels)-1)
		return nil
	}
	lines := res.Summary()
	fmt.Fprintf(w, "%s %s\n", mark, strings.Join(lines, "\n"))
	if res.OutputSeries != "" {
		fmt.Fprintf(w, "  %s uses series %s; switch it with: ipabr ipa use %s\n", s.Project.Rel(s.Project.Output), res.OutputSeries, res.Series)
	}
	return nil
}
