package ipa

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
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

func runShow(opts *ShowOptions) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	res, err := f.Locker(s).State()
	if err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.PrintJSON(f.IOStreams.Out, res)
	}
	w := f.IOStreams.Out
	row := func(k, v string) { fmt.Fprintf(w, "%-10s %s\n", k+":", v) }
	row("series", fmt.Sprintf("%s (%s)", res.Series, res.From))
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
