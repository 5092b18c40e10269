// Package env implements `ipabr env`: the BR2_* variables as shell exports,
// so the manual make workflow of the original ipa-buildroot README keeps
// working.
package env

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

// Options are env's inputs.
type Options struct {
	IO       *term.IOStreams
	Settings func() (*config.Settings, error)
	Now      func() time.Time

	Format string
	Unique bool
}

// NewCmdEnv builds the command; runF replaces runEnv in tests.
func NewCmdEnv(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Settings: f.Settings, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the BR2_* variables as shell exports",
		Long: `Print BR2_IPA_REPO, BR2_UPSTREAM, BR2_EXTERNAL, BR2_OUTPUT_DIR, BR2_DL_DIR and
BR2_CCACHE_DIR (absolute paths) for eval, so Buildroot can be driven by hand:

  eval "$(ipabr env)"
  make -C "$BR2_UPSTREAM" O="$BR2_OUTPUT_DIR" list-defconfigs

--unique creates a fresh output/UNIXTIME-XXXXXX and exports it, for
concurrent builds.`,
		Example: `  eval "$(ipabr env)"
  ipabr env --format fish | source
  ipabr env --unique --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runEnv(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "sh", "output format: sh, fish or json")
	cmd.Flags().BoolVar(&opts.Unique, "unique", false, "create and export a fresh output/UNIXTIME-XXXXXX")
	return cmd
}

// Variables returns the exported variables in a stable order.
func Variables(p *project.Project) [][2]string {
	return [][2]string{
		{"BR2_IPA_REPO", p.Root},
		{"BR2_UPSTREAM", p.Buildroot},
		{"BR2_EXTERNAL", p.External},
		{"BR2_OUTPUT_DIR", p.Output},
		{"BR2_DL_DIR", p.DL},
		{"BR2_CCACHE_DIR", p.CCache},
	}
}

func runEnv(opts *Options) error {
	if opts.Format != "sh" && opts.Format != "fish" && opts.Format != "json" {
		return errs.BadInputf("--format must be sh, fish or json, not %q", opts.Format)
	}
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	p := *s.Project
	if opts.Unique {
		dir, err := p.NewUniqueOutput(opts.Now())
		if err != nil {
			return errs.Failedf("creating a unique output directory: %v", err)
		}
		p.Output = dir
	}
	vars := Variables(&p)
	switch opts.Format {
	case "json":
		m := map[string]string{}
		for _, v := range vars {
			m[v[0]] = v[1]
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	case "fish":
		for _, v := range vars {
			fmt.Fprintf(opts.IO.Out, "set -gx %s %s;\n", v[0], fishQuote(v[1]))
		}
	default:
		for _, v := range vars {
			fmt.Fprintf(opts.IO.Out, "export %s=%s\n", v[0], shQuote(v[1]))
		}
	}
	return nil
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
