// Package initcmd implements `ipabr init`: fetch the pinned Buildroot and
// create the project's working directories.
package initcmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/term"
)

// Options are init's inputs.
type Options struct {
	IO       *term.IOStreams
	Settings func() (*config.Settings, error)
	Context  context.Context
	Now      func() time.Time

	URL   string
	Depth int
	Force bool
	JSON  bool
}

// Result is what init prints with --json.
type Result struct {
	Buildroot    string   `json:"buildroot"` // the checkout, relative to the project
	Commit       string   `json:"commit"`    // the pin
	Version      string   `json:"version"`   // Buildroot's BR2_VERSION there
	AlreadyAtPin bool     `json:"already_at_pin"`
	Method       string   `json:"method"` // how the commit was obtained; "" when already at the pin
	URL          string   `json:"url"`
	Seconds      float64  `json:"seconds"`
	Created      []string `json:"created"` // directories made, relative to the project
}

// NewCmdInit builds the command; runF replaces runInit in tests.
func NewCmdInit(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Settings: f.Settings, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Fetch the pinned Buildroot and create dl/, ccache/, output/, overlay/, scripts/",
		Long: `Fetch exactly the Buildroot commit the project pins (the buildroot gitlink),
shallowly and without tags, check it out in buildroot/ and register the
submodule in .git/config so plain git agrees. When the server refuses to
serve a commit by id, ipabr fetches a tag or branch that contains it.

A second run is offline and changes nothing. A buildroot/ with local changes
or at another commit is never overwritten without --force.

Ctrl-C or SIGTERM stops init at once with exit 130. An interrupted first
fetch or checkout leaves the project as it was; an interrupted --force
checkout is finished by the next 'ipabr init', without --force.

--json prints the result as one object on stdout (buildroot, commit,
version, already_at_pin, method, url, seconds, created: the directories
made, [] when none); progress still goes to stderr.`,
		Example: `  ipabr init
  ipabr init --url https://mirror.example.com/buildroot.git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runInit(opts)
		},
	}
	cmd.Flags().StringVar(&opts.URL, "url", "", "fetch from this URL instead of .gitmodules' (config buildroot.url, env IPABR_BUILDROOT_URL)")
	cmd.Flags().IntVar(&opts.Depth, "depth", 1, "commits of history to fetch")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "discard local changes or another checkout in buildroot/")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as a JSON object")
	return cmd
}

func runInit(opts *Options) error {
	if opts.Depth < 1 {
		return errs.BadInputf("--depth must be 1 or more, not %d", opts.Depth)
	}
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	sub, err := gitsub.Read(p.Root)
	if err != nil {
		return errs.As(errs.BadInput, err)
	}
	if want := filepath.Join(p.Root, sub.Path); filepath.Clean(p.Buildroot) != want {
		return errs.BadInputf("buildroot.path is %s, but ipabr init manages the submodule at %s; unset buildroot.path (or BR2_UPSTREAM) to use init", p.Buildroot, want)
	}
	url := opts.URL
	if url == "" {
		url = s.BuildrootURL
	}
	st := opts.IO.StylesFor(opts.IO.Out)
	sync := gitsub.SyncOptions{URL: url, Depth: opts.Depth, Force: opts.Force}
	if !s.Quiet {
		sync.Progress = term.RemoteProgress(opts.IO.ErrOut, opts.IO.IsStderrTTY(), "  remote: ")
		sync.OnFetch = func(url string) { opts.log(s, "Fetching Buildroot %s from %s", sub.Commit, url) }
	}
	start := opts.Now()
	if !s.Quiet {
		sync.OnCheckout = func(files int) { opts.log(s, "Checking out %d files in %s/", files, p.Rel(p.Buildroot)) }
	}
	res, err := gitsub.Sync(opts.Context, p.Root, sub, sync)
	if err != nil {
		if errors.Is(err, context.Canceled) || opts.Context.Err() != nil {
			why := context.Cause(opts.Context)
			if why == nil {
				why = err
			}
			return errs.As(errs.Interrupted, fmt.Errorf("init interrupted (%v); run 'ipabr init' again to fetch and check out Buildroot (no --force needed)", why))
		}
		return errs.Failedf("%v", err)
	}
	created, err := p.EnsureDirs()
	if err != nil {
		return errs.Failedf("%v", err)
	}
	version, _ := buildroot.Version(p.Buildroot)
	r := Result{
		Buildroot: p.Rel(p.Buildroot), Commit: sub.Commit.String(), Version: version,
		AlreadyAtPin: res.AlreadyAtPin, Method: res.Method, URL: res.URL,
		Seconds: opts.Now().Sub(start).Seconds(), Created: []string{},
	}
	for _, d := range created {
		r.Created = append(r.Created, p.Rel(d))
		opts.log(s, "created %s/", p.Rel(d))
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, r)
	}
	if res.AlreadyAtPin {
		fmt.Fprintf(opts.IO.Out, "Buildroot is already at the pin %s (%s); nothing fetched.\n", sub.Commit, version)
	} else {
		fmt.Fprintf(opts.IO.Out, "%s Buildroot %s (%s) checked out in %s [%s, %.1fs]\n",
			st.Success("✓"), sub.Commit, version, r.Buildroot, res.Method, r.Seconds)
	}
	return nil
}

func (o *Options) log(s *config.Settings, format string, a ...any) {
	if !s.Quiet {
		fmt.Fprintf(o.IO.ErrOut, format+"\n", a...)
	}
}
