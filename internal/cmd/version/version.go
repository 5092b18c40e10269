// Package version implements `ipabr version`.
package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/term"
)

// Options are version's inputs.
type Options struct {
	IO       *term.IOStreams
	Settings func() (*config.Settings, error)
	Build    cmdutil.BuildVersion
	JSON     bool
}

// NewCmdVersion builds the command; runF replaces runVersion in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Settings: f.Settings, Build: f.Version}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print ipabr's version, commit, Go version and Buildroot pin",
		Long: `Print ipabr's version, the commit it was built from (the Makefile passes it,
so it is known with -buildvcs=false too), the Go version and platform, and
the Buildroot pin: the project's gitlink inside a project, else the release
this ipabr was made for. --json prints the same as one object (version,
commit, go, os, arch, buildroot_pin, pin_source).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the version as a JSON object")
	return cmd
}

// Info is what version prints.
type Info struct {
	Version      string `json:"version"`
	Commit       string `json:"commit"`
	Go           string `json:"go"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	BuildrootPin string `json:"buildroot_pin"`
	PinSource    string `json:"pin_source"`
}

func runVersion(opts *Options) error {
	v := Info{Version: opts.Build.Version, Commit: opts.Build.Commit, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	// Inside a project the pin is the project's gitlink; elsewhere, the
	// release this ipabr was made for.
	v.BuildrootPin, v.PinSource = gitsub.DefaultPin+" ("+gitsub.DefaultTag+")", "built-in default"
	if s, err := opts.Settings(); err == nil {
		if sub, err := gitsub.Read(s.Project.Root); err == nil {
			v.BuildrootPin, v.PinSource = sub.Commit.String(), "gitlink in "+s.Project.Root
		}
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, v)
	}
	fmt.Fprintf(opts.IO.Out, "ipabr %s\ncommit: %s\ngo: %s %s/%s\n", v.Version, v.Commit, v.Go, v.OS, v.Arch)
	fmt.Fprintf(opts.IO.Out, "buildroot pin: %s [%s]\n", v.BuildrootPin, v.PinSource)
	return nil
}
