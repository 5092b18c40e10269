// Package ipa implements `ipabr ipa lock|show|use`: the OpenStack release
// whose Ironic Python Agent the image installs, pinned by a lock of wheel
// URLs and sha256 sums (ARCHITECTURE.md §4).
package ipa

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/term"
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
buildroot-ipa/package/ironic-python-agent/<series>/. Buildroot downloads and
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

// LockOptions are `ipa lock`'s inputs.
type LockOptions struct {
	Factory *cmdutil.Factory
	Context context.Context

	Release       string
	IndexURL      string
	IPAVersion    string
	IPASource     string
	Extras        []string
	PythonVersion string
	GlibcVersion  string
	Python        string
	// Check compares a new resolution of the lock's own inputs with the
	// lock instead of writing it.
	Check           bool
	UpgradeUnpinned bool

	// auto marks the lock ipabr build runs by itself, for the
	// configuration cfg of the output it builds.
	auto bool
	cfg  *buildroot.Config
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
	fl.StringVar(&opts.Release, "release", "", "the OpenStack series, such as 2026.1 or master")
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

// outputConfig reads the configured output's .config, if it has one.
func outputConfig(s *cmdutil.Settings) *buildroot.Config {
	cfg, err := buildroot.ReadConfigFile(filepath.Join(s.Project.Output, ".config"))
	if err != nil {
		return nil
	}
	return cfg
}

// configuredSeries is the output's series, else the package's default.
func configuredSeries(s *cmdutil.Settings, cfg *buildroot.Config) (series, from string) {
	if cfg != nil && cfg.Enabled(ipa.EnableSymbol) {
		if v := cfg.Values[ipa.SeriesSymbol]; v != "" {
			return v, s.Project.Rel(filepath.Join(s.Project.Output, ".config"))
		}
	}
	if v, err := ipa.DefaultSeriesIn(s.Project.External); err == nil {
		return v, "the package's default"
	}
	return ipa.DefaultSeries, "the package's default"
}

func runLock(opts *LockOptions) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	cfg := opts.cfg
	if cfg == nil {
		cfg = outputConfig(s)
	}
	series := opts.Release
	if series == "" {
		series, _ = configuredSeries(s, cfg)
	}
	if err := ipa.ValidateSeries(series); err != nil {
		return cmdutil.UsageError("--release: %v", err)
	}
	src, err := LoadSources(f, s)
	if err != nil {
		return err
	}
	if opts.IndexURL != "" {
		src.IndexURL = opts.IndexURL
	}
	if opts.Python != "" {
		src.Python = opts.Python
	}

	target, err := readTarget(s, cfg, opts.PythonVersion, opts.GlibcVersion)
	if err != nil {
		return err
	}

	o := ipa.Options{
		Series:          series,
		RequirementsURL: src.RequirementsURL,
		ConstraintsURL:  src.ConstraintsURL,
		IndexURL:        src.IndexURL,
		IPAVersion:      opts.IPAVersion,
		Target:          target,
		Python:          src.Python,
		Runner:          f.Runner,
		Now:             f.Now,
	}
	var previous *ipa.Lock
	if ipa.HasLock(s.Project.External, series) {
		previous, err = ipa.ReadLock(s.Project.External, series)
		if err != nil && opts.Check {
			return cmdutil.Failure("reading the lock of %s: %v", series, err)
		}
	}
	if opts.Check && previous == nil {
		return cmdutil.Failure("OpenStack %s has no lock to check; make it with %s", series, ipa.LockCommand(series, "", "", nil))
	}
	if !opts.UpgradeUnpinned {
		o.Previous = previous
	}
	if err := lockInputs(opts, cfg, previous, s.Project.External, &o); err != nil {
		return err
	}
	if !s.Quiet {
		o.Progress = func(line string) { fmt.Fprintln(f.IOStreams.ErrOut, "  "+line) }
	}

	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	lock, err := ipa.MakeLock(ctx, o)
	if err != nil {
		return lockError(err)
	}
	w := f.IOStreams.Out
	if opts.auto {
		w = f.IOStreams.ErrOut // build's stdout is its own (--json)
	}
	st := f.IOStreams.Styles()
	dir := s.Project.Rel(ipa.LockDir(s.Project.External, series))
	unchanged := lock.Unchanged(s.Project.External)
	if opts.Check {
		if !unchanged {
			diffs := ipa.Differences(previous, lock)
			if len(diffs) == 0 {
				diffs = []string{"its files are not what ipabr writes for the same wheels (edited by hand?)"}
			}
			return cmdutil.Failure("the lock of OpenStack %s does not match its inputs: %s; lock again with %s and commit %s",
				series, strings.Join(diffs, "; "), lock.Command(), dir)
		}
		fmt.Fprintf(w, "%s the lock of OpenStack %s matches its inputs: ironic-python-agent %s and %d more wheels\n",
			st.Success("✓"), series, lock.IPAVersion, len(lock.Wheels)-1)
		return nil
	}
	if !unchanged {
		if err := lock.Write(s.Project.External); err != nil {
			return cmdutil.Failure("writing the lock: %v", err)
		}
	}
	def, changed, err := ipa.UpdateDefaultSeries(s.Project.External)
	if err != nil {
		return cmdutil.Failure("updating the default series: %v", err)
	}

	if unchanged {
		fmt.Fprintf(w, "%s OpenStack %s: the lock is unchanged (ironic-python-agent %s and %d more wheels, locked %s)\n",
			st.Success("✓"), series, lock.IPAVersion, len(lock.Wheels)-1, lock.Created.Format(time.DateOnly))
	} else {
		fmt.Fprintf(w, "%s locked OpenStack %s: ironic-python-agent %s and %d more wheels, %s\n",
			st.Success("✓"), series, lock.IPAVersion, len(lock.Wheels)-1, term.HumanBytes(lock.TotalSize()))
	}
	fmt.Fprintf(w, "  %s/{%s,%s,%s}\n", dir, ipa.LockFile, ipa.HashFile, ipa.ManifestFile)
	if len(lock.Unpinned) > 0 {
		fmt.Fprintf(w, "  not pinned by upper-constraints, kept by the lock: %s\n", strings.Join(lock.Unpinned, ", "))
	}
	if changed {
		fmt.Fprintf(w, "  the package's default series is now %s\n", def)
	}
	if !opts.auto && cfg != nil && cfg.Enabled(ipa.EnableSymbol) && cfg.Values[ipa.SeriesSymbol] != series {
		fmt.Fprintf(w, "  %s uses series %s; switch it with: ipabr ipa use %s\n", s.Project.Rel(s.Project.Output), cfg.Values[ipa.SeriesSymbol], series)
	}
	return nil
}

