// Package source implements `ipabr source`: download everything the
// configuration needs into dl/ (Buildroot's make source, which covers the
// IPA wheels: the agent package lists them as extra downloads), so that a
// later `ipabr build --offline` needs no network and dl/ can serve as a
// mirror for other machines.
package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmd/configure"
	ipacmd "github.com/ipabr/ipabr/internal/cmd/ipa"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
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
	cmd.Flags().BoolVar(&opts.Unique, "unique", false, "use a fresh output/<unix-time>-XXXXXX")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as a JSON object")
	return cmd
}

// Result is what source reports (the --json output).
type Result struct {
	DL    string `json:"dl"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
}

func runSource(opts *Options) error {
	f := opts.Factory
	ctx := opts.Context
	s, err := f.Settings()
	if err != nil {
		return err
	}
	out, err := cmdutil.OpenOutput(s, opts.Unique, f.Now())
	if err != nil {
		return err
	}
	defer out.Close()
	cfg, loaded, err := configure.Ensure(ctx, f, s, out)
	if err != nil {
		return err
	}
	if !loaded { // a fresh load applied the farm settings already
		if err := configure.ApplyFarm(ctx, f, s, out); err != nil {
			return err
		}
	}
	// The agent's wheels are downloads too: make their lock first if the
	// configured series has none (issue 5's step, as build does).
	if err := ipacmd.LockIfMissing(ctx, f, s, cfg, []string{"source"}); err != nil {
		return err
	}

	c := out.Make.Cmd("source")
	c.Group = true
	var captured bytes.Buffer
	var w io.Writer = f.IOStreams.ErrOut
	if s.Quiet {
		w = &captured
	}
	c.Stdout, c.Stderr = w, w
	if err := f.Runner.Run(ctx, c); err != nil {
		if s.Quiet {
			f.IOStreams.ErrOut.Write(tailBytes(captured.Bytes(), 4096))
		}
		return cmdutil.MakeFailure(err)
	}

	text, err := process.Output(ctx, f.Runner, out.Make.QuietCmd("show-info"))
	if err != nil {
		return cmdutil.MakeFailure(err)
	}
	downloads, err := buildroot.ParseDownloads([]byte(text))
	if err != nil {
		return cmdutil.Failure("%v", err)
	}
	dl := s.Project.Rel(s.Project.DL)
	if missing := buildroot.MissingDownloads(s.Project.DL, downloads); len(missing) > 0 {
		for _, m := range missing {
			fmt.Fprintf(f.IOStreams.ErrOut, "  missing: %s (%s)\n", m.Path(dl), m.Package)
		}
		return cmdutil.Failure("make source finished but %d of %d files are still missing from %s", len(missing), len(downloads), dl)
	}
	res := Result{DL: s.Project.DL, Files: len(downloads)}
	for _, d := range downloads {
		if st, err := os.Stat(d.Path(s.Project.DL)); err == nil {
			res.Bytes += st.Size()
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(f.IOStreams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(f.IOStreams.Out, "%s holds all %d files (%s) the configuration of %s downloads; 'ipabr build --offline' needs no network\n",
		dl, res.Files, term.HumanBytes(res.Bytes), s.Project.Rel(out.Dir))
	return nil
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
