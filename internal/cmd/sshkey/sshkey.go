// Package sshkey implements `ipabr ssh-key add|list|remove`: root's SSH
// authorized keys in the user's overlay, with the modes sshd wants and an
// sshd drop-in that allows key-only root login.
package sshkey

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are the inputs of the ssh-key subcommands.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	File        string // add: a key file, or "-" for standard input
	Fingerprint string // remove
	JSON        bool   // list
}

// NewCmdSSHKey builds the ssh-key command group.
func NewCmdSSHKey(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ssh-key COMMAND",
		Short: "Manage root's SSH keys in overlay/ (add, list, remove)",
		Long: `Manage the SSH public keys that may log in as root, kept in your overlay as
overlay/root/.ssh/authorized_keys (directory 0700, file 0600). Every key is
parsed first (garbage and private keys are refused with the line named, and
nothing is written); a key already there is not added twice. 'add' also
writes the sshd drop-in overlay/etc/ssh/sshd_config.d/` + image.SSHDDropInName + `:
root may log in with a key only, and nobody with a password.

Changes take effect at the next 'ipabr build' (target finalisation only:
the overlay is copied again; no package is rebuilt).`,
		Args: cobra.ArbitraryArgs,
		RunE: cmdutil.GroupRunE,
	}
	cmd.AddCommand(NewCmdAdd(f, nil), NewCmdList(f, nil), NewCmdRemove(f, nil))
	return cmd
}

// NewCmdAdd builds `ssh-key add`; runF replaces runAdd in tests.
func NewCmdAdd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	return &cobra.Command{
		Use:   "add FILE|-",
		Short: "Authorise the public keys in FILE (- reads standard input) for root",
		Example: `  ipabr ssh-key add ~/.ssh/id_ed25519.pub
  ssh-add -L | ipabr ssh-key add -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runAdd(opts)
		},
	}
}

// NewCmdList builds `ssh-key list`; runF replaces runList in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List root's authorized keys: type, SHA256 fingerprint, comment",
		Long: `List root's authorized keys: type, SHA256 fingerprint and comment (with the
key's options). --json prints an array of objects (type, fingerprint,
comment, options), [] for none.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the keys as a JSON array")
	return cmd
}

// NewCmdRemove builds `ssh-key remove`; runF replaces runRemove in tests.
func NewCmdRemove(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	return &cobra.Command{
		Use:   "remove FINGERPRINT",
		Short: "Remove the key with this SHA256 fingerprint (as 'ssh-key list' shows it)",
		Long: `Remove root's authorized key with this SHA256 fingerprint, with or without
the SHA256: prefix. When no key is left, the sshd drop-in is removed too.`,
		Example: `  ipabr ssh-key remove SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Fingerprint = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runRemove(opts)
		},
	}
}

func runAdd(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	keys, err := image.ReadKeys(f.IOStreams.In, opts.File)
	if err != nil {
		return err
	}
	file := image.RootAuthorizedKeys(p.Overlay())
	res, err := file.Add(keys)
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	for _, k := range res.Added {
		fmt.Fprintf(out, "added %s\n", image.Describe(k))
	}
	for _, k := range res.Duplicates {
		fmt.Fprintf(out, "already present %s\n", image.Describe(k))
	}
	changed, err := image.WriteSSHDDropIn(p.Overlay())
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(out, "wrote %s: root logs in over SSH with a key only; no password logins\n", p.Rel(image.SSHDDropInPath(p.Overlay())))
	}
	if !s.Quiet {
		all, _ := file.List()
		fmt.Fprintf(f.IOStreams.ErrOut, "%s holds %d key(s) (directory 0700, file 0600).\n", p.Rel(file.Path()), len(all))
		if len(res.Added) > 0 || changed {
			fmt.Fprintln(f.IOStreams.ErrOut, TakesEffect)
		}
		if warning := workspace.OverlayWarning(s); warning != "" {
			fmt.Fprintf(f.IOStreams.ErrOut, "warning: %s\n", warning)
		}
	}
	return nil
}

// TakesEffect says when an overlay change reaches the image.
const TakesEffect = "It takes effect at the next 'ipabr build': target finalisation only (the overlay is copied again; no package is rebuilt)."

// listedKey is one key as list --json shows it.
type listedKey struct {
	Type        string   `json:"type"`
	Fingerprint string   `json:"fingerprint"`
	Comment     string   `json:"comment"`
	Options     []string `json:"options"`
}

func runList(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	file := image.RootAuthorizedKeys(s.Project.Overlay())
	keys, err := file.List()
	if err != nil {
		return err
	}
	if opts.JSON {
		listed := make([]listedKey, 0, len(keys))
		for _, k := range keys {
			listed = append(listed, listedKey{Type: k.Type(), Fingerprint: k.Fingerprint(), Comment: k.Comment, Options: append([]string{}, k.Options...)})
		}
		return cmdutil.PrintJSON(f.IOStreams.Out, listed)
	}
	if len(keys) == 0 {
		if !s.Quiet {
			fmt.Fprintf(f.IOStreams.ErrOut, "no SSH keys for root in %s; add one with 'ipabr ssh-key add FILE'\n", s.Project.Rel(file.Path()))
		}
		return nil
	}
	PrintKeys(f.IOStreams.Out, keys)
	return nil
}

// PrintKeys writes a TYPE FINGERPRINT COMMENT table.
func PrintKeys(w io.Writer, keys []image.AuthorizedKey) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tFINGERPRINT\tCOMMENT")
	for _, k := range keys {
		comment := k.Comment
		if len(k.Options) > 0 {
			comment = strings.TrimSpace(comment + " [options: " + strings.Join(k.Options, ",") + "]")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Type(), k.Fingerprint(), comment)
	}
	tw.Flush()
}

func runRemove(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	file := image.RootAuthorizedKeys(p.Overlay())
	removed, err := file.Remove(opts.Fingerprint)
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	fmt.Fprintf(out, "removed %s\n", image.Describe(removed))
	left, err := file.List()
	if err != nil {
		return err
	}
	if len(left) == 0 {
		if data, err := os.ReadFile(file.Path()); err == nil && strings.TrimSpace(string(data)) == "" {
			if err := os.Remove(file.Path()); err != nil {
				return errs.Failedf("%v", err)
			}
			fmt.Fprintf(out, "removed %s (no key left)\n", p.Rel(file.Path()))
		}
		gone, err := image.RemoveSSHDDropIn(p.Overlay())
		if err != nil {
			return errs.Failedf("%v", err)
		}
		if gone {
			fmt.Fprintf(out, "removed %s (no key left)\n", p.Rel(image.SSHDDropInPath(p.Overlay())))
		}
	}
	if !s.Quiet {
		fmt.Fprintln(f.IOStreams.ErrOut, TakesEffect)
	}
	return nil
}
