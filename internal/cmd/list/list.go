// Package list implements `ipabr list`: Buildroot's list-defconfigs with
// the external tree's configs first.
package list

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are list's inputs.
type Options struct {
	IO       *term.IOStreams
	Runner   process.Runner
	Settings func() (*config.Settings, error)
	Context  context.Context
	JSON     bool
}

// NewCmdList builds the command; runF replaces runList in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Runner: f.Runner, Settings: f.Settings}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the defconfigs: the external tree's first, then Buildroot's",
		Example: `  ipabr list
  ipabr list --json | jq -r '.[] | select(.external) | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of {name, description, external}")
	return cmd
}

func runList(opts *Options) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	defs, err := workspace.Defconfigs(opts.Context, opts.Runner, s)
	if err != nil {
		return err
	}
	// External configs first, each group in Buildroot's order.
	sort.SliceStable(defs, func(i, j int) bool { return defs[i].External && !defs[j].External })
	if opts.JSON {
		if defs == nil {
			defs = []buildroot.Defconfig{}
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(defs)
	}
	st := opts.IO.StylesFor(opts.IO.Out)
	for _, d := range defs {
		mark := "  "
		if d.External {
			mark = st.Success("* ")
		}
		fmt.Fprintf(opts.IO.Out, "%s%-40s %s\n", mark, d.Name, d.Description)
	}
	if !s.Quiet {
		fmt.Fprintln(opts.IO.ErrOut, "* = from the external tree ("+s.Project.Rel(s.Project.External)+")")
	}
	return nil
}
