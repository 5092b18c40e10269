// Package reportcmd implements `ipabr report`: where the image's size and
// build time go, as one HTML page and, for CI, as JSON with a size gate.
package reportcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/config"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/report"
	"github.com/ipabr/ipabr/internal/term"
)

// Options are report's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Against      string
	Open         bool
	JSON         bool
	MaxInitramfs string
}

// File is where the page goes, inside the output directory.
const File = "report/index.html"

// topShown is how many packages a failed size gate names.
const topShown = 5

// NewCmdReport builds the command; runF replaces runReport in tests.
func NewCmdReport(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Show where the image's size and build time go, as one HTML page (and JSON for CI)",
		Long: `Read what Buildroot recorded about the output's last build and write one
self-contained HTML page to <output>/report/index.html (everything inline,
nothing fetched when it is viewed):

  - a treemap of the root filesystem by package, ironic-python-agent split
    by wheel (Buildroot's build/packages-file-list.txt, counted as
    'make graph-size' counts it), with the compressed initramfs and kernel
    sizes against the budget of doc/image.md;
  - the build time of each package and step (build/build-time.log);
  - with --against OTHER_OUTPUT, the size and time difference per package
    (as Buildroot's utils/size-stats-compare computes it), biggest first;
  - the agent's manifest: OpenStack series, IPA version, the wheels and
    their licenses (images/ipa-manifest.json).

--json prints the same figures on stdout. --max-initramfs SIZE fails (exit 1)
when the compressed initramfs is bigger, naming the five biggest packages;
SIZE takes k, M, G (powers of 1000) or Ki, Mi, Gi (powers of 1024), with an
optional B. --open opens the page with xdg-open.`,
		Example: `  ipabr report
  ipabr report --open
  ipabr report --against output/1767225600-abc123
  ipabr report --json --max-initramfs 60MB > report.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runReport(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Against, "against", "", "compare with the build in `OTHER_OUTPUT` (another output directory)")
	fl.BoolVar(&opts.Open, "open", false, "open the page in a browser (xdg-open)")
	fl.BoolVar(&opts.JSON, "json", false, "print the figures as JSON on stdout")
	fl.StringVar(&opts.MaxInitramfs, "max-initramfs", "", "fail when the compressed initramfs is bigger than `SIZE` (such as 60MB)")
	return cmd
}

// Result is the --json output: the report, where the page went and the
// size gate's verdict.
type Result struct {
	*report.Report
	HTML         string               `json:"html"`
	MaxInitramfs int64                `json:"max_initramfs,omitempty"`
	OverBudget   bool                 `json:"over_budget"`
	Top          []report.PackageSize `json:"top,omitempty"` // the biggest packages, when over budget
}

func runReport(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	var limit int64
	if opts.MaxInitramfs != "" {
		if limit, err = report.ParseSize(opts.MaxInitramfs); err != nil {
			return errs.BadInputf("--max-initramfs: %v", err)
		}
	}
	out := s.Project.Output
	r, err := report.Build(out)
	if err != nil {
		return buildError(s, "", out, err)
	}
	if opts.Against != "" {
		other, err := filepath.Abs(opts.Against)
		if err != nil {
			return errs.BadInputf("--against %s: %v", opts.Against, err)
		}
		old, err := report.Build(other)
		if err != nil {
			return buildError(s, "--against: ", other, err)
		}
		r.Against = report.Compare(r, old)
	}

	var page bytes.Buffer
	if err := report.Render(&page, r, f.Now()); err != nil {
		return errs.Failedf("rendering the report: %v", err)
	}
	html := filepath.Join(out, File)
	if err := os.MkdirAll(filepath.Dir(html), 0o755); err != nil {
		return errs.Failedf("%v", err)
	}
	if err := project.WriteFileAtomic(html, page.Bytes(), 0o644); err != nil {
		return errs.Failedf("writing %s: %v", s.Project.Rel(html), err)
	}

	res := Result{Report: r, HTML: html, MaxInitramfs: limit}
	var gate error
	if limit > 0 {
		gate = checkBudget(r, limit)
		if gate != nil && r.Images.Initramfs != nil {
			res.OverBudget, res.Top = true, r.Top(topShown)
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(f.IOStreams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printSummary(f, s, &res)
	}
	if gate != nil {
		return gate
	}
	if opts.Open {
		return openPage(opts.Context, f, s, html)
	}
	return nil
}

func buildError(s *config.Settings, prefix, dir string, err error) error {
	if errors.Is(err, report.ErrNotBuilt) {
		return errs.BadInputf("%s%s has no finished build (no %s): run 'ipabr build' first", prefix, s.Project.Rel(dir), report.FileListFile)
	}
	return errs.Failedf("%s%v", prefix, err)
}

// checkBudget fails when the compressed initramfs is over limit, naming
// the biggest packages.
func checkBudget(r *report.Report, limit int64) error {
	im := r.Images.Initramfs
	if im == nil {
		return errs.Failedf("--max-initramfs: no initramfs (ipa.initramfs or rootfs.cpio*) in %s/images", r.Output)
	}
	if im.Size <= limit {
		return nil
	}
	var top []string
	for _, p := range r.Top(topShown) {
		top = append(top, fmt.Sprintf("%s %s", p.Name, term.HumanBytes(p.Size)))
	}
	return errs.Failedf("%s is %s (%d bytes), over --max-initramfs %d bytes by %s; the biggest packages unpacked: %s",
		im.File, term.HumanBytes(im.Size), im.Size, limit, term.HumanBytes(im.Size-limit), strings.Join(top, ", "))
}

func printSummary(f *cmdutil.Factory, s *config.Settings, res *Result) {
	w := f.IOStreams.Out
	r := res.Report
	if im := r.Images.Initramfs; im != nil {
		fmt.Fprintf(w, "initramfs   %s (%s; budget %d MB)\n", term.HumanBytes(im.Size), im.File, r.Budget.Initramfs/1_000_000)
	}
	if k := r.Images.Kernel; k != nil {
		fmt.Fprintf(w, "kernel      %s (%s)\n", term.HumanBytes(k.Size), k.File)
	}
	fmt.Fprintf(w, "rootfs      %s in %d packages (budget %d MB unpacked)\n", term.HumanBytes(r.Rootfs.Total), len(r.Rootfs.Packages), r.Budget.Rootfs/1_000_000)
	for _, p := range r.Top(topShown) {
		fmt.Fprintf(w, "  %-28s %10s\n", p.Name, term.HumanBytes(p.Size))
	}
	if m := r.IPA; m != nil {
		fmt.Fprintf(w, "agent       ironic-python-agent %s for OpenStack %s, %d wheels\n", m.AgentVersion(), m.Series, len(m.Packages))
	}
	if c := r.Against; c != nil {
		fmt.Fprintf(w, "against     %s: rootfs %s", s.Project.Rel(c.Output), signed(c.SizeTotal.Diff))
		if c.Initramfs != nil {
			fmt.Fprintf(w, ", initramfs %s", signed(c.Initramfs.Diff))
		}
		fmt.Fprintln(w)
		for _, d := range c.Size[:min(topShown, len(c.Size))] {
			fmt.Fprintf(w, "  %-28s %10s %s\n", d.Package, signed(d.Diff), d.Change)
		}
	}
	fmt.Fprintf(w, "report: %s\n", s.Project.Rel(res.HTML))
}

func signed(n int64) string {
	if n < 0 {
		return "-" + term.HumanBytes(-n)
	}
	return "+" + term.HumanBytes(n)
}

// openPage hands the page to the desktop's browser.
func openPage(ctx context.Context, f *cmdutil.Factory, s *config.Settings, html string) error {
	opener, err := f.LookPath("xdg-open")
	if err != nil {
		return errs.Failedf("--open: no xdg-open on PATH; open %s in a browser", s.Project.Rel(html))
	}
	c := process.Cmd{Name: opener, Args: []string{html}, Stderr: f.IOStreams.ErrOut}
	if err := f.Runner.Run(ctx, c); err != nil {
		return errs.Failedf("--open: %v; open %s in a browser", err, s.Project.Rel(html))
	}
	return nil
}
