// Package configure implements `ipabr configure`: load a defconfig into
// the output directory.
package configure

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
)

// Options are configure's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Defconfig string
	Force     bool
	Unique    bool
}

// NewCmdConfigure builds the command; runF replaces runConfigure in tests.
func NewCmdConfigure(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "configure [DEFCONFIG]",
		Short: "Load a defconfig into the output directory (default: openstack_ipa_defconfig)",
		Long: `Load a defconfig into the output directory: Buildroot's 'make <name>_defconfig'.
The name must be one 'ipabr list' shows (no paths). The default comes from the
config key defconfig (env IPABR_DEFCONFIG), else openstack_ipa_defconfig.
An output already configured from a different defconfig is kept unless --force.`,
		Example: `  ipabr configure
  ipabr configure --unique
  ipabr -O /tmp/qemu configure qemu_x86_64_defconfig`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if len(args) == 1 {
				opts.Defconfig = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runConfigure(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace a configuration loaded from another defconfig")
	cmd.Flags().BoolVar(&opts.Unique, "unique", false, "configure a fresh output/<unix-time>-XXXXXX")
	return cmd
}

func runConfigure(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	name := opts.Defconfig
	if name == "" {
		name = s.Defconfig
	}
	out, err := cmdutil.OpenOutput(s, opts.Unique, f.Now())
	if err != nil {
		return err
	}
	defer out.Close()
	if err := Load(opts.Context, f, s, out, name, opts.Force); err != nil {
		return err
	}
	fmt.Fprintf(f.IOStreams.Out, "%s configured from %s\n", s.Project.Rel(out.Dir), name)
	return nil
}

// Load checks name against list-defconfigs and the output's current
// configuration, then runs make NAME. build calls it too.
func Load(ctx context.Context, f *cmdutil.Factory, s *cmdutil.Settings, out *cmdutil.Output, name string, force bool) error {
	if !buildroot.ValidDefconfigName(name) {
		return cmdutil.UsageError("%q is not a defconfig name: give a name like openstack_ipa_defconfig, not a path ('ipabr list' shows them)", name)
	}
	defs, err := cmdutil.Defconfigs(ctx, f.Runner, s)
	if err != nil {
		return err
	}
	known := false
	for _, d := range defs {
		known = known || d.Name == name
	}
	if !known {
		return cmdutil.UsageError("unknown defconfig %q; 'ipabr list' shows the available ones", name)
	}
	cfg, ok, err := out.Config()
	if err != nil {
		return cmdutil.Failure("reading %s/.config: %v", s.Project.Rel(out.Dir), err)
	}
	if ok && cfg.DefconfigName() != name && !force {
		return cmdutil.UsageError("%s already holds a configuration loaded from %s; use --force to replace it with %s (changes made to it are lost), or another output (-O DIR or --unique)",
			s.Project.Rel(out.Dir), cfg.DefconfigName(), name)
	}
	start := time.Now()
	if err := cmdutil.RunMakeAside(ctx, f, out.Make, name); err != nil {
		return err
	}
	if err := ApplyFarm(ctx, f, s, out); err != nil { // download mirror, shared ccache (farm.go)
		return err
	}
	if s.Verbose {
		fmt.Fprintf(f.IOStreams.ErrOut, "make %s took %.1fs\n", name, time.Since(start).Seconds())
	}
	return nil
}

// Ensure returns the output's configuration, loading the default defconfig
// first when the output has none (build, source and ipa use start so);
// loaded says it did.
func Ensure(ctx context.Context, f *cmdutil.Factory, s *cmdutil.Settings, out *cmdutil.Output) (cfg *buildroot.Config, loaded bool, err error) {
	cfg, ok, err := out.Config()
	if err != nil {
		return nil, false, cmdutil.Failure("reading %s/.config: %v", s.Project.Rel(out.Dir), err)
	}
	if ok {
		return cfg, false, nil
	}
	if !s.Quiet {
		fmt.Fprintf(f.IOStreams.ErrOut, "%s has no configuration yet: loading %s\n", s.Project.Rel(out.Dir), s.Defconfig)
	}
	if err := Load(ctx, f, s, out, s.Defconfig, false); err != nil {
		return nil, false, err
	}
	if cfg, _, err = out.Config(); err != nil {
		return nil, false, cmdutil.Failure("reading %s/.config: %v", s.Project.Rel(out.Dir), err)
	}
	return cfg, true, nil
}
