package ipa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/lazyregexp"
	"github.com/ipabr/ipabr/internal/process"
)

// Options are the inputs of one lock.
type Options struct {
	Series          string
	RequirementsURL string // IPA's repository (or a {series}/{branch} file URL)
	ConstraintsURL  string // openstack/requirements (or a file URL)
	IndexURL        string // a PEP 503 simple index
	// IPAVersion pins the IPA release; empty: the newest release tag on
	// the series' branch. With GitURL it is the version the build stamps.
	IPAVersion string
	// GitURL and GitRef build IPA from git instead (--ipa-source).
	GitURL, GitRef string
	Extras         []string
	// ExtraFrom names where each extra came from (see PipRequest).
	ExtraFrom map[string]string
	// Previous is the lock being replaced, if any: the wheels
	// upper-constraints does not pin stay at its versions.
	Previous *Lock
	Target   Target
	Python   string // host interpreter with pip; default python3
	CacheDir string // pip's cache; "" for pip's default
	Runner   process.Runner
	HTTP     *http.Client
	Now      func() time.Time
	// Progress receives one line per step.
	Progress func(string)
}

func (o *Options) say(format string, a ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, a...))
	}
}

// ParseSource splits --ipa-source URL@REF at its last '@' (URLs may carry
// user@host before it).
func ParseSource(s string) (gitURL, ref string, err error) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 || strings.Contains(s[i+1:], ":") {
		return "", "", errs.BadInputf("%q is not a git source: write GIT_URL@REF (a branch, tag, refs/... or commit id), such as https://opendev.org/openstack/ironic-python-agent@master", s)
	}
	gitURL, ref = s[:i], s[i+1:]
	if strings.ContainsAny(gitURL+ref, " \t\n'\"$#\\") {
		return "", "", errs.BadInputf("%q has spaces, quotes or make/shell characters", s)
	}
	return gitURL, ref, nil
}

var versionRE = lazyregexp.New(`^[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$`)

// ValidateVersion checks an IPA release version (--ipa-version).
func ValidateVersion(v string) error {
	if !versionRE.MatchString(v) {
		return errs.BadInputf("%q is not a release version such as 11.1.0", v)
	}
	return nil
}

