// Package sbomcmd implements `ipabr sbom`: a CycloneDX SBOM of the
// configured output, for security review.
package sbomcmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ipabr/ipabr/internal/workspace"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/sbom"
)

// Options are sbom's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	File string
}

// NewCmdSBOM builds the command; runF replaces runSBOM in tests.
func NewCmdSBOM(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "sbom",
		Short: "Write a CycloneDX SBOM of the configured image: Buildroot's packages and the agent's wheels",
		Long: `Write a CycloneDX JSON SBOM of the output's configuration (no build needed):
Buildroot's own utils/generate-cyclonedx on 'make show-info' lists every
package with its version, licenses, source URLs, patches and the CVEs
Buildroot ignores; ipabr adds each wheel of the agent's lock as a
pkg:pypi/NAME@VERSION component with its sha256 and license (an SPDX id or
expression when it is one), which ironic-python-agent depends on, and
records the Buildroot pin, the OpenStack series, IPA's version and its own
version in the metadata.

The SBOM goes to stdout, or with --file to FILE (written whole or not at
all). 'ipabr build' writes it to <output>/images/sbom.cdx.json.
generate-cyclonedx downloads the SPDX license list into dl/cyclonedx/ the
first time; on a machine without network copy spdx-1.6.schema.json there.`,
		Example: `  ipabr sbom > sbom.cdx.json
  ipabr -O output/test sbom --file sbom.cdx.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runSBOM(opts)
		},
	}
	// Not --output: that is the global flag naming the output directory.
	cmd.Flags().StringVar(&opts.File, "file", "", "write the SBOM to `FILE` instead of stdout")
	return cmd
}

func runSBOM(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	ws, err := f.OpenWorkspace(s, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	cfg, err := ws.RequireConfig()
	if err != nil {
		return err
	}
	res, err := sbom.Generate(opts.Context, f.Runner, sbom.Input{Make: ws.Make, Root: s.Project.Root, Config: cfg, IpabrVersion: f.Version.Version, Now: f.Now()})
	if err != nil {
		return generateError(err)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(f.IOStreams.ErrOut, "%s %s\n", f.IOStreams.Styles().Warning("warning:"), n)
	}
	if opts.File == "" {
		_, err := f.IOStreams.Out.Write(res.JSON)
		return err
	}
	path, err := filepath.Abs(opts.File)
	if err != nil {
		return errs.BadInputf("--file %s: %v", opts.File, err)
	}
	if err := project.WriteFileAtomic(path, res.JSON, 0o644); err != nil {
		return errs.Failedf("writing %s: %v", opts.File, err)
	}
	if !s.Quiet {
		agent := "no agent in this configuration"
		if res.Series != "" {
			agent = fmt.Sprintf("%d wheels of OpenStack %s", res.Wheels, res.Series)
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "%s: %d components (%s)\n", opts.File, res.Components, agent)
	}
	return nil
}

// generateError is the exit-code error for a failed sbom.Generate: a failed make
// or generate-cyclonedx (1), an interruption (130).
func generateError(err error) error {
	if errors.Is(err, sbom.ErrGenerate) {
		return errs.Failedf("%v", err)
	}
	return workspace.MakeFailure(err)
}
