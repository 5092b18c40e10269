package ipa

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/term"
)

// ShowOptions are `ipa show`'s inputs.
type ShowOptions struct {
	Factory *cmdutil.Factory
	Context context.Context
	JSON    bool
}

// NewCmdShow is `ipabr ipa show`; runF replaces runShow in tests.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the configured OpenStack series and its lock",
		Long: `Show the OpenStack series the output directory is configured for (or the
package's default when it is not configured yet), and its lock: age, IPA's
version and source, the number of wheels and their download size. Lists the
series that have a lock in the tree.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runShow(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON object")
	return cmd
}

// ShowResult is `ipa show --json`.
type ShowResult struct {
	Series     string   `json:"series"`
	From       string   `json:"from"` // the output's .config or the package's default
	Enabled    bool     `json:"enabled"`
	Locked     bool     `json:"locked"`
	LockDir    string   `json:"lock_dir"`
	Created    string   `json:"created,omitempty"`
	AgeSeconds int64    `json:"age_seconds,omitempty"`
	IPAVersion string   `json:"ipa_version,omitempty"`
	IPASource  string   `json:"ipa_source,omitempty"`
	Python     string   `json:"python,omitempty"`
	Glibc      string   `json:"glibc,omitempty"`
	Index      string   `json:"index,omitempty"`
	Extras     []string `json:"extras,omitempty"`
	Packages   int      `json:"packages"`
	Size       int64    `json:"size"`
	LockedAll  []string `json:"locks"`
	Problems   []string `json:"problems,omitempty"`
	Command    string   `json:"lock_command"`
}

func runShow(opts *ShowOptions) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	cfg := outputConfig(s)
	series, from := configuredSeries(s, cfg)
	res := ShowResult{
		Series:    series,
		From:      from,
		Enabled:   cfg == nil || cfg.Enabled(ipa.EnableSymbol),
		LockDir:   s.Project.Rel(ipa.LockDir(s.Project.External, series)),
		LockedAll: ipa.Locks(s.Project.External),
	}
	var gitURL, gitRef string
	var extras []string
	if cfg != nil && cfg.Enabled(ipa.EnableSymbol) {
		if cfg.Values[ipa.GitURLSymbol] != "" {
			gitURL, gitRef = cfg.Values[ipa.GitURLSymbol], cfg.Values[ipa.GitRefSymbol]
		}
		extras = strings.Fields(cfg.Values[ipa.ExtraSymbol])
	}
	if err := ipa.ValidateSeries(series); err != nil {
		res.Problems = append(res.Problems, err.Error())
	} else if ipa.HasLock(s.Project.External, series) {
		lock, err := ipa.ReadLock(s.Project.External, series)
		if err != nil {
			return cmdutil.Failure("reading the lock of %s: %v", series, err)
		}
		res.Locked = true
		res.Created = lock.Created.Format(time.RFC3339)
		res.AgeSeconds = int64(lock.Age(f.Now()).Seconds())
		res.IPAVersion = lock.IPAVersion
		res.IPASource = lock.IPASource()
		res.Python = lock.Target.Python
		res.Glibc = lock.Target.Glibc
		res.Index = lock.Index
		res.Extras = lock.Extras
		res.Packages = len(lock.Wheels)
		res.Size = lock.TotalSize()
		if py, err := ipa.ReadPython(s.Project.Buildroot); err == nil && py != lock.Target.Python {
			res.Problems = append(res.Problems, fmt.Sprintf("the lock is for Python %s, Buildroot has %s: lock again", lock.Target.Python, py))
		}
		if gl, err := ipa.ReadGlibc(s.Project.Buildroot, s.Project.External, configValues(cfg)); err == nil && ipa.GlibcNewer(lock.Target.Glibc, gl) {
			res.Problems = append(res.Problems, fmt.Sprintf("the lock is for glibc %s, the image's toolchain has %s: lock again", lock.Target.Glibc, gl))
		}
		if gitURL != "" && (gitURL != lock.GitURL || gitRef != lock.GitRef) {
			res.Problems = append(res.Problems, fmt.Sprintf("the configuration asks for IPA from %s@%s, the lock has %s: lock again", gitURL, gitRef, lock.IPASource()))
		}
		have := map[string]bool{}
		for _, e := range lock.Extras {
			have[e] = true
		}
		for _, e := range extras {
			if !have[e] {
				res.Problems = append(res.Problems, fmt.Sprintf("the lock lacks the extra requirement %s: lock again", e))
			}
		}
		extras = dedupe(append(extras, lock.Extras...))
	}
	res.Command = ipa.LockCommand(series, gitURL, gitRef, extras)

	if opts.JSON {
		enc := json.NewEncoder(f.IOStreams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	w := f.IOStreams.Out
	row := func(k, v string) { fmt.Fprintf(w, "%-10s %s\n", k+":", v) }
	row("series", fmt.Sprintf("%s (%s)", series, from))
	if !res.Enabled {
		row("package", "ironic-python-agent is disabled in this configuration (ipabr ipa use SERIES enables it)")
	}
	if res.Locked {
		row("lock", res.LockDir)
		row("locked", fmt.Sprintf("%s (%s ago)", res.Created, age(time.Duration(res.AgeSeconds)*time.Second)))
		row("ipa", res.IPASource)
		row("python", res.Python)
		row("glibc", res.Glibc)
		if len(res.Extras) > 0 {
			row("extras", strings.Join(res.Extras, " "))
		}
		row("packages", fmt.Sprintf("%d wheels, %s to download", res.Packages, term.HumanBytes(res.Size)))
	} else {
		row("lock", "none; make it with: "+res.Command)
	}
	locks := "none"
	if len(res.LockedAll) > 0 {
		locks = strings.Join(res.LockedAll, ", ")
	}
	row("locks", locks)
	for _, p := range res.Problems {
		fmt.Fprintf(f.IOStreams.ErrOut, "%s %s (%s)\n", f.IOStreams.Styles().Warning("warning:"), p, res.Command)
	}
	return nil
}

// age renders a duration the way people say it.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