// MakeLock fetches the series' requirements and constraints, resolves them
// with pip and returns the lock; nothing is written.
func MakeLock(ctx context.Context, o Options) (*Lock, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	work, err := os.MkdirTemp("", "ipabr-lock-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	pip, err := CheckPip(ctx, o.Runner, o.Python)
	if err != nil {
		return nil, err
	}
	o.say("pip %s of %s (Python %s)", pip.Version, pip.Python, pip.Host)

	o.say("checking the package index %s", Redact(o.IndexURL))
	if err := ProbeIndex(ctx, o.HTTP, o.IndexURL); err != nil {
		return nil, err
	}

	agent, err := o.agentRequirements(ctx, work)
	if err != nil {
		return nil, err
	}

	o.say("fetching %s of %s from %s", ConstraintsPath, Branch(o.Series), o.ConstraintsURL)
	uc, err := FetchSeriesFile(ctx, o.ConstraintsURL, o.Series, ConstraintsPath, FetchOptions{HTTP: o.HTTP})
	if err != nil {
		return nil, err
	}

	extras, extraFrom, localExtras, err := o.extras()
	if err != nil {
		return nil, err
	}
	pinned := constraintNames(uc.Data)
	keep := o.keepUnpinned(pinned)

	o.say("resolving with pip for %s from %s", o.Target, Redact(o.IndexURL))
	if err := os.MkdirAll(filepath.Join(work, "pip"), 0o755); err != nil {
		return nil, err
	}
	resolved, err := Resolve(ctx, o.Runner, &PipRequest{
		Python:       o.Python,
		Target:       o.Target,
		IndexURL:     o.IndexURL,
		CacheDir:     o.CacheDir,
		Requirements: agent.requirements,
		Constraints:  uc.Data,
		Args:         []string{agent.arg},
		Extras:       extras,
		Keep:         keep,
		ExtraFrom:    extraFrom,
		Dir:          filepath.Join(work, "pip"),
	})
	if err != nil {
		return nil, err
	}

	lock := &Lock{
		Series:       o.Series,
		Created:      o.Now().UTC().Truncate(time.Second),
		Target:       o.Target,
		Index:        Redact(o.IndexURL),
		IPAVersion:   agent.version,
		IPARequested: o.IPAVersion,
		Extras:       lockExtras(o.Extras),
	}
	if agent.checkout != nil {
		lock.GitURL, lock.GitRef, lock.GitCommit = o.GitURL, o.GitRef, agent.checkout.Commit
	}
	if err := o.addWheels(lock, resolved, append(agent.local, localExtras...)); err != nil {
		return nil, err
	}
	for _, w := range lock.Wheels {
		if floats(pinned, w) {
			lock.Unpinned = append(lock.Unpinned, w.Name)
		}
	}
	o.say("reading the sizes of %d wheels", len(lock.Wheels))
	if err := fillInfo(ctx, o.HTTP, lock.Wheels); err != nil {
		return nil, err
	}
	o.say("checking that no two wheels install the same file")
	if err := checkOverlaps(ctx, o.HTTP, lock.Wheels); err != nil {
		return nil, err
	}
	return lock, lock.Check()
}

// validate refuses a series, target, version or extra that cannot be
// locked, before anything is fetched.
func (o *Options) validate() error {
	if err := ValidateSeries(o.Series); err != nil {
		return err
	}
	if err := ValidatePython(o.Target.Python); err != nil {
		return err
	}
	if err := ValidateGlibc(o.Target.Glibc); err != nil {
		return err
	}
	if o.IPAVersion != "" {
		if err := ValidateVersion(o.IPAVersion); err != nil {
			return err
		}
	}
	for _, e := range o.Extras {
		if err := ValidateExtra(e); err != nil {
			return err
		}
	}
	return nil
}

// agentSource is what pip is asked to install as the agent.
type agentSource struct {
	requirements []byte    // IPA's requirements.txt
	arg          string    // ironic-python-agent==X.Y.Z, or the built wheel's path
	version      string    // the version locked
	local        []string  // wheels that are not on the index
	checkout     *Checkout // the git source, when built from one
}

// agentRequirements reads IPA's requirements from the series' branch (and
// finds the newest release there unless one is named), or checks out the
// git source and builds its wheel in work.
func (o *Options) agentRequirements(ctx context.Context, work string) (*agentSource, error) {
	if o.GitURL == "" {
		o.say("fetching %s of %s from %s", RequirementsPath, Branch(o.Series), o.RequirementsURL)
		f, err := FetchSeriesFile(ctx, o.RequirementsURL, o.Series, RequirementsPath, FetchOptions{Release: o.IPAVersion == "", HTTP: o.HTTP})
		if err != nil {
			return nil, err
		}
		version := o.IPAVersion
		if version == "" {
			if version = f.Release; version == "" {
				return nil, fmt.Errorf("found no IPA release tag (X.Y.Z) on %s of %s; name the release with --ipa-version", Branch(o.Series), o.RequirementsURL)
			}
			o.say("IPA's newest release on %s: %s", Branch(o.Series), version)
		}
		return &agentSource{requirements: f.Data, arg: Package + "==" + version, version: version}, nil
	}
	o.say("fetching %s@%s", o.GitURL, o.GitRef)
	co, err := CheckoutSource(ctx, o.GitURL, o.GitRef, filepath.Join(work, "src"))
	if err != nil {
		return nil, err
	}
	if o.IPAVersion != "" {
		co.Version = o.IPAVersion
	}
	reqs, err := os.ReadFile(filepath.Join(co.Dir, RequirementsPath))
	if err != nil {
		return nil, fmt.Errorf("%s@%s has no %s", o.GitURL, o.GitRef, RequirementsPath)
	}
	o.say("building the IPA wheel %s from commit %s", co.Version, co.Commit[:12])
	wheel, err := buildWheel(ctx, o, co, filepath.Join(work, "dist"))
	if err != nil {
		return nil, err
	}
	return &agentSource{requirements: reqs, arg: wheel, version: co.Version, local: []string{wheel}, checkout: co}, nil
}

// extras are the extra requirements as pip gets them (a .whl file by its
// absolute path, which must exist), where each came from, and the local
// wheels among them.
func (o *Options) extras() (extras []string, from map[string]string, local []string, err error) {
	from = map[string]string{}
	for _, e := range o.Extras {
		if !strings.HasSuffix(e, ".whl") {
			extras = append(extras, e)
			from[e] = o.ExtraFrom[e]
			continue
		}
		abs, err := filepath.Abs(e)
		if err != nil {
			return nil, nil, nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, nil, nil, errs.BadInputf("extra requirement %s: %v", e, err)
		}
		local = append(local, abs)
		extras = append(extras, abs)
		from[abs] = o.ExtraFrom[e]
	}
	return extras, from, local, nil
}

// keepUnpinned is the previous lock's versions of what upper-constraints
// leaves open, as pip constraints.
func (o *Options) keepUnpinned(pinned map[string]bool) []string {
	if o.Previous == nil {
		return nil
	}
	var keep []string
	for _, w := range o.Previous.Wheels {
		if floats(pinned, w) {
			keep = append(keep, w.Name+"=="+w.Version)
		}
	}
	if len(keep) > 0 {
		o.say("keeping the previous lock's %s (upper-constraints does not pin them)", strings.Join(keep, ", "))
	}
	return keep
}

// addWheels turns pip's resolution into the lock's wheels, sorted by name:
// an index wheel by its URL, a local one (from local) by its content.
func (o *Options) addWheels(lock *Lock, resolved []Resolved, local []string) error {
	isLocal := map[string]string{}
	for _, p := range local {
		isLocal[filepath.Base(p)] = p
	}
	haveIPA := false
	for _, r := range resolved {
		w := Wheel{Name: r.Name, Version: r.Version, SHA256: r.SHA256, License: r.License}
		var err error
		if strings.HasPrefix(r.URL, "file://") {
			w.Filename = filepath.Base(r.URL)
			p, ok := isLocal[w.Filename]
			if !ok {
				return fmt.Errorf("pip chose the local file %s, which is not a wheel ipabr passed it", r.URL)
			}
			if w.Local, err = os.ReadFile(p); err != nil {
				return err
			}
			w.SHA256 = ""
			w.URL = LocalURL(o.Series, w.Filename)
		} else {
			w.URL, _, _ = strings.Cut(r.URL, "#")
			if w.Filename, err = WheelFilename(w.URL); err != nil {
				return err
			}
		}
		if normalize(r.Name) == Package {
			haveIPA = true
			lock.IPAVersion = r.Version
		}
		lock.Wheels = append(lock.Wheels, w)
	}
	if !haveIPA {
		return errors.New("pip's resolution does not include ironic-python-agent")
	}
	sort.Slice(lock.Wheels, func(i, j int) bool { return normalize(lock.Wheels[i].Name) < normalize(lock.Wheels[j].Name) })
	return nil
}

var constraintNameRE = lazyregexp.New(`^([A-Za-z0-9][A-Za-z0-9._-]*)\s*[=<>!~]`)

// constraintNames are the projects a constraints file pins (normalized).
func constraintNames(data []byte) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if m := constraintNameRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			out[normalize(m[1])] = true
		}
	}
	return out
}

