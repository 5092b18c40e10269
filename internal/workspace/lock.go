package workspace

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
)

// Locker makes and checks the agent's locks of a project (ipabr ipa lock,
// and the lock a build makes by itself). It reads the configured output's
// .config without taking the output's lock.
type Locker struct {
	Settings *config.Settings
	Runner   process.Runner
	Now      func() time.Time
	Notes    Notes
}

// LockRequest are a lock's inputs: flags override the output's
// configuration (and, for Check, the lock's own inputs).
type LockRequest struct {
	Series        string // --release; "" for the output's series
	IndexURL      string
	IPAVersion    string
	IPASource     string // GIT_URL@REF
	Extras        []string
	PythonVersion string
	GlibcVersion  string
	Python        string
	// Check compares a new resolution of the lock's own inputs with the
	// lock instead of writing it.
	Check           bool
	UpgradeUnpinned bool
	// Config is the output's configuration; nil reads it.
	Config *buildroot.Config
}

// LockResult is a lock made, kept or checked.
type LockResult struct {
	Lock           *ipa.Lock
	Series         string
	Dir            string // as shown
	Unchanged      bool   // the lock was already so (or, with Check, matches)
	DefaultSeries  string
	DefaultChanged bool
	// OutputSeries is the configured output's series when it differs.
	OutputSeries string
}

// Summary is what a lock says when it is done, line by line.
func (r *LockResult) Summary() []string {
	l := r.Lock
	var lines []string
	if r.Unchanged {
		lines = append(lines, fmt.Sprintf("OpenStack %s: the lock is unchanged (ironic-python-agent %s and %d more wheels, locked %s)",
			r.Series, l.IPAVersion, len(l.Wheels)-1, l.Created.Format(time.DateOnly)))
	} else {
		lines = append(lines, fmt.Sprintf("locked OpenStack %s: ironic-python-agent %s and %d more wheels, %s",
			r.Series, l.IPAVersion, len(l.Wheels)-1, term.HumanBytes(l.TotalSize())))
	}
	lines = append(lines, fmt.Sprintf("  %s/{%s,%s,%s}", r.Dir, ipa.LockFile, ipa.HashFile, ipa.ManifestFile))
	if len(l.Unpinned) > 0 {
		lines = append(lines, "  not pinned by upper-constraints, kept by the lock: "+strings.Join(l.Unpinned, ", "))
	}
	if r.DefaultChanged {
		lines = append(lines, "  the package's default series is now "+r.DefaultSeries)
	}
	return lines
}

// OutputConfig reads the configured output's .config, if it has one.
func (l *Locker) OutputConfig() *buildroot.Config {
	cfg, err := buildroot.ReadConfigFile(filepath.Join(l.Settings.Project.Output, ".config"))
	if err != nil {
		return nil
	}
	return cfg
}

func (l *Locker) configFile() string {
	p := l.Settings.Project
	return p.Rel(filepath.Join(p.Output, ".config"))
}

// agentConfigured reports whether cfg installs the agent.
func agentConfigured(cfg *buildroot.Config) bool {
	return cfg != nil && cfg.Enabled(ipa.EnableSymbol)
}

// ConfiguredSeries is the output's series, else the package's default,
// and where it came from.
func (l *Locker) ConfiguredSeries(cfg *buildroot.Config) (series, from string) {
	if agentConfigured(cfg) {
		if v := cfg.Values[ipa.SeriesSymbol]; v != "" {
			return v, l.configFile()
		}
	}
	if v, err := ipa.DefaultSeriesIn(l.Settings.Project.External); err == nil {
		return v, "the package's default"
	}
	return ipa.DefaultSeries, "the package's default"
}

