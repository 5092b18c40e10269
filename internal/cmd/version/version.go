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
}

// NewCmdVersion builds the command; runF replaces runVersion in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Settings: f.Settings, Build: f.Version}
	return &cobra.Command{
		Use:   "version",
		Short: "Print ipabr's version, commit, Go version and Buildroot pin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
}

func runVersion(opts *Options) error {
	commit := opts.Build.Commit
	if commit == "" {
		commit = "unknown"
	}
	fmt.Fprintf(opts.IO.Out, "ipabr %s\ncommit: %s\ngo: %s %s/%s\n", opts.Build.Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	// Inside a project the pin is the project's gitlink; elsewhere, the
	// release this ipabr was made for.
	pin, source := gitsub.DefaultPin+" ("+gitsub.DefaultTag+")", "built-in default"
	if s, err := opts.Settings(); err == nil {
		if sub, err := gitsub.Read(s.Project.Root); err == nil {
			pin, source = sub.Commit.String(), "gitlink in "+s.Project.Root
		}
	}
	fmt.Fprintf(opts.IO.Out, "buildroot pin: %s [%s]\n", pin, source)
	return nil
}
