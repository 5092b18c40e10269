// Package passwd implements `ipabr passwd`: set the image's root password
// as a SHA-512 crypt hash in the project's root-password.hash, which every
// configure applies, and in the configured output's .config; never as
// plain text.
package passwd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"
	xterm "golang.org/x/term"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are passwd's inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Stdin   bool
	Disable bool

	// ReadSecret reads one line from the terminal without echo after
	// showing prompt; nil means golang.org/x/term on the stdin descriptor.
	ReadSecret func(ctx context.Context, prompt string) ([]byte, error)
}

// NewCmdPasswd builds the command; runF replaces runPasswd in tests.
func NewCmdPasswd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "passwd [--stdin | --disable]",
		Short: "Set the image's root password (stored only as a SHA-512 crypt hash)",
		Long: `Set the root password of the image, for every output of the project.

On a terminal the password is read twice without echo; with --stdin it is
read once, as the first line of standard input. It is hashed with SHA-512
crypt ($6$, a random 16-character salt) and only the hash is kept, in
root-password.hash at the project's root (mode 0600, ignored by git, never
in the tracked defconfig). The password never appears in a command line, a
log, a child's environment or a file.

The configured output gets it at once, and every 'ipabr configure' (and
'ipabr build' into an output not configured yet: --unique, another -O)
applies it again: BR2_TARGET_ENABLE_ROOT_LOGIN=y,
BR2_TARGET_GENERIC_PASSWD_SHA512=y and BR2_TARGET_GENERIC_ROOT_PASSWD with
every $ doubled, as Buildroot requires, through Buildroot's own utils/config
and olddefconfig.

--disable removes root-password.hash, turns root login with a password off
in the configured output and removes the hash there.

The change takes effect at the next 'ipabr build' (target finalisation only,
no package is rebuilt). 'ipabr save' leaves the hash out of buildroot-ipa/
unless --include-secrets. Root may then log in on the console; over SSH root
needs a key ('ipabr ssh-key add').`,
		Example: `  ipabr passwd
  printf '%s\n' "$ROOT_PASSWORD" | ipabr passwd --stdin
  ipabr passwd --disable`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if opts.Stdin && opts.Disable {
				return errs.BadInputf("--stdin and --disable cannot be used together")
			}
			if runF != nil {
				return runF(opts)
			}
			return runPasswd(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Stdin, "stdin", false, "read the password once, from the first line of standard input")
	cmd.Flags().BoolVar(&opts.Disable, "disable", false, "turn root login with a password off and remove the hash")
	return cmd
}

