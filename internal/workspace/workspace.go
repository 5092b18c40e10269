// Package workspace owns a Buildroot output directory: its lock, every make
// call in it, its configuration (reading, loading a defconfig, editing with
// Buildroot's kconfig tools), the build-farm settings, the agent's lock and
// the build itself. Commands open a Workspace, call it and print what it
// returns; it never prints, and reports progress through Notes and
// BuildObserver.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
)

// Notes receives what the workspace has to say besides its results.
type Notes interface {
	// Note is progress a user may want (--quiet drops it).
	Note(format string, a ...any)
	// Warn is something that may need the user's attention.
	Warn(format string, a ...any)
	// Detail is only for --verbose.
	Detail(format string, a ...any)
	// Raw receives make's own output besides the log; nil: the log only.
	Raw() io.Writer
}

// Silent drops every note.
type Silent struct{}

func (Silent) Note(string, ...any)   {}
func (Silent) Warn(string, ...any)   {}
func (Silent) Detail(string, ...any) {}
func (Silent) Raw() io.Writer        { return nil }

// Workspace is an output directory with its lock held.
type Workspace struct {
	Settings *config.Settings
	Dir      string
	Make     buildroot.Make
	Runner   process.Runner
	Notes    Notes
	Now      func() time.Time
	// IpabrVersion is ipabr's own version, recorded in the SBOM.
	IpabrVersion string
	lock         *project.Lock
}

// Options open a workspace.
type Options struct {
	Runner process.Runner
	Notes  Notes            // nil: Silent
	Now    func() time.Time // nil: time.Now
	// IpabrVersion is ipabr's own version, recorded in the SBOM.
	IpabrVersion string
	// Unique opens a fresh output/<unix-time>-XXXXXX instead of the
	// configured output directory.
	Unique bool
}

// hostOS is the system ipabr runs on; tests replace it.
var hostOS = runtime.GOOS

// RequireBuildroot fails (not configured) when the Buildroot checkout is
// missing, and on a system Buildroot does not build on: ipabr itself
// builds for macOS and the BSDs, where init, env and status work.
func RequireBuildroot(s *config.Settings) error {
	if hostOS != "linux" {
		return errs.NotConfiguredf("Buildroot builds only on Linux, and this is %s: run this command on a Linux machine or in a Linux VM or container", hostOS)
	}
	if _, err := os.Stat(filepath.Join(s.Project.Buildroot, "Makefile")); err != nil {
		return errs.NotConfiguredf("Buildroot is not checked out in %s; run 'ipabr init' first", s.Project.Rel(s.Project.Buildroot))
	}
	return nil
}

// MakeFor is the make driver for an output directory.
func MakeFor(s *config.Settings, dir string) buildroot.Make {
	p := s.Project
	return buildroot.Make{Buildroot: p.Buildroot, External: p.External, Output: dir, DL: p.DL, CCache: p.CCache}
}

// Open takes the lock of the configured output directory (or a fresh one,
// with Unique). Another ipabr holding the lock makes it fail at once.
func Open(s *config.Settings, o Options) (*Workspace, error) {
	if err := RequireBuildroot(s); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Notes == nil {
		o.Notes = Silent{}
	}
	dir := s.Project.Output
	if o.Unique {
		var err error
		if dir, err = s.Project.NewUniqueOutput(o.Now()); err != nil {
			return nil, errs.Failedf("creating a unique output directory: %w", err)
		}
	}
	lock, err := project.LockOutput(dir, s.Project.Rel(dir))
	var inUse *project.InUseError
	if errors.As(err, &inUse) {
		return nil, errs.Failedf("%w", err)
	}
	if err != nil {
		return nil, errs.At(s.Origin("output"), err)
	}
	return &Workspace{Settings: s, Dir: dir, Make: MakeFor(s, dir), Runner: o.Runner, Notes: o.Notes, Now: o.Now, IpabrVersion: o.IpabrVersion, lock: lock}, nil
}

// Close releases the lock.
func (w *Workspace) Close() { w.lock.Release() }

// Rel shows a path of the project relative to its root.
func (w *Workspace) Rel(path string) string { return w.Settings.Project.Rel(path) }

// ConfigFile is the output's .config.
func (w *Workspace) ConfigFile() string { return filepath.Join(w.Dir, ".config") }

// Config reads the output's .config; ok is false when there is none.
func (w *Workspace) Config() (cfg *buildroot.Config, ok bool, err error) {
	cfg, err = buildroot.ReadConfigFile(w.ConfigFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, errs.Failedf("reading %s: %v", w.Rel(w.ConfigFile()), err)
	}
	return cfg, true, nil
}

