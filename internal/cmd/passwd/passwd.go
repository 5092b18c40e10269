// Package passwd implements `ipabr passwd`: set the image's root password
// as a SHA-512 crypt hash in the output's .config, never as plain text.
package passwd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	xterm "golang.org/x/term"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/workspace"
)

// The Buildroot symbols passwd sets.
const (
	SymRootLogin = "BR2_TARGET_ENABLE_ROOT_LOGIN"
	SymSHA512    = "BR2_TARGET_GENERIC_PASSWD_SHA512"
	SymSHA256    = "BR2_TARGET_GENERIC_PASSWD_SHA256"
	SymRootPass  = "BR2_TARGET_GENERIC_ROOT_PASSWD"
	symMkpasswd  = "BR2_PACKAGE_HOST_MKPASSWD"
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
		Long: `Set the root password of the image in the output's .config.

On a terminal the password is read twice without echo; with --stdin it is
read once, as the first line of standard input. It is hashed with SHA-512
crypt ($6$, a random 16-character salt) and only the hash is written:
BR2_TARGET_ENABLE_ROOT_LOGIN=y, BR2_TARGET_GENERIC_PASSWD_SHA512=y and
BR2_TARGET_GENERIC_ROOT_PASSWD with every $ doubled, as Buildroot requires,
through Buildroot's own utils/config and olddefconfig. The password never
appears in a command line, a log, a child's environment or a file.

--disable turns root login with a password off again and removes the hash.

The change takes effect at the next 'ipabr build' (target finalisation only,
no package is rebuilt). 'ipabr configure' reloads the defconfig and drops it;
'ipabr save' does not copy the hash into buildroot-ipa/ without
--include-secrets. Root may then log in on the console; over SSH root needs a
key ('ipabr ssh-key add').`,
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
	out, err := f.OpenWorkspace(s, false)
	if err != nil {
		return err
	}
	defer out.Close()
	cfgFile := out.Rel(out.ConfigFile())
	if _, err := out.RequireConfig(); err != nil {
		return err
	}

	var edits []buildroot.Edit
	var hash, secret string
	if opts.Disable {
		// The password selected host-mkpasswd; without it nothing in
		// Buildroot does, and olddefconfig turns it back on if something
		// selects it, so the configuration returns to the defconfig's.
		edits = []buildroot.Edit{buildroot.Set(SymRootPass, ""), buildroot.Disable(SymRootLogin), buildroot.Disable(symMkpasswd)}
	} else {
		pw, err := opts.readPassword()
		if err != nil {
			return err
		}
		hash, err = image.HashPassword(pw)
		clear(pw)
		if err != nil {
			return errs.Failedf("hashing the password: %v", err)
		}
		secret = image.DoubleDollars(hash)
		edits = []buildroot.Edit{
			buildroot.Enable(SymRootLogin),
			buildroot.Disable(SymSHA256), buildroot.Enable(SymSHA512),
			buildroot.Set(SymRootPass, secret),
		}
	}

	changes, err := out.EditConfig(opts.Context, edits...)
	if err != nil {
		return redact(workspace.MakeFailure(err), secret, hash)
	}
	after, err := out.RequireConfig()
	if err != nil {
		return err
	}
	switch {
	case opts.Disable && after.Enabled(SymRootLogin):
		return errs.Failedf("Buildroot kept %s enabled in %s", SymRootLogin, cfgFile)
	case !opts.Disable && (!after.Enabled(SymRootLogin) || after.Values[SymRootPass] != secret || !after.Enabled(SymSHA512)):
		return errs.Failedf("Buildroot did not keep the root password in %s: %s needs Buildroot's default skeleton (BR2_ROOTFS_SKELETON_DEFAULT)", cfgFile, SymRootLogin)
	}

	if s.Quiet {
		return nil
	}
	fmt.Fprint(ios.Out, buildroot.FormatChanges(cfgFile, changes))
	if len(changes) == 0 {
		return nil
	}
	w := ios.ErrOut
	if opts.Disable {
		fmt.Fprintln(w, "Root login with a password is off: root's password field becomes '*' again.")
	} else {
		fmt.Fprintln(w, "Root password set (SHA-512 crypt; only the hash is stored). Root can log in with it on the console;")
		fmt.Fprintln(w, "over SSH root needs a key ('ipabr ssh-key add').")
	}
	effect := "target finalisation only (no package is rebuilt)"
	if slices.ContainsFunc(changes, func(c buildroot.ConfigChange) bool { return c.Symbol == symMkpasswd && c.New == "y" }) {
		effect = "target finalisation only (no package is rebuilt; Buildroot builds its small host-mkpasswd tool once)"
	}
	fmt.Fprintf(w, "It takes effect at the next 'ipabr build': %s.\n", effect)
	if !opts.Disable {
		fmt.Fprintln(w, "'ipabr configure' reloads the defconfig and drops it; 'ipabr save' keeps it out of buildroot-ipa/ unless --include-secrets.")
	}
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

// maskedError is an error whose message had a secret replaced.
type maskedError struct {
	msg   string
	cause error // context.Canceled when interrupted, so the exit code stays 130
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.cause }

// redact replaces the hash (in both spellings) in err's message and
// verbose detail: a failed utils/config reports its command line.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, buildroot.MaskConfigValue(SymRootPass, s))
		}
	}
	if len(pairs) == 0 {
		return err
	}
	r := strings.NewReplacer(pairs...)
	var cause error
	if errors.Is(err, context.Canceled) {
		cause = context.Canceled
	}
	return &errs.Error{Kind: errs.KindOf(err), Err: &maskedError{msg: r.Replace(err.Error()), cause: cause}, Detail: r.Replace(errs.DetailOf(err))}
}
