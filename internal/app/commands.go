package app

import (
	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmd/doctor"
	"github.com/ipabr/ipabr/internal/cmd/env"
	initcmd "github.com/ipabr/ipabr/internal/cmd/init"
	qemucmd "github.com/ipabr/ipabr/internal/cmd/qemu"
	"github.com/ipabr/ipabr/internal/cmd/status"
	versioncmd "github.com/ipabr/ipabr/internal/cmd/version"
	"github.com/ipabr/ipabr/internal/cmdutil"
)

// commands lists every subcommand, in the order help shows them.
func commands(f *cmdutil.Factory) []*cobra.Command {
	return []*cobra.Command{
		initcmd.NewCmdInit(f, nil),
		env.NewCmdEnv(f, nil),
		status.NewCmdStatus(f, nil),
		doctor.NewCmdDoctor(f, nil),
		versioncmd.NewCmdVersion(f, nil),
		qemucmd.NewCmdQemu(f, nil),
	}
}
