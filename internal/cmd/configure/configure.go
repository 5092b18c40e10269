// Package configure implements `ipabr configure`: load a defconfig into
// the output directory.
package configure

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
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
		Long: `Load a defconfig into the output directory: Buildroot's 'make NAME_defconfig'.
The name must be one 'ipabr list' shows (no paths). The default comes from the
config key defconfig (env IPABR_DEFCONFIG), else openstack_ipa_defconfig.
An output already configured from a different defconfig is kept unless --force.

Then it applies the project's customisation, which the defconfig does not
hold, and says so in one line: the root password hash of root-password.hash
('ipabr passwd') and the users table scripts/users.table ('ipabr user add',
through BR2_ROOTFS_USERS_TABLES). It warns about SSH keys in
overlay/home/NAME/.ssh without a user NAME. See doc/customise.md.`,
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
	cmd.Flags().BoolVar(&opts.Unique, "unique", false, "configure a fresh output/UNIXTIME-XXXXXX")
	return cmd
}

func runConfigure(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	name, origin := opts.Defconfig, errs.Arg("DEFCONFIG")
	if name == "" {
		name, origin = s.Defconfig, s.Origin("defconfig")
	}
	w, err := f.OpenWorkspace(s, opts.Unique)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Load(opts.Context, name, origin, opts.Force); err != nil {
		return err
	}
	fmt.Fprintf(f.IOStreams.Out, "%s configured from %s\n", w.Rel(w.Dir), name)
	return nil
}
