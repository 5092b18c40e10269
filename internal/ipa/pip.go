package ipa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/lazyregexp"
	"github.com/ipabr/ipabr/internal/process"
)

// pipShim runs pip with the target's environment markers. pip evaluates
// markers (python_version, ...) in requirements, constraints and the
// dependencies of wheels against the interpreter that runs it, even with
// --python-version; the image's Python is not the host's, so the shim
// makes packaging's default_environment() describe the target. Its first
// argument is the target's major.minor version. A pip whose markers stop
// asking default_environment() (a packaging that caches the environment
// is one refactor away) would silently resolve for the host, so the shim
// checks that a marker naming the target's Python evaluates true through
// the replacement, and stops with shimFailure otherwise.
const pipShim = `import runpy, sys
from pip._vendor.packaging import markers
_py = sys.argv.pop(1)
_host = markers.default_environment
_asked = []
def _target():
    _asked.append(True)
    env = _host()
    env.update({
        "python_version": _py, "python_full_version": _py + ".0",
        "implementation_name": "cpython", "implementation_version": _py + ".0",
        "platform_python_implementation": "CPython", "os_name": "posix",
        "sys_platform": "linux", "platform_system": "Linux",
        "platform_machine": "x86_64", "platform_release": "", "platform_version": "",
    })
    return env
markers.default_environment = _target
if not markers.Marker('python_version == "' + _py + '"').evaluate() or not _asked:
    sys.exit("` + shimFailure + `")
sys.argv[0] = "pip"
runpy.run_module("pip", run_name="__main__", alter_sys=True)
`

// shimFailure is the line the shim stops with when its replacement of the
// marker environment does not take effect.
const shimFailure = "ipabr: this pip evaluates markers without packaging.markers.default_environment"

// MinPip is the oldest pip that resolves without installing: pip install
// --dry-run --report came with pip 22.2. NewestPip is the newest release
// the tests ran (doc/ipa.md lists them).
const (
	MinPip    = "22.2"
	NewestPip = "26.2"
)

// pipEnv is the environment pip runs in: no user site-packages, so that
// the pip that runs is the interpreter's own, whoever runs ipabr.
var pipEnv = []string{"PYTHONNOUSERSITE=1"}

// Interpreter is the host Python an empty setting means.
func Interpreter(python string) string {
	if python == "" {
		return DefaultPython
	}
	return python
}

// DefaultPython is the interpreter `ipabr ipa lock` runs unless told otherwise.
const DefaultPython = "python3"

// PipInfo is what `python -m pip --version` says.
type PipInfo struct {
	Python  string // the interpreter as named
	Version string // pip's version, such as 23.0.1
	Host    string // the interpreter's Python, major.minor
}

// PipTooOldError is a pip older than MinPip.
type PipTooOldError struct{ Python, Version string }

func (e *PipTooOldError) Error() string {
	return fmt.Sprintf("pip %s of %s is too old: ipabr ipa lock needs pip %s or newer (for pip install --dry-run --report). "+
		"Make a virtual environment with a current pip and name its interpreter: %s -m venv ~/.venvs/ipabr && ~/.venvs/ipabr/bin/python -m pip install --upgrade pip, "+
		"then ipabr ipa lock --python ~/.venvs/ipabr/bin/python (or set ipa.python in ipabr.yaml, or IPABR_IPA_PYTHON). "+
		"A pip upgraded with pip install --user is not used: ipabr runs pip with PYTHONNOUSERSITE=1",
		e.Version, e.Python, MinPip, e.Python)
}

// NoPipError is an interpreter without pip.
type NoPipError struct {
	Python string // as named
	Path   string // the executable Python reported, if it did
}

func (e *NoPipError) Error() string {
	name := e.Python
	if e.Path != "" && e.Path != e.Python {
		name += " (" + e.Path + ")"
	}
	return fmt.Sprintf("pip is not installed for %s: install it (Debian, Ubuntu: apt-get install python3-pip; Fedora, RHEL: dnf install python3-pip) or name another interpreter with --python", name)
}

