// Package source implements `ipabr source`: download everything the
// configuration needs into dl/ (Buildroot's make source, which covers the
// IPA wheels: the agent package lists them as extra downloads), so that a
// later `ipabr build --offline` needs no network and dl/ can serve as a
// mirror for other machines.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are source's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Unique bool
	JSON   bool
}

// NewCmdSource builds the command; runF replaces runSource in tests.
func NewCmdSource(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "source",
		Short: "Download everything the configuration needs into dl/ (make source), for offline builds and mirrors",
		Long: `Fetch every file the output's configuration downloads into the download
directory (BR2_DL_DIR, default dl/): Buildroot's 'make source', which covers
package sources, patches and extra downloads such as the IPA wheels of the
configured OpenStack series. An output without a configuration is configured
from the default defconfig first; the download mirror keys
(download.primary_site, download.primary_site_only) apply.

Afterwards ipabr checks with Buildroot's show-info that every file is present
and prints how many files and bytes the configuration needs. Then
'ipabr build --offline' runs without network, and dl/ can be published as a
mirror for other machines (any static HTTP server; see doc/farm.md).`,
		Example: `  ipabr source
  ipabr source --json
  ipabr source && ipabr build --offline`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runSource(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Unique, "unique", false, "use a fresh output/UNIXTIME-XXXXXX")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as a JSON object")
	return cmd
}

func runSource(opts *Options) error {
	f := opts.Factory
	ctx := opts.Context
	s, err := f.Settings()
	if err != nil {
		return err
	}
	w, err := f.OpenWorkspace(s, opts.Unique)
	if err != nil {
		return err
	}
	defer w.Close()
	cfg, loaded, err := w.Ensure(ctx)
	if err != nil {
		return err
	}
	if !loaded { // a fresh load applied the farm settings already
		if err := w.ApplyFarm(ctx); err != nil {
			return err
		}
	}
	// The agent's wheels are downloads too: make their lock first if the
	// configured series has none, as build does.
	if err := f.Locker(s).EnsureLock(ctx, cfg, []string{"source"}); err != nil {
		return err
	}
	var progress io.Writer = f.IOStreams.ErrOut
	if s.Quiet {
		progress = nil
	}
	res, err := w.Source(ctx, progress, f.IOStreams.ErrOut)
	var missing *workspace.MissingDownloadsError
	if errors.As(err, &missing) {
		for _, m := range missing.Missing {
			fmt.Fprintf(f.IOStreams.ErrOut, "  missing: %s (%s)\n", m.Path(missing.DL), m.Package)
		}
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.PrintJSON(f.IOStreams.Out, res)
	}
	fmt.Fprintf(f.IOStreams.Out, "%s holds all %d files (%s) the configuration of %s downloads; 'ipabr build --offline' needs no network\n",
		w.Rel(res.DL), res.Files, term.HumanBytes(res.Bytes), w.Rel(w.Dir))
	return nil
}
