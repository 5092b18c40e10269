package workspace

import (
	"context"
	"io"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/errs"
)

// Load checks name against list-defconfigs and the output's current
// configuration, then runs make NAME with its output on stderr and applies
// the build-farm settings and the project's customisation
// (ApplyCustomisation), which the defconfig does not hold. origin is where
// name came from.
func (w *Workspace) Load(ctx context.Context, stderr io.Writer, name string, origin errs.Origin, force bool) error {
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
	if err := w.RunMake(ctx, stderr, stderr, name); err != nil {
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
func (w *Workspace) Ensure(ctx context.Context, stderr io.Writer) (cfg *buildroot.Config, loaded bool, err error) {
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
	w.Notes.Note("%s has no configuration yet: loading %s", w.Rel(w.Dir), s.Defconfig)
	if err := w.Load(ctx, stderr, s.Defconfig, s.Origin("defconfig"), false); err != nil {
		return nil, false, err
	}
	cfg, err = w.RequireConfig()
	return cfg, true, err
}
