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
	"github.com/ipabr/ipabr/internal/cmd/save"
	"github.com/ipabr/ipabr/internal/cmd/source"
	"github.com/ipabr/ipabr/internal/cmd/sshkey"
	"github.com/ipabr/ipabr/internal/cmd/status"
	"github.com/ipabr/ipabr/internal/cmd/user"
	versioncmd "github.com/ipabr/ipabr/internal/cmd/version"
	"github.com/ipabr/ipabr/internal/cmdutil"
)

// commands lists every subcommand, in the order help shows them.
func commands(f *cmdutil.Factory) []*cobra.Command {
	cmds := []*cobra.Command{
		initcmd.NewCmdInit(f, nil),
		env.NewCmdEnv(f, nil),
		status.NewCmdStatus(f, nil),
		doctor.NewCmdDoctor(f, nil),
		list.NewCmdList(f, nil),
		configure.NewCmdConfigure(f, nil),
		build.NewCmdBuild(f, nil),
		source.NewCmdSource(f, nil),
		cachekey.NewCmdCacheKey(f, nil),
		rebuild.NewCmdRebuild(f, nil),
		save.NewCmdSave(f, nil),
		clean.NewCmdClean(f, nil),
		makecmd.NewCmdMake(f, nil),
		versioncmd.NewCmdVersion(f, nil),
		qemucmd.NewCmdQemu(f, nil),
		ipacmd.NewCmdIPA(f, nil),
		passwd.NewCmdPasswd(f, nil),
		sshkey.NewCmdSSHKey(f),
		user.NewCmdUser(f),
		overlay.NewCmdOverlay(f),
		ca.NewCmdCA(f),
		networkcmd.NewCmdNetwork(f),
	}
	for _, m := range menuconfig.Menus {
		cmds = append(cmds, menuconfig.NewCmdMenu(f, nil, m))
	}
	return cmds
}