func runPasswd(opts *Options) error {
	f := opts.Factory
	ios := f.IOStreams
	if !opts.Disable && !opts.Stdin && !ios.IsStdinTTY() {
		return errs.BadInputf("standard input is not a terminal, so the password cannot be typed without echo; pass it on standard input with 'ipabr passwd --stdin' (one line)")
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	file := workspace.RootPasswordFile(p)
	// The configured output gets the change too; its lock is taken before
	// anything is written, so a running build makes this fail with
	// nothing changed.
	var out *workspace.Workspace
	if _, err := os.Stat(filepath.Join(p.Output, ".config")); err == nil {
		if out, err = f.OpenWorkspace(s, false); err != nil {
			return err
		}
		defer out.Close()
	}

	var changes []buildroot.ConfigChange
	removed := false
	if opts.Disable {
		if out != nil {
			if changes, err = out.DisableRootPassword(opts.Context); err != nil {
				return err
			}
		}
		switch err := os.Remove(file); {
		case err == nil:
			removed = true
			fmt.Fprintf(ios.Out, "removed %s\n", p.Rel(file))
		case !errors.Is(err, fs.ErrNotExist):
			return errs.Failedf("removing %s: %v", p.Rel(file), err)
		}
	} else {
		pw, err := opts.readPassword()
		if err != nil {
			return err
		}
		hash, err := image.HashPassword(pw)
		clear(pw)
		if err != nil {
			return errs.Failedf("hashing the password: %v", err)
		}
		if out != nil {
			if changes, err = out.SetRootPassword(opts.Context, hash); err != nil {
				return err
			}
		}
		if err := image.SaveRootHash(file, hash); err != nil {
			return errs.Failedf("writing %s: %v", p.Rel(file), err)
		}
		fmt.Fprintf(ios.Out, "stored the root password hash in %s (mode 0600, ignored by git)\n", p.Rel(file))
	}
	if out != nil && !s.Quiet {
		fmt.Fprint(ios.Out, buildroot.FormatChanges(out.Rel(out.ConfigFile()), changes))
	}
	if s.Quiet || (opts.Disable && !removed && len(changes) == 0) {
		return nil
	}
	w := ios.ErrOut
	if opts.Disable {
		fmt.Fprintln(w, "Root login with a password is off: root's password field becomes '*' again.")
		fmt.Fprintln(w, "Outputs configured before keep their hash until 'ipabr configure --force' reloads them.")
		return nil
	}
	fmt.Fprintln(w, "Root password set (SHA-512 crypt; only the hash is stored). Root can log in with it on the console;")
	fmt.Fprintln(w, "over SSH root needs a key ('ipabr ssh-key add').")
	if out == nil {
		fmt.Fprintf(w, "%s is not configured yet: 'ipabr configure' or 'ipabr build' applies the password when it configures it.\n", p.Rel(p.Output))
	} else {
		effect := "target finalisation only (no package is rebuilt)"
		if slices.ContainsFunc(changes, func(c buildroot.ConfigChange) bool { return c.Symbol == workspace.SymMkpasswd && c.New == "y" }) {
			effect = "target finalisation only (no package is rebuilt; Buildroot builds its small host-mkpasswd tool once)"
		}
		fmt.Fprintf(w, "It takes effect at the next 'ipabr build': %s.\n", effect)
	}
	fmt.Fprintf(w, "Every 'ipabr configure', and 'ipabr build' into a new output, applies it from %s; 'ipabr save' leaves it out of buildroot-ipa/ unless --include-secrets.\n", p.Rel(file))
	return nil
}

// readPassword reads the new password: once from stdin with --stdin,
// otherwise twice from the terminal without echo.
func (opts *Options) readPassword() ([]byte, error) {
	ios := opts.Factory.IOStreams
	if opts.Stdin {
		pw, err := image.ReadPassword(ios.In)
		return pw, inputErr(err)
	}
	read := opts.ReadSecret
	if read == nil {
		read = func(ctx context.Context, prompt string) ([]byte, error) { return readTerminal(ctx, ios, prompt) }
	}
	first, err := read(opts.Context, "New root password: ")
	if err != nil {
		return nil, inputErr(err)
	}
	if err := image.CheckPassword(first); err != nil {
		clear(first)
		return nil, inputErr(err)
	}
	second, err := read(opts.Context, "Retype new root password: ")
	if err != nil {
		clear(first)
		return nil, inputErr(err)
	}
	err = image.ConfirmPassword(first, second)
	clear(second)
	if err != nil {
		clear(first)
		return nil, inputErr(err)
	}
	return first, nil
}

// inputErr maps the end of input to ErrNoPassword and bad input to exit 2.
func inputErr(err error) error {
	if errors.Is(err, io.EOF) {
		return errs.As(errs.BadInput, image.ErrNoPassword)
	}
	return err
}

// readTerminal turns echo off, shows prompt on stderr and reads a line
// from the stdin terminal. Cancelling ctx (Ctrl-C) restores the terminal
// and returns at once.
func readTerminal(ctx context.Context, ios *term.IOStreams, prompt string) ([]byte, error) {
	fd := ios.StdinFd()
	if fd < 0 {
		return nil, errs.BadInputf("standard input is not a terminal; use --stdin")
	}
	state, err := xterm.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("reading the terminal's state: %w", err)
	}
	restore, err := echoOff(fd)
	if err != nil {
		return nil, fmt.Errorf("turning the terminal's echo off: %w", err)
	}
	defer restore()
	fmt.Fprint(ios.ErrOut, prompt)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := xterm.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(ios.ErrOut)
		return r.b, r.err
	case <-ctx.Done():
		_ = xterm.Restore(fd, state)
		fmt.Fprintln(ios.ErrOut)
		return nil, ctx.Err()
	}
}
