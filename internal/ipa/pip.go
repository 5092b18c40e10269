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
// argument is the target's major.minor version.
const pipShim = `import runpy, sys
from pip._vendor.packaging import markers
_py = sys.argv.pop(1)
_host = markers.default_environment
def _target():
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
sys.argv[0] = "pip"
runpy.run_module("pip", run_name="__main__", alter_sys=True)
`

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
	// Extras are the --extra requirements (custom hardware managers).
	Extras []string
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

// PipError is any other failure of pip; Output holds its last lines.
type PipError struct {
	Cmd    string
	Output string
}

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
	}
	for _, p := range r.Target.Platforms() {
		args = append(args, "--platform", p)
	}
	args = append(args, "--index-url", r.IndexURL, "--retries", "1", "--timeout", "30")
	if r.CacheDir != "" {
		args = append(args, "--cache-dir", r.CacheDir)
	}
	args = append(args,
		"-c", filepath.Join(r.Dir, ConstraintsPath),
		"-r", filepath.Join(r.Dir, RequirementsPath))
	args = append(args, r.Args...)
	return append(args, r.Extras...)
}

// Cmd is the process for r: python3 -c <shim> <target python> <pip args>.
func (r *PipRequest) Cmd() process.Cmd {
	py := r.Python
	if py == "" {
		py = "python3"
	}
	return process.Cmd{
		Name: py,
		Args: append([]string{"-c", pipShim, r.Target.Python}, r.PipArgs()...),
		Env:  []string{"PYTHONNOUSERSITE=1"},
	}
}

// Resolve runs pip's resolver (no installation) and returns the wheels it
// chose, sorted by name.
func Resolve(ctx context.Context, run process.Runner, r *PipRequest) ([]Resolved, error) {
	if err := os.WriteFile(filepath.Join(r.Dir, RequirementsPath), r.Requirements, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(r.Dir, ConstraintsPath), r.Constraints, 0o644); err != nil {
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
			return nil, fmt.Errorf("cannot run %s with pip: %v (install python3 and python3-pip)", c.Name, pe.Err)
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
	return ParseReport(data)
}

var (
	noMatchRE     = lazyregexp.New(`(?m)^ERROR: No matching distribution found for (\S+)`)
	noVersionRE   = lazyregexp.New(`(?m)^ERROR: Could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)`)
	noModuleRE    = lazyregexp.New(`No module named pip|No module named 'pip`)
	userReqRE     = lazyregexp.New(`^The user requested \(constraint\) (.+)$`)
	userRequestRE = lazyregexp.New(`^The user requested (.+)$`)
)

// classifyPip turns pip's output into the error it means.
func classifyPip(out string, r *PipRequest) error {
	if noModuleRE.MatchString(out) {
		return fmt.Errorf("pip is not installed for %s (Debian: apt-get install python3-pip)", r.Python)
	}
	if causes := conflictCauses(out, r.Extras); len(causes) > 0 {
		return &ConflictError{Causes: causes}
	}
	if m := noMatchRE.FindStringSubmatch(out); m != nil {
		found := "none"
		if v := noVersionRE.FindStringSubmatch(out); v != nil && strings.TrimSpace(v[2]) != "" {
			found = strings.TrimSpace(v[2])
		}
		return &NoWheelError{Requirement: m[1], Found: found, Target: r.Target, Index: r.IndexURL}
	}
	return &PipError{Cmd: r.Cmd().String(), Output: lastLines(out, 6)}
}

// conflictCauses reads pip's "The conflict is caused by:" block, naming
// each side: upper-constraints, a requirement (requirements.txt or
// --extra), or the package whose dependency it is.
func conflictCauses(out string, extras []string) []string {
	isExtra := map[string]bool{}
	for _, e := range extras {
		isExtra[strings.Join(strings.Fields(e), "")] = true
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
		case userReqRE.MatchString(line):
			line = "upper-constraints pins " + userReqRE.FindStringSubmatch(line)[1]
		case userRequestRE.MatchString(line):
			req := userRequestRE.FindStringSubmatch(line)[1]
			if isExtra[strings.Join(strings.Fields(req), "")] {
				line = "--extra " + req
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
	Version string `json:"version"`
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

// ParseReport reads pip's installation report.
func ParseReport(data []byte) ([]Resolved, error) {
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("pip's report is not JSON: %v", err)
	}
	if rep.Version != "1" {
		return nil, fmt.Errorf("pip's report has version %q; ipabr reads version 1 (pip 23.0 or newer)", rep.Version)
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
