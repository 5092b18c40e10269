// Package overlay implements `ipabr overlay check`: what the user's
// overlay/ puts into the image, and what in it looks wrong.
package overlay

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
)

// BoardOverlay is the board's rootfs overlay, relative to the external tree.
const BoardOverlay = "board/openstack/ipa/rootfs-overlay"

// Options are overlay check's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	JSON bool
}

// NewCmdOverlay builds the overlay command group.
func NewCmdOverlay(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "overlay COMMAND",
		Short: "Inspect your rootfs overlay (check)",
		Args:  cobra.ArbitraryArgs,
		RunE:  cmdutil.GroupRunE,
	}
	cmd.AddCommand(NewCmdCheck(f, nil))
	return cmd
}

// NewCmdCheck builds `overlay check`; runF replaces runCheck in tests.
func NewCmdCheck(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "List what overlay/ puts into the image and flag problems",
		Long: `List the files overlay/ puts into the image (with their modes in overlay/;
in the image Buildroot makes every file 0644, or 0755 when executable), what
Buildroot skips (.git, .svn, .hg, .bzr, CVS, .empty, names ending in ~), and
flag what looks wrong before a build does:

  warning  world-writable files or directories
  warning  SSH private keys readable by group or others
  warning  files that replace or override the board overlay's files: the
           agent's service unit, the network, sshd configuration, ...
  warning  an sshd_config without "Include /etc/ssh/sshd_config.d/*.conf"
  warning  devices, FIFOs, sockets, unreadable entries
  info     editor backup files (*~), which Buildroot skips

Exit status: 0 when there is no warning (info findings are fine), 1 when
there is at least one, 2 when overlay/ is missing or not a directory.`,
		Example: `  ipabr overlay check
  ipabr overlay check --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runCheck(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as a JSON object")
	return cmd
}

// Report is the JSON form of the check.
type Report struct {
	Overlay  string    `json:"overlay"`
	Files    []File    `json:"files"`
	Skipped  []Skipped `json:"skipped"`
	Findings []Finding `json:"findings"`
	Warnings int       `json:"warnings"`
}

// File is one file that goes into the image.
type File struct {
	Path   string `json:"path"` // in the image
	Mode   string `json:"mode"` // in overlay/, as ls shows it
	Target string `json:"target,omitempty"`
}

// Skipped is an overlay path that does not reach the image.
type Skipped struct {
	Path   string `json:"path"` // in overlay/
	Reason string `json:"reason"`
}

// Finding is one problem.
type Finding struct {
	Path     string `json:"path"` // in overlay/
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func runCheck(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	rules, err := shadowRules(filepath.Join(p.External, filepath.FromSlash(BoardOverlay)))
	if err != nil {
		return errs.Failedf("reading the board overlay: %v", err)
	}
	rep, err := image.CheckOverlay(p.Overlay(), rules)
	if err != nil {
		return err
	}
	r := Report{Overlay: p.Rel(p.Overlay()), Files: []File{}, Skipped: []Skipped{}, Findings: []Finding{}, Warnings: rep.Warnings()}
	for _, e := range rep.Files {
		if e.Path == "README.md" {
			// The tracked README; the board's post-build.sh removes it.
			r.Skipped = append(r.Skipped, Skipped{e.Path, "the overlay's README, removed by the board's post-build.sh"})
			continue
		}
		file := File{Path: e.ImagePath(), Mode: e.Mode.String()}
		if e.Mode&fs.ModeSymlink != 0 {
			file.Mode = "l" + file.Mode[1:] // as ls shows it; Go writes L
			file.Target, _ = os.Readlink(filepath.Join(p.Overlay(), filepath.FromSlash(e.Path)))
		}
		r.Files = append(r.Files, file)
	}
	for _, sk := range rep.Skipped {
		r.Skipped = append(r.Skipped, Skipped{sk, "Buildroot skips it"})
	}
	for _, fd := range rep.Findings {
		r.Findings = append(r.Findings, Finding{fd.Path, string(fd.Kind), fd.Severity.String(), fd.Message})
	}

	out := f.IOStreams.Out
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printReport(f, r)
	}
	if r.Warnings > 0 {
		return errs.Failedf("%s: %d warning(s)", r.Overlay, r.Warnings)
	}
	return nil
}

// shadowRules are the board overlay's files (when it can be read) plus
// the default rules for the agent's service and the network.
func shadowRules(board string) ([]image.ShadowRule, error) {
	if st, err := os.Stat(board); err != nil || !st.IsDir() {
		return image.DefaultShadowRules, nil
	}
	rules, err := image.BoardShadowRules(board)
	if err != nil {
		return nil, err
	}
	return append(rules, image.DefaultShadowRules...), nil
}

func printReport(f *cmdutil.Factory, r Report) {
	out := f.IOStreams.Out
	if len(r.Files) == 0 {
		fmt.Fprintf(out, "%s puts nothing into the image\n", r.Overlay)
	} else {
		fmt.Fprintf(out, "%s puts %d file(s) into the image:\n", r.Overlay, len(r.Files))
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, file := range r.Files {
			path := file.Path
			if file.Target != "" {
				path += " -> " + file.Target
			}
			fmt.Fprintf(tw, "  %s\t%s\n", file.Mode, path)
		}
		tw.Flush()
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintln(out, "not copied:")
		for _, sk := range r.Skipped {
			fmt.Fprintf(out, "  %s (%s)\n", sk.Path, sk.Reason)
		}
	}
	for _, fd := range r.Findings {
		fmt.Fprintf(out, "%s: %s: %s\n", fd.Severity, fd.Path, fd.Message)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintln(out, "no problems found")
	}
}
