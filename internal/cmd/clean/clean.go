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
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/workspace"
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
terminal and needs --yes otherwise.

Both delete only in a directory proven to be a Buildroot output configured
by this project: the Makefile Buildroot generates there (with its
"Automatically generated" header) and its .br2-external.mk naming this
project's buildroot-ipa tree. A .config, build/ or images/ alone is no proof
(a kernel or any source tree can have them). A directory holding only
ipabr's own files (.ipabr.lock, build.log) counts as empty. Anything else,
and the project, dl/, ccache/ or the home directory, is refused with exit 2
and the reason.`,
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
	if !opts.All {
		if err := workspace.CheckDeletingGoals(p, p.Output, []string{"clean"}); err != nil {
			return err
		}
	}
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
		if e.Name() == "README.md" || e.IsDir() && project.IsUniqueOutputName(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// SafeToRemove refuses the filesystem root, the home directory, the
// project or any of its own directories (output/ itself is the default
// output), anything containing them, and anything that is not proven an
// output this project configured (project.CheckOwnOutput).
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
	if err := p.CheckOwnOutput(dir); err != nil {
		return fmt.Errorf("refusing to remove %s: %w", p.Rel(dir), err)
	}
	return nil
}

// within reports whether path lies inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}
