// Package status implements `ipabr status`: where the project stands.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

// Options are status's inputs.
type Options struct {
	IO       *term.IOStreams
	Settings func() (*config.Settings, error)
	JSON     bool
	// For the compiler cache statistics (ccache.go).
	Context  context.Context
	Runner   process.Runner
	LookPath func(string) (string, error)
}

// NewCmdStatus builds the command; runF replaces runStatus in tests.
func NewCmdStatus(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Settings: f.Settings, Runner: f.Runner, LookPath: f.LookPath}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the project root, the Buildroot pin, output directories and caches",
		Example: `  ipabr status
  ipabr status --json | jq .buildroot`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runStatus(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON object")
	return cmd
}

// Report is the status as data (the --json output).
type Report struct {
	Root      string       `json:"root"`
	Buildroot BuildrootRep `json:"buildroot"`
	External  ExternalRep  `json:"external"`
	Outputs   []OutputRep  `json:"outputs"`
	Caches    []CacheRep   `json:"caches"`
	CCache    *CCacheRep   `json:"ccache,omitempty"`
}

// BuildrootRep is the submodule's state.
type BuildrootRep struct {
	Path     string   `json:"path"`
	Pinned   string   `json:"pinned"`
	Current  string   `json:"current,omitempty"`
	Version  string   `json:"version,omitempty"`
	State    string   `json:"state"` // at-pin, not-fetched, other-commit, modified, not-a-checkout, unknown
	Changes  []string `json:"changes,omitempty"`
	PinError string   `json:"pin_error,omitempty"`
}

// ExternalRep is the BR2_EXTERNAL tree.
type ExternalRep struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// OutputRep is one output directory.
type OutputRep struct {
	Path      string   `json:"path"`
	Current   bool     `json:"current"`
	State     string   `json:"state"` // empty, configured, built
	Defconfig string   `json:"defconfig,omitempty"`
	Images    []string `json:"images,omitempty"`
}

// CacheRep is one cache directory.
type CacheRep struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

func runStatus(opts *Options) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	// ccache's statistics come from another process; read them meanwhile.
	ccache := make(chan *CCacheRep, 1)
	go func() { ccache <- ccacheState(opts.Context, opts, s) }()
	rep, err := Collect(opts.Context, s.Project)
	rep.CCache = <-ccache
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	print(opts.IO, s.Project, rep)
	return nil
}

// Collect gathers the report; it reports what it finds and fails only
// when ctx is cancelled.
func Collect(ctx context.Context, p *project.Project) (Report, error) {
	rep := Report{Root: p.Root}
	rep.Buildroot = buildrootState(ctx, p)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	rep.External.Path = p.External
	if name, err := buildroot.ExternalName(p.External); err == nil {
		rep.External.Name = name
	}
	for _, d := range p.OutputDirs() {
		rep.Outputs = append(rep.Outputs, outputState(d, d == p.Output))
	}
	for _, c := range []struct{ name, path string }{{"dl", p.DL}, {"ccache", p.CCache}} {
		size, err := project.DirSize(ctx, c.path)
		if err != nil {
			return rep, err
		}
		rep.Caches = append(rep.Caches, CacheRep{Name: c.name, Path: c.path, Bytes: size})
	}
	return rep, nil
}

func buildrootState(ctx context.Context, p *project.Project) BuildrootRep {
	b := BuildrootRep{Path: p.Buildroot, State: "unknown"}
	sub, err := gitsub.Read(p.Root)
	if err != nil {
		b.PinError = err.Error()
		return b
	}
	b.Pinned = sub.Commit.String()
	st, err := gitsub.Inspect(ctx, p.Root, sub)
	if err != nil {
		b.PinError = err.Error()
		return b
	}
	if !st.Head.IsZero() {
		b.Current = st.Head.String()
	}
	b.Version, _ = buildroot.Version(p.Buildroot)
	b.Changes = st.Changes
	switch {
	case st.Foreign:
		b.State = "not-a-checkout"
	case !st.Present:
		b.State = "not-fetched"
	case st.Head != sub.Commit:
		b.State = "other-commit"
	case len(st.Changes) > 0:
		b.State = "modified"
	default:
		b.State = "at-pin"
	}
	return b
}

func outputState(dir string, current bool) OutputRep {
	o := OutputRep{Path: dir, Current: current, State: "empty"}
	if cfg, err := buildroot.ReadConfigFile(filepath.Join(dir, ".config")); err == nil {
		o.State = "configured"
		o.Defconfig = cfg.DefconfigName()
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "images"))
	for _, e := range entries {
		if !e.IsDir() {
			o.Images = append(o.Images, e.Name())
		}
	}
	if len(o.Images) > 0 {
		o.State = "built"
	}
	return o
}

func print(io *term.IOStreams, p *project.Project, rep Report) {
	w := io.Out
	st := io.StylesFor(w)
	fmt.Fprintf(w, "Project:    %s\n", rep.Root)
	b := rep.Buildroot
	switch b.State {
	case "at-pin":
		fmt.Fprintf(w, "Buildroot:  %s %s (%s) %s\n", st.Success("✓"), short(b.Current), b.Version, "at the pin")
	case "not-fetched":
		fmt.Fprintf(w, "Buildroot:  %s pinned %s, not fetched: run 'ipabr init'\n", st.Warning("!"), short(b.Pinned))
	case "other-commit":
		fmt.Fprintf(w, "Buildroot:  %s pinned %s, checked out %s (%s): run 'ipabr init --force' to return to the pin\n", st.Warning("!"), short(b.Pinned), short(b.Current), b.Version)
	case "modified":
		fmt.Fprintf(w, "Buildroot:  %s %s (%s) at the pin, with %d local change(s)\n", st.Warning("!"), short(b.Current), b.Version, len(b.Changes))
	case "not-a-checkout":
		fmt.Fprintf(w, "Buildroot:  %s %s is not a git checkout\n", st.Error("✗"), b.Path)
	default:
		fmt.Fprintf(w, "Buildroot:  %s %s\n", st.Error("✗"), b.PinError)
	}
	name := rep.External.Name
	if name == "" {
		name = "(no external.desc)"
	}
	fmt.Fprintf(w, "External:   %s (%s)\n", name, p.Rel(rep.External.Path))
	if len(rep.Outputs) == 0 {
		fmt.Fprintf(w, "Outputs:    none yet (%s)\n", p.Rel(p.Output))
	} else {
		fmt.Fprintln(w, "Outputs:")
	}
	for _, o := range rep.Outputs {
		mark := " "
		if o.Current {
			mark = "*"
		}
		desc := "no configuration"
		switch o.State {
		case "configured":
			desc = "configured from " + o.Defconfig
		case "built":
			desc = fmt.Sprintf("built from %s: %s", o.Defconfig, strings.Join(o.Images, " "))
		}
		fmt.Fprintf(w, "  %s %-24s %s\n", mark, p.Rel(o.Path), desc)
	}
	var caches []string
	for _, c := range rep.Caches {
		caches = append(caches, fmt.Sprintf("%s %s", c.Name, term.HumanBytes(c.Bytes)))
	}
	fmt.Fprintf(w, "Caches:     %s\n", strings.Join(caches, ", "))
	printCCache(w, st, rep.CCache)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