// RequireConfig returns the output's configuration, or the error that says
// to configure first.
func (w *Workspace) RequireConfig() (*buildroot.Config, error) {
	cfg, ok, err := w.Config()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, NotConfigured(w.Settings, w.Dir)
	}
	return cfg, nil
}

// CheckPackages refuses (bad input, naming the argument) any name that
// is not a package of the configured output cfg (buildroot.CheckPackage),
// so that a typo fails at once instead of after make has parsed
// Buildroot.
func (w *Workspace) CheckPackages(cfg *buildroot.Config, names []string) error {
	p := w.Settings.Project
	pkgs, err := buildroot.FindPackages(p.Buildroot, p.External)
	if err != nil {
		return errs.Failedf("listing the packages of %s: %w", w.Rel(p.Buildroot), err)
	}
	for _, name := range names {
		if err := buildroot.CheckPackage(pkgs, cfg, name); err != nil {
			return errs.At(errs.Arg("PKG"), err)
		}
	}
	return nil
}

// NotConfigured is the error for an output without a configuration.
func NotConfigured(s *config.Settings, dir string) error {
	return errs.NotConfiguredf("%s is not configured yet; run 'ipabr configure' (or 'ipabr build') first", s.Project.Rel(dir))
}

// EditConfig applies edits to the output's .config with Buildroot's
// utils/config and olddefconfig (buildroot.Make.EditConfig) and returns
// what changed. A failure is returned as the runner reported it, command
// line included: callers whose edits carry a secret must redact it.
func (w *Workspace) EditConfig(ctx context.Context, edits ...buildroot.Edit) ([]buildroot.ConfigChange, error) {
	before, _, err := w.Config()
	if err != nil {
		return nil, err
	}
	if err := w.Make.EditConfig(ctx, w.Runner, edits...); err != nil {
		return nil, err
	}
	after, _, err := w.Config()
	if err != nil {
		return nil, err
	}
	return buildroot.DiffConfig(before, after), nil
}

// RunMake runs make ARGS in the output with its output on stdout and
// stderr, in its own process group (Ctrl-C stops every child).
func (w *Workspace) RunMake(ctx context.Context, stdout, stderr io.Writer, args ...string) error {
	c := w.Make.Cmd(args...)
	c.Stdout, c.Stderr = stdout, stderr
	c.Group = true
	if err := w.Runner.Run(ctx, c); err != nil {
		return MakeFailure(err)
	}
	return nil
}

// CheckDeletingGoals refuses make arguments that delete (clean, distclean,
// PKG-dirclean) unless dir is an output this project configured
// (project.CheckOwnOutput): Buildroot's clean removes build/, images/,
// host/, target/ and more wherever O= points.
func CheckDeletingGoals(p *project.Project, dir string, args []string) error {
	for _, a := range args {
		if a == "clean" || a == "distclean" || strings.HasSuffix(a, "-dirclean") {
			if err := p.CheckOwnOutput(dir); err != nil {
				return errs.BadInputf("refusing to run make %s: %w", a, err)
			}
		}
	}
	return nil
}

// Output runs a quiet make ARGS and returns what it printed.
func (w *Workspace) Output(ctx context.Context, args ...string) (string, error) {
	out, err := process.Output(ctx, w.Runner, w.Make.QuietCmd(args...))
	if err != nil {
		return "", MakeFailure(err)
	}
	return out, nil
}

// Defconfigs runs Buildroot's list-defconfigs with the external tree, in a
// scratch output directory so that listing changes nothing.
func Defconfigs(ctx context.Context, r process.Runner, s *config.Settings) ([]buildroot.Defconfig, error) {
	if err := RequireBuildroot(s); err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "ipabr-list-")
	if err != nil {
		return nil, errs.Failedf("%w", err)
	}
	defer os.RemoveAll(scratch)
	out, err := process.Output(ctx, r, MakeFor(s, scratch).QuietCmd("list-defconfigs"))
	if err != nil {
		return nil, MakeFailure(err)
	}
	return buildroot.ParseDefconfigs(out), nil
}

// MakeFailure is a failed make as a failed step: its exit status and last
// line of stderr, with the command line as detail for -v. An interrupted
// make stays an interruption.
func MakeFailure(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pe *process.Error
	if errors.As(err, &pe) {
		code := process.ExitCode(err)
		msg := fmt.Sprintf("make failed (exit %d)", code)
		if code < 0 {
			msg = fmt.Sprintf("make failed: %v", pe.Err)
		}
		if tail := strings.TrimSpace(pe.Stderr); tail != "" {
			msg += ": " + process.LastLine(tail)
		}
		return &errs.Error{Kind: errs.Failed, Err: errors.New(msg), Detail: pe.Cmd}
	}
	return errs.Failedf("%w", err)
}
