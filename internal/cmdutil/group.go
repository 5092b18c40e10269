package cmdutil

import (
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/spf13/cobra"
)

// GroupRunE is the RunE of a command group (ipabr ca, ssh-key, user, ...):
// help for the bare group, and an unknown subcommand refused with exit 2,
// where cobra would show help and exit 0.
func GroupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return errs.BadInputf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}