// Lock resolves and writes (or, with Check, compares) the lock of a series.
func (l *Locker) Lock(ctx context.Context, req LockRequest) (*LockResult, error) {
	s := l.Settings
	p := s.Project
	cfg := req.Config
	if cfg == nil {
		cfg = l.OutputConfig()
	}
	series, origin := req.Series, errs.Flag("--release")
	if series == "" {
		series, _ = l.ConfiguredSeries(cfg)
		origin = errs.Symbol(l.configFile(), ipa.SeriesSymbol)
	}
	if err := ipa.ValidateSeries(series); err != nil {
		return nil, errs.At(origin, err)
	}
	target, err := l.Target(cfg, req.PythonVersion, req.GlibcVersion)
	if err != nil {
		return nil, err
	}
	o := ipa.Options{
		Series:          series,
		RequirementsURL: s.IPA.RequirementsURL,
		ConstraintsURL:  s.IPA.ConstraintsURL,
		IndexURL:        s.IPA.IndexURL,
		IPAVersion:      req.IPAVersion,
		Target:          target,
		Python:          s.IPA.Python,
		Runner:          l.Runner,
		Now:             l.Now,
	}
	if req.IndexURL != "" {
		o.IndexURL = req.IndexURL
	}
	if req.Python != "" {
		o.Python = req.Python
	}
	var previous *ipa.Lock
	if ipa.HasLock(p.External, series) {
		previous, err = ipa.ReadLock(p.External, series)
		if err != nil && req.Check {
			return nil, errs.Failedf("reading the lock of %s: %v", series, err)
		}
	}
	if req.Check && previous == nil {
		return nil, errs.Failedf("OpenStack %s has no lock to check; make it with %s", series, ipa.LockCommand(series, "", "", nil))
	}
	if !req.UpgradeUnpinned {
		o.Previous = previous
	}
	if err := l.lockInputs(req, cfg, previous, &o); err != nil {
		return nil, err
	}
	o.Progress = func(line string) { l.Notes.Note("  %s", line) }
	lock, err := ipa.MakeLock(ctx, o)
	if err != nil {
		var unreachable *ipa.UnreachableError
		if errors.As(err, &unreachable) && !errors.Is(err, context.Canceled) {
			return nil, errs.Failedf("%w; the previous lock, if any, is unchanged", err)
		}
		return nil, err
	}
	res := &LockResult{Lock: lock, Series: series, Dir: p.Rel(ipa.LockDir(p.External, series)), Unchanged: lock.Unchanged(p.External)}
	if req.Check {
		if !res.Unchanged {
			diffs := ipa.Differences(previous, lock)
			if len(diffs) == 0 {
				diffs = []string{"its files are not what ipabr writes for the same wheels (edited by hand?)"}
			}
			return nil, errs.Failedf("the lock of OpenStack %s does not match its inputs: %s; lock again with %s and commit %s",
				series, strings.Join(diffs, "; "), lock.Command(), res.Dir)
		}
		return res, nil
	}
	if !res.Unchanged {
		if err := lock.Write(p.External); err != nil {
			return nil, errs.Failedf("writing the lock: %v", err)
		}
	}
	if res.DefaultSeries, res.DefaultChanged, err = ipa.UpdateDefaultSeries(p.External); err != nil {
		return nil, errs.Failedf("updating the default series: %v", err)
	}
	if agentConfigured(cfg) && cfg.Values[ipa.SeriesSymbol] != series {
		res.OutputSeries = cfg.Values[ipa.SeriesSymbol]
	}
	return res, nil
}

// lockInputs sets the IPA source, version and extra requirements: the
// flags', else (for Check) the lock's own, else the output's
// configuration's; each bad one is named by where it came from.
func (l *Locker) lockInputs(req LockRequest, cfg *buildroot.Config, previous *ipa.Lock, o *ipa.Options) error {
	source, origin := req.IPASource, errs.Flag("--ipa-source")
	configured := agentConfigured(cfg)
	switch {
	case source != "":
	case req.Check && previous.GitURL != "":
		source, origin = previous.GitURL+"@"+previous.GitRef, errs.Origin{Custom: "the lock's IPA source"}
	case !req.Check && configured && cfg.Values[ipa.GitURLSymbol] != "":
		source = cfg.Values[ipa.GitURLSymbol] + "@" + cfg.Values[ipa.GitRefSymbol]
		origin = errs.Symbol(l.configFile(), ipa.GitURLSymbol+"/_GIT_REF")
	}
	if source != "" {
		var err error
		if o.GitURL, o.GitRef, err = ipa.ParseSource(source); err != nil {
			return errs.At(origin, err)
		}
	}
	if req.Check && o.IPAVersion == "" {
		o.IPAVersion = previous.IPARequested
	}
	if o.IPAVersion != "" && req.IPAVersion != "" {
		if err := ipa.ValidateVersion(o.IPAVersion); err != nil {
			return errs.At(errs.Flag("--ipa-version"), err)
		}
	}
	from := map[string]errs.Origin{}
	var extras []string
	add := func(e string, origin errs.Origin) {
		if _, dup := from[e]; !dup {
			from[e] = origin
			extras = append(extras, e)
		}
	}
	for _, e := range req.Extras {
		add(e, errs.Flag("--extra"))
	}
	switch {
	case req.Check && len(req.Extras) == 0:
		// Wheel files are kept with the lock, under their names.
		for _, e := range previous.Extras {
			if strings.HasSuffix(e, ".whl") {
				e = filepath.Join(ipa.LockDir(l.Settings.Project.External, previous.Series), ipa.WheelsDir, e)
			}
			add(e, errs.Origin{Custom: "the lock's extra requirement"})
		}
	case !req.Check && configured:
		for _, e := range strings.Fields(cfg.Values[ipa.ExtraSymbol]) {
			add(e, errs.Symbol(l.configFile(), ipa.ExtraSymbol))
		}
	}
	o.Extras = extras
	o.ExtraFrom = map[string]string{}
	for _, e := range extras {
		if err := ipa.ValidateExtra(e); err != nil {
			return errs.At(from[e], err)
		}
		o.ExtraFrom[e] = from[e].String()
	}
	return nil
}

