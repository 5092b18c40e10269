// Package network implements `ipabr network render`: the systemd-networkd
// files the image would use for a node's network_data.json and kernel
// command line (package network), to check them before a deploy.
package network

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/network"
)

// Options are the inputs of network render.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	NetworkData string
	Cmdline     string
	Out         string
}

// NewCmdNetwork builds the network command group.
func NewCmdNetwork(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network <command>",
		Short: "Check a node's static network configuration before deploying it (render)",
		Args:  cobra.ArbitraryArgs,
		RunE:  cmdutil.GroupRunE,
	}
	cmd.AddCommand(NewCmdRender(f, nil))
	return cmd
}

// NewCmdRender builds `network render`; runF replaces runRender in tests.
func NewCmdRender(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "render --network-data FILE [--cmdline ARGS] --out DIR",
		Short: "Write the networkd files the image would use for a network_data.json and kernel command line",
		Long: `Write into DIR the systemd-networkd files the image would use on a node: the
image's own converter (usr/libexec/ipa-network-data, run here with python3)
for the config drive's network_data.json, what the host's
systemd-network-generator makes of the kernel command line's ip=, vlan=,
bond= and nameserver=, and the fixed files of the board's overlay and of
overlay/. networkd applies, to each link, the first matching file in name
order: the config drive's (10-config-drive-*), then the command line's
(90-*, 91-default), then the board's DHCP on every wired port (99-ipa-*).

Input the image would refuse (malformed JSON, an unknown link or network
type, a bond member that is not a port, ...) is refused here with exit 2;
at boot the image logs it on the console and falls back to the command line
and DHCP. Which ports exist is only known at boot: there a port whose MAC
address matches no interface also makes the image fall back.

DIR must be new, empty, or hold only networkd files (.network, .netdev,
.link), which are replaced.`,
		Example: `  ipabr network render --network-data node1/network_data.json --out /tmp/node1
  ipabr network render --cmdline 'ip=192.0.2.10::192.0.2.1:255.255.255.0:node1:eno1:none nameserver=192.0.2.53' --out /tmp/node1
  openstack baremetal node show node1 -f json -c network_data | jq .network_data | ipabr network render --network-data - --out /tmp/node1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runRender(opts)
		},
	}
	cmd.Flags().StringVar(&opts.NetworkData, "network-data", "", "the config drive's network_data.json `FILE` (- for standard input)")
	cmd.Flags().StringVar(&opts.Cmdline, "cmdline", "", "kernel command line `ARGS` (dracut syntax: ip=, vlan=, bond=, nameserver=)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "the `DIR` to write the files to (required)")
	return cmd
}

func runRender(opts *Options) error {
	f := opts.Factory
	if opts.Out == "" {
		return errs.BadInputf("--out DIR is required")
	}
	if opts.NetworkData == "" && opts.Cmdline == "" {
		return errs.BadInputf("give --network-data FILE, --cmdline ARGS or both")
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	files, err := network.Render(opts.Context, f.Runner, network.Request{
		External:    s.Project.External,
		Overlay:     s.Project.Overlay(),
		NetworkData: opts.NetworkData,
		Stdin:       f.IOStreams.In,
		Cmdline:     opts.Cmdline,
		Out:         opts.Out,
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(f.IOStreams.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tFROM")
	for _, file := range files {
		fmt.Fprintf(tw, "%s\t%s\n", file.Name, file.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !s.Quiet {
		fmt.Fprintf(f.IOStreams.ErrOut, "Wrote %d file(s) to %s. networkd applies to each link the first file, in name order, that matches it.\n", len(files), opts.Out)
	}
	return nil
}