// floats reports whether a wheel is one upper-constraints leaves open: not
// pinned there, not IPA itself, not a wheel kept with the lock.
func floats(pinned map[string]bool, w Wheel) bool {
	n := normalize(w.Name)
	return !pinned[n] && n != Package && !strings.HasPrefix(w.URL, "file+")
}

// Redact drops a password from a URL: the lock and the messages name
// the index without its credentials.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// lockExtras records --extra values: wheel files by file name.
func lockExtras(extras []string) []string {
	var out []string
	for _, e := range extras {
		if strings.HasSuffix(e, ".whl") {
			e = filepath.Base(e)
		}
		out = append(out, e)
	}
	return out
}

var normRE = lazyregexp.New(`[-_.]+`)

// normalize is PEP 503's project name normalization.
func normalize(name string) string { return strings.ToLower(normRE.ReplaceAllString(name, "-")) }

// buildWheel builds IPA's wheel from a checkout with pip on the host (its
// build dependencies come from the index) and returns its path. IPA is pure
// Python, so a wheel built on the host is the target's.
func buildWheel(ctx context.Context, o *Options, co *Checkout, out string) (string, error) {
	// --ignore-requires-python: the wheel is the image's, whose Python the
	// resolution checks it against; the host's may be older (RHEL 9's 3.9
	// for IPA 2026.1's >=3.10).
	args := []string{"-m", "pip", "wheel", "--no-deps", "--ignore-requires-python", "--isolated", "--disable-pip-version-check",
		"--no-input", "--progress-bar", "off", "--wheel-dir", out, "--index-url", o.IndexURL}
	if o.CacheDir != "" {
		args = append(args, "--cache-dir", o.CacheDir)
	}
	var buf bytes.Buffer
	c := process.Cmd{
		Name: Interpreter(o.Python), Args: append(args, co.Dir), Dir: co.Dir,
		Env: append([]string{"PBR_VERSION=" + co.Version, "SETUPTOOLS_SCM_PRETEND_VERSION=" + co.Version,
			fmt.Sprintf("SOURCE_DATE_EPOCH=%d", co.Time.Unix())}, pipEnv...),
		Stdout: &buf, Stderr: &buf,
	}
	if err := o.Runner.Run(ctx, c); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("building IPA from %s@%s failed: %s", o.GitURL, o.GitRef, lastLines(buf.String(), 6))
	}
	wheels, _ := filepath.Glob(filepath.Join(out, "*.whl"))
	if len(wheels) != 1 {
		return "", fmt.Errorf("building IPA from %s@%s made %d wheels, want one", o.GitURL, o.GitRef, len(wheels))
	}
	name := filepath.Base(wheels[0])
	if !strings.HasSuffix(name, "-none-any.whl") || !strings.HasPrefix(strings.ToLower(name), "ironic_python_agent-") {
		return "", fmt.Errorf("building IPA from %s@%s made %s, not a pure-Python ironic_python_agent wheel", o.GitURL, o.GitRef, name)
	}
	if _, err := WheelFilename("file:///" + name); err != nil {
		return "", fmt.Errorf("the wheel built from git is named %s: %v (set --ipa-version to a plain version)", name, err)
	}
	return wheels[0], nil
}