// lockInputs sets the IPA source, version and extra requirements: the
// flags', else (for --check) the lock's own, else the output's
// configuration's.
func lockInputs(opts *LockOptions, cfg *buildroot.Config, previous *ipa.Lock, external string, o *ipa.Options) error {
	source := opts.IPASource
	configured := cfg != nil && cfg.Enabled(ipa.EnableSymbol)
	switch {
	case source != "":
	case opts.Check && previous.GitURL != "":
		source = previous.GitURL + "@" + previous.GitRef
	case !opts.Check && configured && cfg.Values[ipa.GitURLSymbol] != "":
		source = cfg.Values[ipa.GitURLSymbol] + "@" + cfg.Values[ipa.GitRefSymbol]
	}
	if source != "" {
		var err error
		if o.GitURL, o.GitRef, err = ipa.ParseSource(source); err != nil {
			return cmdutil.AsUsage(err)
		}
	}
	if opts.Check && o.IPAVersion == "" {
		o.IPAVersion = previous.IPARequested
	}
	o.Extras = opts.Extras
	switch {
	case opts.Check && len(opts.Extras) == 0:
		// Wheel files are kept with the lock, under their names.
		for _, e := range previous.Extras {
			if strings.HasSuffix(e, ".whl") {
				e = filepath.Join(ipa.LockDir(external, previous.Series), ipa.WheelsDir, e)
			}
			o.Extras = append(o.Extras, e)
		}
	case !opts.Check && configured:
		o.Extras = append(o.Extras, strings.Fields(cfg.Values[ipa.ExtraSymbol])...)
	}
	o.Extras = dedupe(o.Extras)
	for _, e := range o.Extras {
		if err := ipa.ValidateExtra(e); err != nil {
			return cmdutil.AsUsage(err)
		}
	}
	return nil
}

// configValues are the values of a configuration, nil without one.
func configValues(cfg *buildroot.Config) map[string]string {
	if cfg == nil {
		return nil
	}
	return cfg.Values
}

// readTarget is the image's Python and glibc: the flags' values, else
// what Buildroot says for the output's configuration.
func readTarget(s *cmdutil.Settings, cfg *buildroot.Config, python, glibc string) (ipa.Target, error) {
	t := ipa.Target{Python: python, Glibc: glibc}
	var err error
	if t.Python == "" {
		if t.Python, err = ipa.ReadPython(s.Project.Buildroot); err != nil {
			return t, cmdutil.UsageError("cannot read the image's Python version from Buildroot (%v); run 'ipabr init' or pass --python-version", err)
		}
	} else if err := ipa.ValidatePython(t.Python); err != nil {
		return t, cmdutil.UsageError("--python-version: %v", err)
	}
	if t.Glibc == "" {
		if t.Glibc, err = ipa.ReadGlibc(s.Project.Buildroot, s.Project.External, configValues(cfg)); err != nil {
			return t, cmdutil.UsageError("cannot read the glibc of the image's toolchain: %v", err)
		}
	} else if err := ipa.ValidateGlibc(t.Glibc); err != nil {
		return t, cmdutil.UsageError("--glibc-version: %v", err)
	}
	return t, nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// lockError maps the library's errors to exit codes: an unknown series or
// bad input is 2, everything that failed on the way is 1.
func lockError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var unknown *ipa.UnknownSeriesError
	var unknownRef *ipa.UnknownRefError
	if errors.As(err, &unknown) || errors.As(err, &unknownRef) {
		return cmdutil.AsUsage(err)
	}
	var unreachable *ipa.UnreachableError
	if errors.As(err, &unreachable) {
		return cmdutil.Failure("%v; the previous lock, if any, is unchanged", err)
	}
	var pe *ipa.PipError
	if errors.As(err, &pe) {
		return cmdutil.WithDetail(cmdutil.Failure("%v", err), pe.Cmd)
	}
	if strings.HasPrefix(err.Error(), "--") {
		return cmdutil.AsUsage(err)
	}
	return cmdutil.Failure("%v", err)
}
