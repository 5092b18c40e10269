package app

import (
	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
)

// environmentTopic is `ipabr help environment`: every key and variable.
func environmentTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "environment",
		Short: "Configuration keys (ipabr.yaml) and environment variables",
		Long:  config.EnvironmentHelp(),
	}
}

// helpCommand is `ipabr help [COMMAND...]`: cobra's shows the top-level
// help and exits 0 for a topic it does not know.
func helpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Help about any command",
		Long:  "Help for any command or topic: ipabr help COMMAND [SUBCOMMAND], or ipabr COMMAND --help.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil {
				return &cmdutil.UsageError{Cmd: root, Err: err}
			}
			if len(rest) > 0 {
				return cmdutil.UnknownCommand(target, rest[0])
			}
			return target.Help()
		},
	}
}

// refuseBadUsage makes every command group refuse an unknown subcommand
// and every argument count error a usage error (cmdutil.CountedArgs).
func refuseBadUsage(cmd *cobra.Command) {
	cmd.SuggestionsMinimumDistance = 2
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
		cmd.Args, cmd.RunE = cobra.ArbitraryArgs, cmdutil.GroupRunE
	}
	if cmd.Args != nil {
		cmd.Args = cmdutil.CountedArgs(cmd.Args)
	}
	for _, sub := range cmd.Commands() {
		refuseBadUsage(sub)
	}
}