// Target is the image's Python and glibc: the flags' values, else
// what Buildroot says for the output's configuration.
func (l *Locker) Target(cfg *buildroot.Config, python, glibc string) (ipa.Target, error) {
	p := l.Settings.Project
	t := ipa.Target{Python: python, Glibc: glibc}
	var err error
	if t.Python == "" {
		if t.Python, err = ipa.ReadPython(p.Buildroot); err != nil {
			return t, errs.NotConfiguredf("cannot read the image's Python version from Buildroot (%v); run 'ipabr init' or pass --python-version", err)
		}
	} else if err := ipa.ValidatePython(t.Python); err != nil {
		return t, errs.At(errs.Flag("--python-version"), err)
	}
	if t.Glibc == "" {
		if t.Glibc, err = ipa.ReadGlibc(p.Buildroot, p.External, configValues(cfg)); err != nil {
			return t, errs.BadInputf("cannot read the glibc of the image's toolchain: %w", err)
		}
	} else if err := ipa.ValidateGlibc(t.Glibc); err != nil {
		return t, errs.At(errs.Flag("--glibc-version"), err)
	}
	return t, nil
}

// configValues are the values of a configuration, nil without one.
func configValues(cfg *buildroot.Config) map[string]string {
	if cfg == nil {
		return nil
	}
	return cfg.Values
}

// LockCommand is the command that makes the lock cfg asks for, given the
// series' current lock (nil for none).
func LockCommand(series string, cfg *buildroot.Config, current *ipa.Lock) string {
	gitURL, gitRef, extras := configuredSource(cfg)
	return ipa.ConfiguredLockCommand(series, gitURL, gitRef, extras, current)
}

// configuredSource is the agent's git source and extra requirements as cfg
// configures them (none when cfg does not install the agent).
func configuredSource(cfg *buildroot.Config) (gitURL, gitRef string, extras []string) {
	if !agentConfigured(cfg) {
		return "", "", nil
	}
	if cfg.Values[ipa.GitURLSymbol] != "" {
		gitURL, gitRef = cfg.Values[ipa.GitURLSymbol], cfg.Values[ipa.GitRefSymbol]
	}
	return gitURL, gitRef, strings.Fields(cfg.Values[ipa.ExtraSymbol])
}

// missingLock is the series whose lock cfg and targets need and that has
// none ("" when nothing is missing, or the series name is bad: that is
// Buildroot's to report, with the fix).
func (l *Locker) missingLock(cfg *buildroot.Config, targets []string) string {
	if !agentConfigured(cfg) || !ipa.NeedsLock(targets) {
		return ""
	}
	series := cfg.Values[ipa.SeriesSymbol]
	if ipa.ValidateSeries(series) != nil || ipa.HasLock(l.Settings.Project.External, series) {
		return ""
	}
	return series
}

// noLock is the error that stops a build before make when the agent's
// lock is missing and cannot be made: why, and the command that makes it.
func noLock(series, why string, cfg *buildroot.Config) error {
	return errs.NotConfiguredf("OpenStack series %s has no IPA lock, and %s; run %s where the package index answers, then try again",
		series, why, LockCommand(series, cfg, nil))
}

// RequireLock is an offline build's step before make: a missing lock
// stops it at once, since making one needs the package index.
func (l *Locker) RequireLock(cfg *buildroot.Config, targets []string) error {
	if series := l.missingLock(cfg, targets); series != "" {
		return noLock(series, "--offline does not make one", cfg)
	}
	return nil
}

// EnsureLock is a build's step before make: when cfg installs the agent,
// targets can reach it and its series has no lock, it makes the lock if
// the package index answers, and says so. When the index does not answer
// the build stops there, before make, naming the command to run.
func (l *Locker) EnsureLock(ctx context.Context, cfg *buildroot.Config, targets []string) error {
	series := l.missingLock(cfg, targets)
	if series == "" {
		return nil
	}
	l.Notes.Note("OpenStack series %s has no IPA lock: asking the package index %s", series, ipa.Redact(l.Settings.IPA.IndexURL))
	if err := ipa.ProbeIndex(ctx, nil, l.Settings.IPA.IndexURL); err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return noLock(series, fmt.Sprintf("ipabr cannot make one now (%v)", err), cfg)
	}
	l.Notes.Note("OpenStack series %s has no IPA lock: running %s first", series, LockCommand(series, cfg, nil))
	res, err := l.Lock(ctx, LockRequest{Series: series, Config: cfg})
	if err != nil {
		return err
	}
	l.Notes.Note("%s", strings.Join(res.Summary(), "\n"))
	return nil
}
