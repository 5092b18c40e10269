package app

import (
	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmd/build"
	"github.com/ipabr/ipabr/internal/cmd/ca"
	"github.com/ipabr/ipabr/internal/cmd/cachekey"
	"github.com/ipabr/ipabr/internal/cmd/clean"
	"github.com/ipabr/ipabr/internal/cmd/configure"
	"github.com/ipabr/ipabr/internal/cmd/doctor"
	"github.com/ipabr/ipabr/internal/cmd/env"
	initcmd "github.com/ipabr/ipabr/internal/cmd/init"
	ipacmd "github.com/ipabr/ipabr/internal/cmd/ipa"
	"github.com/ipabr/ipabr/internal/cmd/list"
	"github.com/ipabr/ipabr/internal/cmd/makecmd"
	"github.com/ipabr/ipabr/internal/cmd/menuconfig"
	networkcmd "github.com/ipabr/ipabr/internal/cmd/network"
	"github.com/ipabr/ipabr/internal/cmd/overlay"
	"github.com/ipabr/ipabr/internal/cmd/passwd"
	qemucmd "github.com/ipabr/ipabr/internal/cmd/qemu"
	"github.com/ipabr/ipabr/internal/cmd/rebuild"
	reportcmd "github.com/ipabr/ipabr/internal/cmd/report"
	"github.com/ipabr/ipabr/internal/cmd/save"
	sbomcmd "github.com/ipabr/ipabr/internal/cmd/sbom"
	"github.com/ipabr/ipabr/internal/cmd/source"
	"github.com/ipabr/ipabr/internal/cmd/sshkey"
	"github.com/ipabr/ipabr/internal/cmd/status"
	"github.com/ipabr/ipabr/internal/cmd/user"
	versioncmd "github.com/ipabr/ipabr/internal/cmd/version"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/workspace"
)

// subcommand builds one subcommand; name is what the command line calls it
// (commands_test.go checks it against the built command).
type subcommand struct {
	name  string
	build func(*cmdutil.Factory) *cobra.Command
}

// subcommands lists every subcommand, in the order help shows them.
func subcommands() []subcommand {
	cmds := []subcommand{
		{"init", func(f *cmdutil.Factory) *cobra.Command { return initcmd.NewCmdInit(f, nil) }},
		{"env", func(f *cmdutil.Factory) *cobra.Command { return env.NewCmdEnv(f, nil) }},
		{"status", func(f *cmdutil.Factory) *cobra.Command { return status.NewCmdStatus(f, nil) }},
		{"doctor", func(f *cmdutil.Factory) *cobra.Command { return doctor.NewCmdDoctor(f, nil) }},
		{"list", func(f *cmdutil.Factory) *cobra.Command { return list.NewCmdList(f, nil) }},
		{"configure", func(f *cmdutil.Factory) *cobra.Command { return configure.NewCmdConfigure(f, nil) }},
		{"build", func(f *cmdutil.Factory) *cobra.Command { return build.NewCmdBuild(f, nil) }},
		{"source", func(f *cmdutil.Factory) *cobra.Command { return source.NewCmdSource(f, nil) }},
		{"cache-key", func(f *cmdutil.Factory) *cobra.Command { return cachekey.NewCmdCacheKey(f, nil) }},
		{"report", func(f *cmdutil.Factory) *cobra.Command { return reportcmd.NewCmdReport(f, nil) }},
		{"sbom", func(f *cmdutil.Factory) *cobra.Command { return sbomcmd.NewCmdSBOM(f, nil) }},
		{"rebuild", func(f *cmdutil.Factory) *cobra.Command { return rebuild.NewCmdRebuild(f, nil) }},
		{"save", func(f *cmdutil.Factory) *cobra.Command { return save.NewCmdSave(f, nil) }},
		{"clean", func(f *cmdutil.Factory) *cobra.Command { return clean.NewCmdClean(f, nil) }},
		{"make", func(f *cmdutil.Factory) *cobra.Command { return makecmd.NewCmdMake(f, nil) }},
		{"version", func(f *cmdutil.Factory) *cobra.Command { return versioncmd.NewCmdVersion(f, nil) }},
		{"qemu", func(f *cmdutil.Factory) *cobra.Command { return qemucmd.NewCmdQemu(f, nil) }},
		{"ipa", func(f *cmdutil.Factory) *cobra.Command { return ipacmd.NewCmdIPA(f, nil) }},
		{"passwd", func(f *cmdutil.Factory) *cobra.Command { return passwd.NewCmdPasswd(f, nil) }},
		{"ssh-key", func(f *cmdutil.Factory) *cobra.Command { return sshkey.NewCmdSSHKey(f) }},
		{"user", func(f *cmdutil.Factory) *cobra.Command { return user.NewCmdUser(f) }},
		{"overlay", func(f *cmdutil.Factory) *cobra.Command { return overlay.NewCmdOverlay(f) }},
		{"ca", func(f *cmdutil.Factory) *cobra.Command { return ca.NewCmdCA(f) }},
		{"network", func(f *cmdutil.Factory) *cobra.Command { return networkcmd.NewCmdNetwork(f) }},
	}
	for _, m := range workspace.Menus {
		cmds = append(cmds, subcommand{m.Target, func(f *cmdutil.Factory) *cobra.Command { return menuconfig.NewCmdMenu(f, nil, m) }})
	}
	// A help topic, built like the commands: its text lists every key.
	return append(cmds, subcommand{"environment", func(*cmdutil.Factory) *cobra.Command { return environmentTopic() }})
}

// addSubcommands adds to root the subcommand args name, or every one when
// they name none (help, completion, a mistake): building them all on every
// start would make `ipabr version` pay for the whole command tree.
func addSubcommands(root *cobra.Command, args []string, f *cmdutil.Factory) {
	cmds := subcommands()
	// Find strips root's flags the way execution will; placeholders stand
	// in for the subcommands while it looks.
	placeholders := make([]cobra.Command, len(cmds)) // one allocation, not one each
	for i, sc := range cmds {
		placeholders[i].Use = sc.name
		root.AddCommand(&placeholders[i])
	}
	found, _, err := root.Find(args)
	root.ResetCommands()
	all := err != nil || found == root
	for _, sc := range cmds {
		if all || found.Name() == sc.name {
			root.AddCommand(sc.build(f))
		}
	}
	// cobra adds its completion command as it executes, unless told not
	// to; a command line that names another command has no use for it.
	root.CompletionOptions.DisableDefaultCmd = !all
}