var (
	pipVersionRE = lazyregexp.New(`(?m)^pip ([0-9][^ ]*) from .* \(python ([0-9]+\.[0-9]+)\)\s*$`)
	noModuleRE   = lazyregexp.New(`(?m)^(?:(\S+): )?No module named '?pip(?:'|$)`)
	majorMinorRE = lazyregexp.New(`^[0-9]+\.[0-9]+`)
)

// CheckPip asks the interpreter for its pip's version, and fails when it
// has none or one older than MinPip.
func CheckPip(ctx context.Context, run process.Runner, python string) (*PipInfo, error) {
	python = Interpreter(python)
	var out bytes.Buffer
	c := process.Cmd{Name: python, Args: []string{"-m", "pip", "--version"}, Env: pipEnv, Stdout: &out, Stderr: &out}
	if err := run.Run(ctx, c); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if e := noPip(python, out.String()); e != nil {
			return nil, e
		}
		var pe *process.Error
		if errors.As(err, &pe) && process.ExitCode(err) < 0 {
			return nil, fmt.Errorf("cannot run %s: %v (install python3 and python3-pip, or name an interpreter with --python)", python, pe.Err)
		}
		return nil, fmt.Errorf("%s -m pip --version failed: %s", python, lastLines(out.String(), 3))
	}
	m := pipVersionRE.FindStringSubmatch(out.String())
	if m == nil {
		return nil, fmt.Errorf("%s -m pip --version printed %q, not pip's version line", python, lastLines(out.String(), 2))
	}
	info := &PipInfo{Python: python, Version: m[1], Host: m[2]}
	if versionBelow(info.Version, MinPip) {
		return info, &PipTooOldError{Python: python, Version: info.Version}
	}
	return info, nil
}

// noPip is the error for Python's "No module named pip", or nil.
func noPip(python, out string) error {
	m := noModuleRE.FindStringSubmatch(out)
	if m == nil {
		return nil
	}
	return &NoPipError{Python: python, Path: m[1]}
}

// versionBelow compares the major.minor of a version (26.3.dev0: 26.3)
// with another.
func versionBelow(v, min string) bool {
	m := majorMinorRE.FindString(v)
	return m == "" || VersionLess(m, min)
}

// PipRequest is one resolution.
type PipRequest struct {
	Python   string // the host interpreter with pip; default python3
	Target   Target
	IndexURL string
	CacheDir string // pip's cache; "" for pip's default
	// Requirements and Constraints are the contents of requirements.txt
	// and upper-constraints.txt.
	Requirements []byte
	Constraints  []byte
	// Args are further requirements: IPA itself (a requirement or a wheel).
	Args []string
	// Extras are the extra requirements (custom hardware managers).
	Extras []string
	// ExtraFrom names where each extra came from, for messages (a flag, a
	// .config symbol); "--extra" when it is not there.
	ExtraFrom map[string]string
	// Keep are name==version constraints that hold the previous lock's
	// versions of what upper-constraints does not pin.
	Keep []string
	// Dir holds the request's files and pip's report.
	Dir string
}

// Resolved is one wheel pip chose.
type Resolved struct {
	Name      string
	Version   string
	URL       string
	SHA256    string // "" when the index gave no hash
	License   string
	Requested bool
}

// ConflictError is a requirement that conflicts with another one or with
// upper-constraints; Causes are pip's lines, with the sides named.
type ConflictError struct {
	Causes []string
}

func (e *ConflictError) Error() string {
	return "the requirements conflict: " + strings.Join(e.Causes, "; ")
}

// NoWheelError is a requirement with no wheel for the target.
type NoWheelError struct {
	Requirement string
	Found       string // versions pip found usable, "none" or a list
	Target      Target
	Index       string
}

