package app

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// environmentTopic is `ipabr help environment`: every key and variable.
func environmentTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "environment",
		Short: "Configuration keys (ipabr.yaml) and environment variables",
		Long:  environmentHelp(),
	}
}

func environmentHelp() string {
	var b strings.Builder
	b.WriteString(`Configuration is layered, highest first: flags, IPABR_* environment, the
seed's BR2_* environment, ipabr.yaml at the project root (or --config FILE),
defaults. Relative paths in ipabr.yaml are relative to the project root; in
flags and the environment, to the working directory. Unknown keys and
malformed files are errors (exit 2).

ipabr.yaml keys:
`)
	for _, s := range settingsTable {
		fmt.Fprintf(&b, "  %-16s %s\n  %-16s env: %s; default: %s\n", s.Key, s.Help, "", strings.Join(s.Envs, ", "), s.Deflt)
	}
	b.WriteString("\nOther environment variables:\n")
	for _, e := range otherEnv {
		fmt.Fprintf(&b, "  %s\n      %s\n", e[0], e[1])
	}
	b.WriteString(`
Example ipabr.yaml:
  output: output
  defconfig: openstack_ipa_defconfig
  buildroot:
    url: https://mirror.example.com/buildroot.git
`)
	return b.String()
}
