// Package user implements `ipabr user add|list|remove|apply`: extra users
// of the image in a Buildroot users table (makeusers syntax) kept in the
// project's untracked scripts/users.table, wired into the output's .config
// through BR2_ROOTFS_USERS_TABLES.
package user

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Options are the inputs of the user subcommands.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context

	Name          string
	Groups        string
	SSHKey        string
	PasswordStdin bool
	Shell         string
	JSON          bool
}

// NewCmdUser builds the user command group.
func NewCmdUser(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user COMMAND",
		Short: "Manage extra users of the image (add, list, remove, apply)",
		Long: `Manage extra users of the image. They are kept in a users table in
Buildroot's makeusers syntax, scripts/users.table (untracked, mode 0600),
one line a user:

  username uid group gid password home shell groups comment

ipabr writes automatic ids (-2: Buildroot picks a free one from 1000), a main
group named after the user, home /home/NAME and shell /bin/sh. A password is
stored only as a SHA-512 crypt hash; without one the field is '*' (no
password login, SSH keys only). SSH keys go to the user's home in the overlay,
overlay/home/NAME/.ssh/authorized_keys (directory 0700, file 0600; in the image
Buildroot gives the home and everything below it to the user).

The table reaches the image through BR2_ROOTFS_USERS_TABLES in the output's
.config, which 'add' sets when the output is configured and every 'ipabr
configure' (and 'ipabr build' into a new output) sets again; 'apply' sets
it by hand. The tracked defconfig never names the table ('ipabr save'
leaves it out): Buildroot fails the build when a listed table is missing.
Configure warns about keys in overlay/home/NAME/.ssh without a user NAME. Changes take effect at the next 'ipabr build' (the root filesystem
images only; no package is rebuilt).`,
		Args: cobra.ArbitraryArgs,
		RunE: cmdutil.GroupRunE,
	}
	cmd.AddCommand(NewCmdAdd(f, nil), NewCmdList(f, nil), NewCmdRemove(f, nil), NewCmdApply(f, nil))
	return cmd
}

func newCmd(f *cmdutil.Factory, runF func(*Options) error, run func(*Options) error, c *cobra.Command, opts *Options) *cobra.Command {
	c.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Context = cmd.Context()
		if len(args) > 0 {
			opts.Name = args[0]
		}
		if runF != nil {
			return runF(opts)
		}
		return run(opts)
	}
	return c
}

// NewCmdAdd builds `user add`; runF replaces runAdd in tests.
func NewCmdAdd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := newCmd(f, runF, runAdd, &cobra.Command{
		Use:   "add NAME [--groups G,...] [--ssh-key FILE] [--password-stdin] [--shell PATH]",
		Short: "Add a user to the image",
		Long: `Add a user to the users table. NAME: lowercase letters, digits, _ and -,
starting with a letter or _, at most 32 characters, and not a user or group
the image already has (root, sshd, nobody, systemd-*, ...).`,
		Example: `  ipabr user add alice --ssh-key ~/.ssh/id_ed25519.pub
  printf '%s\n' "$PASSWORD" | ipabr user add bob --password-stdin --groups wheel,disk`,
		Args: cobra.ExactArgs(1),
	}, opts)
	cmd.Flags().StringVar(&opts.Groups, "groups", "", "additional groups, comma-separated (created when missing)")
	cmd.Flags().StringVar(&opts.SSHKey, "ssh-key", "", "authorise the public keys in FILE (- for standard input)")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read a password from the first line of standard input (stored as a SHA-512 hash)")
	cmd.Flags().StringVar(&opts.Shell, "shell", "", "login shell, an absolute path (default /bin/sh)")
	return cmd
}

// NewCmdList builds `user list`; runF replaces runList in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := newCmd(f, runF, runList, &cobra.Command{
		Use:   "list",
		Short: "List the users of the users table (passwords are never shown)",
		Long: `List the users of the users table: name, uid, groups, home, shell, the
state of the password (never the password or its hash) and how many SSH keys
authorise them. A user with neither a password nor a key cannot log in.
--json prints an array of objects (name, uid, groups, home, shell, password,
ssh_keys; uid -1 or -2: a system or user id Buildroot chooses), [] for none.`,
		Args: cobra.NoArgs,
	}, opts)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the users as a JSON array")
	return cmd
}

