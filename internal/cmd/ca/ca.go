// Package ca implements `ipabr ca add|list|remove`: the private certificate
// authorities the image trusts (package cacert), so that the agent verifies
// an Ironic API behind TLS.
package ca

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cacert"
	"github.com/ipabr/ipabr/internal/cmdutil"
)

// Options are the inputs of the ca subcommands.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	File        string // add: a PEM file, or "-" for standard input
	Fingerprint string // remove
}

// NewCmdCA builds the ca command group.
func NewCmdCA(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca <command>",
		Short: "Manage the private CAs the image trusts, for an Ironic behind TLS (add, list, remove)",
		Long: `Manage the certificate authorities the image trusts beyond the public ones,
so that the agent can verify an Ironic API (and image servers) whose
certificates a private CA signed.

The certificates are kept in ` + cacert.DirName + `/ at the project root (untracked),
one PEM file each, with the agent's configuration ` + cacert.IPAConfigName + `
([DEFAULT] cafile = ` + cacert.Bundle + `). Every build of every output
installs them: the board's post-build.sh adds them to the image's trust
store (Buildroot's ca-certificates) and the configuration to
/etc/ironic-python-agent.d/. 'add' refuses, with exit 2 and nothing written,
anything but PEM CA certificates valid today: a private key (never shown),
a server certificate (no CA:TRUE), an expired one, other text, files over
1 MiB.

Changes take effect at the next 'ipabr build' (target finalisation only; no
package is rebuilt).`,
		Args: cobra.ArbitraryArgs,
		RunE: cmdutil.GroupRunE,
	}
	cmd.AddCommand(NewCmdAdd(f, nil), NewCmdList(f, nil), NewCmdRemove(f, nil))
	return cmd
}

// newCmd wires a subcommand to run, or to runF in tests; the argument, if
// any, goes to set.
func newCmd(f *cmdutil.Factory, runF, run func(*Options) error, set func(*Options, string), c *cobra.Command) *cobra.Command {
	opts := &Options{Factory: f}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Context = cmd.Context()
		if len(args) > 0 {
			set(opts, args[0])
		}
		if runF != nil {
			return runF(opts)
		}
		return run(opts)
	}
	return c
}

// NewCmdAdd builds `ca add`; runF replaces runAdd in tests.
func NewCmdAdd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, runAdd, func(o *Options, a string) { o.File = a }, &cobra.Command{
		Use:   "add FILE|-",
		Short: "Trust the CA certificates in the PEM file FILE (- reads standard input)",
		Example: `  ipabr ca add ironic-ca.pem
  openssl s_client -showcerts -connect ironic.example:6385 </dev/null | openssl x509 | ipabr ca add -   # only if that is the CA`,
		Args: cobra.ExactArgs(1),
	})
}

// NewCmdList builds `ca list`; runF replaces runList in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, runList, nil, &cobra.Command{
		Use:   "list",
		Short: "List the CA certificates: SHA-256 fingerprint, expiry, subject",
		Args:  cobra.NoArgs,
	})
}

// NewCmdRemove builds `ca remove`; runF replaces runRemove in tests.
func NewCmdRemove(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, runRemove, func(o *Options, a string) { o.Fingerprint = a }, &cobra.Command{
		Use:   "remove FINGERPRINT",
		Short: "Stop trusting the CA with this SHA-256 fingerprint (as 'ca list' shows it)",
		Long: `Remove the CA certificate with this SHA-256 fingerprint: as 'ipabr ca list'
or 'openssl x509 -noout -fingerprint -sha256' print it, with or without
colons, or its first 8 or more hex digits when they name one certificate.
Removing the last one removes the agent's configuration too; the next build
takes them out of the image.`,
		Example: `  ipabr ca remove 3F:2A:…
  ipabr ca remove 3f2a9c01`,
		Args: cobra.ExactArgs(1),
	})
}

// TakesEffect says when a change reaches the image.
const TakesEffect = "It takes effect at the next 'ipabr build' (post-build.sh installs " + cacert.DirName + "/; no package is rebuilt)."

func runAdd(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	data, err := cacert.Read(f.IOStreams.In, opts.File)
	if err != nil {
		return err
	}
	certs, err := cacert.Parse(data, f.Now())
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was added", opts.File, err)
	}
	store := cacert.ForProject(s.Project.Root)
	res, err := store.Add(certs)
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	for _, c := range res.Added {
		fmt.Fprintf(out, "added %s %s (expires %s)\n", c.Fingerprint(), c.Subject(), c.Expires())
	}
	for _, c := range res.Present {
		fmt.Fprintf(out, "already present %s %s\n", c.Fingerprint(), c.Subject())
	}
	if !s.Quiet {
		errOut := f.IOStreams.ErrOut
		fmt.Fprintf(errOut, "%s: the image trusts these CAs, and the agent verifies HTTPS with %s.\n", s.Project.Rel(store.Dir), cacert.Bundle)
		if len(res.Added) > 0 {
			fmt.Fprintln(errOut, TakesEffect)
		}
		if cfg, err := buildroot.ReadConfigFile(filepath.Join(s.Project.Output, ".config")); err == nil {
			for _, w := range cacert.CheckConfig(cfg) {
				fmt.Fprintf(errOut, "warning: %s: %s\n", s.Project.Rel(filepath.Join(s.Project.Output, ".config")), w)
			}
		}
	}
	return nil
}

func runList(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	store := cacert.ForProject(s.Project.Root)
	certs, err := store.List()
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		if !s.Quiet {
			fmt.Fprintln(f.IOStreams.ErrOut, "no private CA certificates: the image trusts the public CAs of Buildroot's ca-certificates only; add one with 'ipabr ca add FILE'")
		}
		return nil
	}
	tw := tabwriter.NewWriter(f.IOStreams.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FINGERPRINT (SHA-256)\tEXPIRES\tSUBJECT")
	for _, c := range certs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Fingerprint(), c.Expires(), c.Subject())
	}
	return tw.Flush()
}

func runRemove(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	store := cacert.ForProject(s.Project.Root)
	removed, err := store.Remove(opts.Fingerprint)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IOStreams.Out, "removed %s %s\n", removed.Fingerprint(), removed.Subject())
	if !s.Quiet {
		fmt.Fprintln(f.IOStreams.ErrOut, TakesEffect)
	}
	return nil
}