func (e *NoWheelError) Error() string {
	return fmt.Sprintf("no wheel of %s for the image (%s) on %s (usable versions found: %s). The image installs wheels only: lock with --extra naming a pure-Python alternative, or ask the project for a manylinux x86_64 wheel for Python %s",
		e.Requirement, e.Target, e.Index, e.Found, e.Target.Python)
}

// RequiresPythonError is a wheel whose Requires-Python pip found unmet:
// for the image's Python, or (pip before 24.2, which checks the
// interpreter that runs it despite --python-version) for the host's.
type RequiresPythonError struct {
	Package  string
	Spec     string // Requires-Python
	Checked  string // the Python version pip checked
	Target   Target
	HostOnly bool // pip checked the host's Python, not the image's
}

func (e *RequiresPythonError) Error() string {
	if e.HostOnly {
		return fmt.Sprintf("%s requires Python %s, and this pip checked that against the host's Python %s instead of the image's %s (pip before 24.2 does): upgrade the pip ipabr runs (python -m pip install --upgrade pip in its virtual environment, doc/ipa.md), or name a host Python that satisfies %s with --python",
			e.Package, e.Spec, e.Checked, e.Target.Python, e.Spec)
	}
	return fmt.Sprintf("%s requires Python %s; the image has Python %s: lock a release that supports it (--ipa-version), or build another Python", e.Package, e.Spec, e.Target.Python)
}

// PipError is any other failure of pip; Output holds its last lines.
type PipError struct {
	Cmd    string
	Output string
}

// ErrorDetail is pip's command line, shown with --verbose.
func (e *PipError) ErrorDetail() string { return e.Cmd }

func (e *PipError) Error() string {
	return fmt.Sprintf("pip failed: %s", e.Output)
}

// PipArgs is pip's command line (after the shim) for r.
func (r *PipRequest) PipArgs() []string {
	args := []string{
		"install", "--dry-run", "--ignore-installed", "--isolated",
		"--disable-pip-version-check", "--no-input", "--progress-bar", "off",
		"--report", filepath.Join(r.Dir, "report.json"),
		"--target", filepath.Join(r.Dir, "target"),
		"--only-binary=:all:", "--implementation", "cp",
		"--python-version", r.Target.Python,
		// The image's ABI: without it pip takes the host's, and a
		// free-threaded host (cp314t) rejects cp314 and abi3 wheels.
		"--abi", r.Target.ABI(),
	}
	for _, p := range r.Target.Platforms() {
		args = append(args, "--platform", p)
	}
	args = append(args, "--index-url", r.IndexURL, "--retries", "1", "--timeout", "30")
	if r.CacheDir != "" {
		args = append(args, "--cache-dir", r.CacheDir)
	}
	args = append(args, "-c", filepath.Join(r.Dir, ConstraintsPath))
	if len(r.Keep) > 0 {
		args = append(args, "-c", filepath.Join(r.Dir, keepPath))
	}
	args = append(args, "-r", filepath.Join(r.Dir, RequirementsPath))
	args = append(args, r.Args...)
	return append(args, r.Extras...)
}

// Cmd is the process for r: python3 -c <shim> <target python> <pip args>.
func (r *PipRequest) Cmd() process.Cmd {
	return process.Cmd{
		Name: Interpreter(r.Python),
		Args: append([]string{"-c", pipShim, r.Target.Python}, r.PipArgs()...),
		Env:  pipEnv,
	}
}

// keepPath is the constraints file of PipRequest.Keep.
const keepPath = "previous-lock.txt"