// NewCmdRemove builds `user remove`; runF replaces runRemove in tests.
func NewCmdRemove(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, runRemove, &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a user and the SSH keys ipabr put in its overlay home",
		Args:  cobra.ExactArgs(1),
	}, &Options{Factory: f})
}

// NewCmdApply builds `user apply`; runF replaces runApply in tests.
func NewCmdApply(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, runApply, &cobra.Command{
		Use:   "apply",
		Short: "Point the output's .config at the users table (configure and build do it too)",
		Long: `Add scripts/users.table to BR2_ROOTFS_USERS_TABLES in the output's .config
(through Buildroot's utils/config and olddefconfig). 'ipabr user add' does it
when the output is configured, and every 'ipabr configure' and 'ipabr build'
does it too; this does it by hand.`,
		Args: cobra.NoArgs,
	}, &Options{Factory: f})
}

// asCmdErr maps the end of standard input to a missing password.
func asCmdErr(err error) error {
	if errors.Is(err, io.EOF) {
		return errs.As(errs.BadInput, image.ErrNoPassword)
	}
	return err
}

func configured(s *config.Settings) bool {
	st, err := os.Stat(filepath.Join(s.Project.Output, ".config"))
	return err == nil && st.Mode().IsRegular()
}

func runAdd(opts *Options) error {
	f := opts.Factory
	ios := f.IOStreams
	if err := image.ValidateUserName(opts.Name); err != nil {
		return asCmdErr(err)
	}
	groups, err := image.ParseGroups(opts.Groups)
	if err != nil {
		return asCmdErr(fmt.Errorf("--groups: %w", err))
	}
	if opts.SSHKey == "-" && opts.PasswordStdin {
		return errs.BadInputf("--ssh-key - and --password-stdin both read standard input; give the key as a file")
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	u := image.NewUser(opts.Name)
	u.Groups = groups
	if opts.Shell != "" {
		u.Shell = opts.Shell
	}
	if err := u.Validate(); err != nil {
		return asCmdErr(err)
	}
	tablePath := workspace.UsersTable(p)
	table, err := image.LoadUsersTable(tablePath)
	if err != nil {
		return asCmdErr(err)
	}
	if _, ok := table.Lookup(u.Name); ok {
		return errs.BadInputf("user %s is already in %s; 'ipabr user remove %s' first to change it", u.Name, p.Rel(tablePath), u.Name)
	}
	var keys []image.AuthorizedKey
	if opts.SSHKey != "" {
		if keys, err = image.ReadKeys(ios.In, opts.SSHKey); err != nil {
			return err
		}
	}
	// Take the output's lock before anything is written, so that a running
	// build makes this fail with nothing changed.
	var out *workspace.Workspace
	if configured(s) {
		if out, err = f.OpenWorkspace(s, false); err != nil {
			return err
		}
		defer out.Close()
	}
	if opts.PasswordStdin {
		pw, err := image.ReadPassword(ios.In)
		if err != nil {
			return asCmdErr(err)
		}
		hash, err := image.HashPassword(pw)
		clear(pw)
		if err != nil {
			return errs.Failedf("hashing the password: %v", err)
		}
		u.Password = hash
	}
	if err := table.Add(u); err != nil {
		return asCmdErr(err)
	}
	var keyFile *image.AuthorizedKeysFile
	var added *image.AddResult
	if len(keys) > 0 {
		if keyFile, err = image.UserAuthorizedKeys(p.Overlay(), u.Home); err != nil {
			return asCmdErr(err)
		}
		if added, err = keyFile.Add(keys); err != nil {
			return asCmdErr(err)
		}
	}
	if err := table.Save(tablePath); err != nil {
		return errs.Failedf("writing %s: %v", p.Rel(tablePath), err)
	}
	w := ios.Out
	fmt.Fprintf(w, "added user %s to %s: %s\n", u.Name, p.Rel(tablePath), summary(u))
	if added != nil {
		for _, k := range added.Added {
			fmt.Fprintf(w, "added %s to %s\n", image.Describe(k), p.Rel(keyFile.Path()))
		}
		for _, k := range added.Duplicates {
			fmt.Fprintf(w, "already present %s in %s\n", image.Describe(k), p.Rel(keyFile.Path()))
		}
	}
	if out != nil {
		if err := wire(opts, out); err != nil {
			return err
		}
	}
	if s.Quiet {
		return nil
	}
	e := ios.ErrOut
	if out == nil {
		fmt.Fprintf(e, "%s is not configured yet: 'ipabr configure' or 'ipabr build' applies the table when it configures it.\n", p.Rel(p.Output))
	}
	if len(keys) == 0 && !opts.PasswordStdin {
		fmt.Fprintf(e, "warning: %s has neither a password nor an SSH key and cannot log in (add --ssh-key FILE or --password-stdin).\n", u.Name)
	}
	fmt.Fprintln(e, TakesEffect)
	if len(keys) > 0 {
		if warning := workspace.OverlayWarning(s); warning != "" {
			fmt.Fprintf(e, "warning: %s\n", warning)
		}
	}
	return nil
}

// TakesEffect says when a users table change reaches the image.
const TakesEffect = "It takes effect at the next 'ipabr build': the root filesystem images only (no package is rebuilt)."

// summary describes a user without its password.
func summary(u image.User) string {
	groups := "none"
	if len(u.Groups) > 0 {
		groups = strings.Join(u.Groups, ",")
	}
	return fmt.Sprintf("uid %s, group %s, groups %s, home %s, shell %s, password %s", id(u.UID), u.Group, groups, u.Home, u.Shell, u.PasswordState())
}

func id(n int) string {
	switch n {
	case image.AutoUserID, image.AutoSystemID:
		return "auto"
	}
	return strconv.Itoa(n)
}

// wire adds the table to BR2_ROOTFS_USERS_TABLES in the output's .config
// unless it is named there already, and shows the change.
func wire(opts *Options, w *workspace.Workspace) error {
	out := opts.Factory.IOStreams.Out
	changes, already, err := w.WireUsersTable(opts.Context)
	if err != nil {
		return err
	}
	cfgFile := w.Rel(w.ConfigFile())
	if already {
		fmt.Fprintf(out, "%s already uses %s (%s)\n", cfgFile, w.Rel(workspace.UsersTable(w.Settings.Project)), workspace.SymUsersTables)
		return nil
	}
	if !w.Settings.Quiet {
		fmt.Fprint(out, buildroot.FormatChanges(cfgFile, changes))
	}
	return nil
}

func runApply(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	if _, err := os.Stat(workspace.UsersTable(p)); errors.Is(err, fs.ErrNotExist) {
		return errs.BadInputf("there is no users table (%s) yet; add a user with 'ipabr user add NAME'", p.Rel(workspace.UsersTable(p)))
	}
	if _, err := image.LoadUsersTable(workspace.UsersTable(p)); err != nil {
		return asCmdErr(err)
	}
	if !configured(s) {
		return workspace.NotConfigured(s, p.Output)
	}
	out, err := f.OpenWorkspace(s, false)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := wire(opts, out); err != nil {
		return err
	}
	if !s.Quiet {
		fmt.Fprintln(f.IOStreams.ErrOut, TakesEffect)
	}
	return nil
}

// listedUser is one user as list shows it.
type listedUser struct {
	Name     string   `json:"name"`
	UID      int      `json:"uid"`
	Groups   []string `json:"groups"`
	Home     string   `json:"home"`
	Shell    string   `json:"shell"`
	Password string   `json:"password"`
	SSHKeys  int      `json:"ssh_keys"`
}

func runList(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	table, err := image.LoadUsersTable(workspace.UsersTable(p))
	if err != nil {
		return asCmdErr(err)
	}
	users := table.Users()
	e := f.IOStreams.ErrOut
	listed := make([]listedUser, 0, len(users))
	for _, u := range users {
		lu := listedUser{Name: u.Name, UID: u.UID, Groups: append([]string{}, u.Groups...), Home: u.Home, Shell: u.Shell}
		if kf, err := image.UserAuthorizedKeys(p.Overlay(), u.Home); err == nil && u.Home != "-" {
			if ks, err := kf.List(); err == nil {
				lu.SSHKeys = len(ks)
			}
		}
		lu.Password = u.PasswordState()
		if u.Password == image.PasswordNoLogin && lu.SSHKeys == 0 {
			lu.Password = "none, and no SSH key: cannot log in"
		}
		listed = append(listed, lu)
	}
	if opts.JSON {
		return cmdutil.PrintJSON(f.IOStreams.Out, listed)
	}
	if len(users) == 0 {
		if !s.Quiet {
			fmt.Fprintf(e, "no users in %s; add one with 'ipabr user add NAME'\n", p.Rel(workspace.UsersTable(p)))
		}
		return nil
	}
	tw := tabwriter.NewWriter(f.IOStreams.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tUID\tGROUPS\tHOME\tSHELL\tPASSWORD\tSSH KEYS")
	for _, u := range listed {
		groups, keys := "-", "-"
		if len(u.Groups) > 0 {
			groups = strings.Join(u.Groups, ",")
		}
		if u.SSHKeys > 0 {
			keys = strconv.Itoa(u.SSHKeys)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, id(u.UID), groups, u.Home, u.Shell, u.Password, keys)
	}
	tw.Flush()
	if s.Quiet {
		return nil
	}
	cfgPath := filepath.Join(p.Output, ".config")
	cfg, err := buildroot.ReadConfigFile(cfgPath)
	switch {
	case err != nil:
		fmt.Fprintf(e, "%s is not configured yet: 'ipabr configure' or 'ipabr build' applies the table when it configures it.\n", p.Rel(p.Output))
	case workspace.UsesUsersTable(p, p.Output, cfg.Values[workspace.SymUsersTables]):
		fmt.Fprintf(e, "%s uses %s (%s).\n", p.Rel(cfgPath), p.Rel(workspace.UsersTable(p)), workspace.SymUsersTables)
	default:
		fmt.Fprintf(e, "warning: %s does not use %s yet: the next 'ipabr build' applies it, or run 'ipabr user apply'.\n", p.Rel(cfgPath), p.Rel(workspace.UsersTable(p)))
	}
	return nil
}

func runRemove(opts *Options) error {
	f := opts.Factory
	s, err := f.Settings()
	if err != nil {
		return err
	}
	p := s.Project
	tablePath := workspace.UsersTable(p)
	table, err := image.LoadUsersTable(tablePath)
	if err != nil {
		return asCmdErr(err)
	}
	u, ok := table.Lookup(opts.Name)
	if !ok {
		if err := image.ValidateUserName(opts.Name); err != nil {
			return asCmdErr(err)
		}
		return errs.BadInputf("no user %s in %s ('ipabr user list' shows them)", opts.Name, p.Rel(tablePath))
	}
	if _, err := table.Remove(u.Name); err != nil {
		return asCmdErr(err)
	}
	if err := table.Save(tablePath); err != nil {
		return errs.Failedf("writing %s: %v", p.Rel(tablePath), err)
	}
	w := f.IOStreams.Out
	fmt.Fprintf(w, "removed user %s from %s\n", u.Name, p.Rel(tablePath))
	var leftover string
	if u.Home != "-" {
		if kf, err := image.UserAuthorizedKeys(p.Overlay(), u.Home); err == nil {
			if err := os.Remove(kf.Path()); err == nil {
				fmt.Fprintf(w, "removed %s\n", p.Rel(kf.Path()))
			} else if !errors.Is(err, fs.ErrNotExist) {
				return errs.Failedf("%v", err)
			}
			// Empty directories up to the overlay go too; a home that
			// still holds other files stays, and is reported.
			home := filepath.Join(p.Overlay(), filepath.FromSlash(u.Home))
			for dir := kf.Dir(); strings.HasPrefix(dir, p.Overlay()+string(filepath.Separator)); dir = filepath.Dir(dir) {
				err := os.Remove(dir)
				if err == nil || errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if dir == kf.Dir() || dir == home {
					leftover = home
				}
				break
			}
		}
	}
	if !s.Quiet {
		if leftover != "" {
			fmt.Fprintf(f.IOStreams.ErrOut, "warning: %s still holds files; they stay in the image, owned by root: remove them if they were %s's.\n", p.Rel(leftover), u.Name)
		}
		fmt.Fprintln(f.IOStreams.ErrOut, TakesEffect)
	}
	return nil
}
