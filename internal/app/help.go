package app

import (
	"github.com/spf13/cobra"

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