// Resolve runs pip's resolver (no installation) and returns the wheels it
// chose, sorted by name.
func Resolve(ctx context.Context, run process.Runner, r *PipRequest) ([]Resolved, error) {
	if err := os.WriteFile(filepath.Join(r.Dir, RequirementsPath), r.Requirements, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(r.Dir, ConstraintsPath), r.Constraints, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(r.Dir, keepPath), []byte(strings.Join(r.Keep, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	c := r.Cmd()
	c.Stdout, c.Stderr = &out, &out
	if err := run.Run(ctx, c); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var pe *process.Error
		if errors.As(err, &pe) && process.ExitCode(err) < 0 {
			return nil, fmt.Errorf("cannot run %s with pip: %v (install python3 and python3-pip, or name an interpreter with --python)", c.Name, pe.Err)
		}
		err := classifyPip(out.String(), r)
		var ce *ConflictError
		if errors.As(err, &ce) {
			err = wheelless(ctx, nil, ce, r)
		}
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(r.Dir, "report.json"))
	if err != nil {
		return nil, fmt.Errorf("pip wrote no report: %v", err)
	}
	return ParseReport(data, r.Target.Python)
}

var (
	noMatchRE     = lazyregexp.New(`(?m)^ERROR: No matching distribution found for (\S+)`)
	noVersionRE   = lazyregexp.New(`(?m)^ERROR: Could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)`)
	requiresRE    = lazyregexp.New(`(?m)^ERROR: Package '([^']+)' requires a different Python: (\S+) not in '([^']*)'`)
	userReqRE     = lazyregexp.New(`^The user requested \(constraint\) (.+)$`)
	userRequestRE = lazyregexp.New(`^The user requested (.+)$`)
)

// classifyPip turns pip's output into the error it means.
func classifyPip(out string, r *PipRequest) error {
	if e := noPip(Interpreter(r.Python), out); e != nil {
		return e
	}
	if strings.Contains(out, shimFailure) {
		return fmt.Errorf("%s: the lock would be resolved for the host's Python, not the image's; name an interpreter with pip %s to %s with --python", shimFailure, MinPip, NewestPip)
	}
	if causes := conflictCauses(out, r.Extras, r.ExtraFrom, r.Keep); len(causes) > 0 {
		return &ConflictError{Causes: causes}
	}
	if m := noMatchRE.FindStringSubmatch(out); m != nil {
		found := "none"
		if v := noVersionRE.FindStringSubmatch(out); v != nil && strings.TrimSpace(v[2]) != "" {
			found = strings.TrimSpace(v[2])
		}
		return &NoWheelError{Requirement: m[1], Found: found, Target: r.Target, Index: r.IndexURL}
	}
	if m := requiresRE.FindStringSubmatch(out); m != nil {
		host := !strings.HasPrefix(m[2]+".", r.Target.Python+".")
		return &RequiresPythonError{Package: m[1], Checked: m[2], Spec: m[3], Target: r.Target, HostOnly: host}
	}
	return &PipError{Cmd: r.Cmd().String(), Output: lastLines(out, 6)}
}

// conflictCauses reads pip's "The conflict is caused by:" block, naming
// each side: upper-constraints, the previous lock (keep), a requirement
// (requirements.txt or an extra, named by where it came from), or the
// package whose dependency it is.
func conflictCauses(out string, extras []string, from map[string]string, keep []string) []string {
	extraFrom := map[string]string{}
	for _, e := range extras {
		name := from[e]
		if name == "" {
			name = "--extra"
		}
		extraFrom[strings.Join(strings.Fields(e), "")] = name
	}
	isKept := map[string]bool{}
	for _, k := range keep {
		isKept[k] = true
	}
	_, block, ok := strings.Cut(out, "The conflict is caused by:")
	if !ok {
		return nil
	}
	var causes []string
	for _, line := range strings.Split(block, "\n")[1:] {
		line = strings.TrimSpace(line)
		if line == "" {
			if len(causes) > 0 {
				break
			}
			continue
		}
		if strings.HasPrefix(line, "To fix this") || strings.HasPrefix(line, "ERROR:") {
			break
		}
		switch {
		case userReqRE.MatchString(line) && isKept[userReqRE.FindStringSubmatch(line)[1]]:
			line = "the previous lock keeps " + userReqRE.FindStringSubmatch(line)[1] + " (upper-constraints does not pin it; --upgrade-unpinned lets it move)"
		case userReqRE.MatchString(line):
			line = "upper-constraints pins " + userReqRE.FindStringSubmatch(line)[1]
		case userRequestRE.MatchString(line):
			req := userRequestRE.FindStringSubmatch(line)[1]
			if name, ok := extraFrom[strings.Join(strings.Fields(req), "")]; ok {
				line = name + " " + req
			} else {
				line = "requirement " + req + " (IPA's requirements.txt or IPA itself)"
			}
		}
		causes = append(causes, line)
	}
	return causes
}

func lastLines(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, " | ")
}

// report is the part of pip's installation report (--report) read here.
type report struct {
	Version     string `json:"version"`
	Environment struct {
		PythonVersion string `json:"python_version"`
	} `json:"environment"`
	Install []struct {
		DownloadInfo struct {
			URL         string `json:"url"`
			ArchiveInfo *struct {
				Hash   string            `json:"hash"`
				Hashes map[string]string `json:"hashes"`
			} `json:"archive_info"`
		} `json:"download_info"`
		Requested bool           `json:"requested"`
		Metadata  map[string]any `json:"metadata"`
	} `json:"install"`
}

// ParseReport reads pip's installation report of a resolution for the
// target's Python (major.minor): version 0 (pip 22.2 and 22.3) or 1. The
// marker environment the report names must be the target's.
func ParseReport(data []byte, python string) ([]Resolved, error) {
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("pip's report is not JSON: %v", err)
	}
	if rep.Version != "0" && rep.Version != "1" {
		return nil, fmt.Errorf("pip's report has version %q; ipabr reads versions 0 and 1 (pip %s to %s)", rep.Version, MinPip, NewestPip)
	}
	if got := rep.Environment.PythonVersion; got != python {
		return nil, fmt.Errorf("pip resolved with the marker environment of Python %q, not the image's %s: the lock would be the host's; name an interpreter with pip %s to %s with --python", got, python, MinPip, NewestPip)
	}
	var out []Resolved
	for _, it := range rep.Install {
		r := Resolved{
			Name:      metaString(it.Metadata, "name"),
			Version:   metaString(it.Metadata, "version"),
			URL:       it.DownloadInfo.URL,
			Requested: it.Requested,
			License:   License(metaString(it.Metadata, "license_expression"), metaString(it.Metadata, "license"), metaList(it.Metadata, "classifier")),
		}
		if r.Name == "" || r.Version == "" || r.URL == "" {
			return nil, fmt.Errorf("pip's report has an entry without name, version or URL: %+v", it.DownloadInfo)
		}
		if ai := it.DownloadInfo.ArchiveInfo; ai != nil {
			if h := ai.Hashes["sha256"]; h != "" {
				r.SHA256 = h
			} else if h, ok := strings.CutPrefix(ai.Hash, "sha256="); ok {
				r.SHA256 = h
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func metaString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return strings.TrimSpace(s)
}

func metaList(m map[string]any, k string) []string {
	var out []string
	switch v := m[k].(type) {
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		out = append(out, v)
	}
	return out
}

// License is a short license name from a wheel's metadata, by the rule the
// install script shares: License-Expression; else the License field with
// its whitespace collapsed, if at most 64 characters; else the last part of
// each License :: classifier; else unknown.
func License(expression, field string, classifiers []string) string {
	if expression != "" {
		return oneSpace(expression)
	}
	if field = oneSpace(field); field != "" && len(field) <= 64 && !strings.EqualFold(field, "UNKNOWN") {
		return field
	}
	var names []string
	for _, c := range classifiers {
		parts := strings.Split(c, "::")
		if len(parts) >= 2 && strings.TrimSpace(parts[0]) == "License" {
			name := strings.TrimSpace(parts[len(parts)-1])
			if name != "" && name != "OSI Approved" {
				names = append(names, name)
			}
		}
	}
	if len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "unknown"
}

func oneSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
