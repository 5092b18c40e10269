package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/process"
)

// Load checks name against list-defconfigs and the output's current
// configuration, then runs make NAME and applies the build-farm settings
// and the project's customisation (ApplyCustomisation), which the
// defconfig does not hold. make's output (kconfig's compiler lines among
// it) goes to the build log and to Notes.Raw, not to the user: the note
// says what runs. origin is where name came from.
func (w *Workspace) Load(ctx context.Context, name string, origin errs.Origin, force bool) error {
	if !buildroot.ValidDefconfigName(name) {
		return errs.At(origin, errs.BadInputf("%q is not a defconfig name: give a name like openstack_ipa_defconfig, not a path ('ipabr list' shows them)", name))
	}
	defs, err := Defconfigs(ctx, w.Runner, w.Settings)
	if err != nil {
		return err
	}
	known := false
	for _, d := range defs {
		known = known || d.Name == name
	}
	if !known {
		return errs.At(origin, errs.BadInputf("unknown defconfig %q; 'ipabr list' shows the available ones", name))
	}
	cfg, ok, err := w.Config()
	if err != nil {
		return err
	}
	if ok && cfg.DefconfigName() != name && !force {
		return errs.BadInputf("%s already holds a configuration loaded from %s; use --force to replace it with %s (changes made to it are lost), or another output (-O DIR or --unique)",
			w.Rel(w.Dir), cfg.DefconfigName(), name)
	}
	start := time.Now()
	w.Notes.Note("loading %s into %s", name, w.Rel(w.Dir))
	if err := w.runLogged(ctx, "configure", name); err != nil {
		return err
	}
	if err := w.ApplyFarm(ctx); err != nil {
		return err
	}
	w.Notes.Detail("make %s took %.1fs", name, time.Since(start).Seconds())
	return w.ApplyCustomisation(ctx)
}

// Ensure returns the output's configuration, loading the default defconfig
// first when the output has none (build, source and ipa use start so);
// loaded says it did. A configured output gets the project's current
// customisation (ApplyCustomisation): a password or user added since it
// was configured.
func (w *Workspace) Ensure(ctx context.Context) (cfg *buildroot.Config, loaded bool, err error) {
	_, ok, err := w.Config()
	if err != nil {
		return nil, false, err
	}
	if ok {
		if err := w.ApplyCustomisation(ctx); err != nil {
			return nil, false, err
		}
		cfg, err = w.RequireConfig()
		return cfg, false, err
	}
	s := w.Settings
	w.Notes.Note("%s has no configuration yet", w.Rel(w.Dir))
	if err := w.Load(ctx, s.Defconfig, s.Origin("defconfig"), false); err != nil {
		return nil, false, err
	}
	cfg, err = w.RequireConfig()
	return cfg, true, err
}

// runLogged runs make ARGS with its output appended to the build log,
// under a header naming the ipabr command, and copied to Notes.Raw. A
// failure names make's last line and the log.
func (w *Workspace) runLogged(ctx context.Context, command string, args ...string) error {
	logPath := filepath.Join(w.Dir, LogFile)
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return errs.Failedf("opening the build log: %v", err)
	}
	defer lf.Close()
	c := w.Make.Cmd(args...)
	w.logHeader(lf, command, c)
	var out bytes.Buffer
	sinks := []io.Writer{lf, &out}
	if raw := w.Notes.Raw(); raw != nil {
		sinks = append(sinks, raw)
	}
	c.Stdout = io.MultiWriter(sinks...)
	c.Stderr = c.Stdout
	c.Group = true
	err = w.Runner.Run(ctx, c)
	var pe *process.Error
	if errors.As(err, &pe) {
		pe.Stderr = out.String()
	}
	if err != nil {
		return fmt.Errorf("%w (make's output: %s)", MakeFailure(err), w.Rel(logPath))
	}
	return nil
}
