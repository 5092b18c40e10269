// Package clean implements `ipabr clean`: make clean, or remove the whole
// output directory with --all.
package clean

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/lazyregexp"
	"github.com/ipabr/ipabr/internal/project"
)

// Options are clean's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context
	All     bool
	Yes     bool
}

// NewCmdClean builds the command; runF replaces runClean in tests.
func NewCmdClean(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "make clean (keeps .config), or remove the output directory with --all",
		Long: `Run Buildroot's 'make clean', which deletes the build results but keeps the
configuration. --all removes the whole output directory; it asks first on a
terminal and needs --yes otherwise. ipabr removes only directories that are
Buildroot output directories, never the project, dl/, ccache/ or the like.`,
		Example: `  ipabr clean
  ipabr -O output/1700000000-AbCdEf clean --all --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runClean(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "remove the whole output directory")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runClean(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	if opts.All {
		if err := SafeToRemove(p, p.Output); err != nil {
			return errs.BadInputf("%v", err)
		}
		if _, err := os.Stat(p.Output); os.IsNotExist(err) {
			fmt.Fprintf(f.IOStreams.Out, "%s does not exist; nothing to remove\n", p.Rel(p.Output))
			return nil
		}
	}
	out, err := f.OpenWorkspace(s, false)
	if err != nil {
		return err
	}
	defer out.Close()
	if !opts.All {
		return out.RunMake(opts.Context, f.IOStreams.Out, f.IOStreams.ErrOut, "clean")
	}
	if !opts.Yes {
		if !f.IOStreams.IsStdinTTY() {
			return errs.BadInputf("clean --all removes %s; pass --yes to confirm when not on a terminal", p.Rel(out.Dir))
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "Remove %s and everything in it? [y/N] ", p.Rel(out.Dir))
		answer, _ := bufio.NewReader(f.IOStreams.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return errs.Failedf("not removed")
		}
	}
	if err := removeOutput(p, out.Dir); err != nil {
		return errs.Failedf("removing %s: %v", out.Dir, err)
	}
	fmt.Fprintf(f.IOStreams.Out, "removed %s\n", p.Rel(out.Dir))
	return nil
}

var uniqueName = lazyregexp.New(`^[0-9]+-[A-Za-z0-9]{6}$`)

// removeOutput removes an output directory. The default one, output/
// itself, also holds its README and the --unique outputs: those stay.
func removeOutput(p *project.Project, dir string) error {
	if filepath.Clean(dir) != filepath.Clean(p.OutputRoot()) {
		return os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == "README.md" || e.IsDir() && uniqueName.MatchString(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// SafeToRemove refuses anything that is not plainly a Buildroot output
// directory: the filesystem root, the project or any of its own
// directories (output/ itself is the default output), anything containing
// them, or a non-empty directory without Buildroot's marks (.config,
// Makefile, build/, images/).
func SafeToRemove(p *project.Project, dir string) error {
	dir = filepath.Clean(dir)
	protected := []string{p.Root, p.Buildroot, p.External, p.DL, p.CCache, p.Overlay(), p.Scripts(), filepath.Join(p.Root, ".git")}
	if home, err := os.UserHomeDir(); err == nil {
		protected = append(protected, home)
	}
	if dir == "/" || dir == "." {
		return fmt.Errorf("refusing to remove %s", dir)
	}
	for _, q := range protected {
		if dir == filepath.Clean(q) || within(q, dir) {
			return fmt.Errorf("refusing to remove %s: it is (or contains) %s, not an output directory", dir, q)
		}
	}
	if dir == filepath.Clean(p.OutputRoot()) {
		return nil // the default output; removeOutput keeps its README and --unique outputs
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !project.IsOutputDir(dir) {
		return fmt.Errorf("refusing to remove %s: it does not look like a Buildroot output directory (no .config, Makefile, build/ or images/)", dir)
	}
	return nil
}

// within reports whether path lies inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}
