package ipa

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/ipa"
)

// LockIfMissing is ipabr build's step before make: when the configuration
// installs the agent and its series has no lock, it makes the lock if the
// package index answers, and says so. When the index does not answer it
// says that too and leaves the rest to Buildroot, which stops the build at
// once and names the command to run. Targets that cannot reach the package
// (such as linux-rebuild) skip the step.
func LockIfMissing(ctx context.Context, f *cmdutil.Factory, s *cmdutil.Settings, cfg *buildroot.Config, targets []string) error {
	if cfg == nil || !cfg.Enabled(ipa.EnableSymbol) || !reachesAgent(targets) {
		return nil
	}
	series := cfg.Values[ipa.SeriesSymbol]
	if ipa.ValidateSeries(series) != nil || ipa.HasLock(s.Project.External, series) {
		return nil // a bad name is Buildroot's to report, with the fix
	}
	src, err := LoadSources(f, s)
	if err != nil {
		return err
	}
	var gitURL, gitRef string
	if cfg.Values[ipa.GitURLSymbol] != "" {
		gitURL, gitRef = cfg.Values[ipa.GitURLSymbol], cfg.Values[ipa.GitRefSymbol]
	}
	cmdline := ipa.LockCommand(series, gitURL, gitRef, strings.Fields(cfg.Values[ipa.ExtraSymbol]))
	if err := ipa.ProbeIndex(ctx, nil, src.IndexURL); err != nil {
		fmt.Fprintf(f.IOStreams.ErrOut, "OpenStack series %s has no IPA lock, and ipabr cannot make one now (%v); the build will stop: run %s where the index answers\n", series, err, cmdline)
		return nil
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "OpenStack series %s has no IPA lock: running %s first\n", series, cmdline)
	if err := runLock(&LockOptions{Factory: f, Context: ctx, Release: series, auto: true, cfg: cfg}); err != nil {
		return err
	}
	return nil
}

// reachesAgent reports whether make targets can build the agent package.
func reachesAgent(targets []string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if t == "all" || t == "world" || t == "source" || t == ipa.Package || strings.HasPrefix(t, ipa.Package+"-") ||
			t == "target-finalize" || strings.HasPrefix(t, "rootfs-") {
			return true
		}
	}
	return false
}
