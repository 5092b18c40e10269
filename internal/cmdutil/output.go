package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
)

// Output is an output directory a command works in, with its lock held.
type Output struct {
	Dir  string
	Make buildroot.Make
	lock *project.Lock
}

// RequireBuildroot fails (exit 2) when the Buildroot checkout is missing.
func RequireBuildroot(s *Settings) error {
	if _, err := os.Stat(filepath.Join(s.Project.Buildroot, "Makefile")); err != nil {
		return UsageError("Buildroot is not checked out in %s; run 'ipabr init' first", s.Project.Rel(s.Project.Buildroot))
	}
	return nil
}

// MakeFor is the make driver for an output directory.
func MakeFor(s *Settings, dir string) buildroot.Make {
	p := s.Project
	return buildroot.Make{Buildroot: p.Buildroot, External: p.External, Output: dir, DL: p.DL, CCache: p.CCache}
}

// OpenOutput takes the lock of the configured output directory, or of a
// fresh output/<unix-time>-XXXXXX when unique is set. Another ipabr holding
// the lock makes it fail at once (exit 1).
func OpenOutput(s *Settings, unique bool, now time.Time) (*Output, error) {
	if err := RequireBuildroot(s); err != nil {
		return nil, err
	}
	dir := s.Project.Output
	if unique {
		var err error
		if dir, err = s.Project.NewUniqueOutput(now); err != nil {
			return nil, Failure("creating a unique output directory: %v", err)
		}
	}
	lock, err := project.LockOutput(dir, s.Project.Rel(dir))
	var inUse *project.InUseError
	if errors.As(err, &inUse) {
		return nil, Failure("%v", err)
	}
	if err != nil {
		return nil, UsageError("%v", err)
	}
	return &Output{Dir: dir, Make: MakeFor(s, dir), lock: lock}, nil
}

// Close releases the lock.
func (o *Output) Close() { o.lock.Release() }

// Config reads the output's .config; ok is false when there is none.
func (o *Output) Config() (cfg *buildroot.Config, ok bool, err error) {
	cfg, err = buildroot.ReadConfigFile(filepath.Join(o.Dir, ".config"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	return cfg, err == nil, err
}

// Defconfigs runs Buildroot's list-defconfigs with the external tree, in a
// scratch output directory so that listing changes nothing.
func Defconfigs(ctx context.Context, r process.Runner, s *Settings) ([]buildroot.Defconfig, error) {
	if err := RequireBuildroot(s); err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "ipabr-list-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	out, err := process.Output(ctx, r, MakeFor(s, scratch).QuietCmd("list-defconfigs"))
	if err != nil {
		return nil, MakeFailure(err)
	}
	return buildroot.ParseDefconfigs(out), nil
}

// MakeFailure turns a failed make into exit 1 (130 when interrupted), with
// the command line as detail for -v.
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
		return &ExitError{Code: ExitFailure, Err: errors.New(msg), Detail: pe.Cmd}
	}
	return Failure("%v", err)
}

// RunMake runs make with the command's streams attached.
func RunMake(ctx context.Context, f *Factory, m buildroot.Make, args ...string) error {
	return runMake(ctx, f, m, f.IOStreams.Out, args)
}

// RunMakeAside runs make with its output on stderr, for make calls a
// command makes on the way (stdout stays for the command's result).
func RunMakeAside(ctx context.Context, f *Factory, m buildroot.Make, args ...string) error {
	return runMake(ctx, f, m, f.IOStreams.ErrOut, args)
}

func runMake(ctx context.Context, f *Factory, m buildroot.Make, stdout io.Writer, args []string) error {
	c := m.Cmd(args...)
	c.Stdout, c.Stderr = stdout, f.IOStreams.ErrOut
	c.Group = true
	if err := f.Runner.Run(ctx, c); err != nil {
		return MakeFailure(err)
	}
	return nil
}

// RequireConfig returns the output's configuration, or the error that says
// to configure first (exit 2); an unreadable .config fails (exit 1).
func (o *Output) RequireConfig(s *Settings) (*buildroot.Config, error) {
	cfg, ok, err := o.Config()
	if err != nil {
		return nil, Failure("reading %s: %v", s.Project.Rel(filepath.Join(o.Dir, ".config")), err)
	}
	if !ok {
		return nil, UsageError("%s is not configured yet; run 'ipabr configure' (or 'ipabr build') first", s.Project.Rel(o.Dir))
	}
	return cfg, nil
}
