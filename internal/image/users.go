package image

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// The users table is in Buildroot's makeusers syntax (docs/manual/
// makeusers-syntax.adoc, read by support/scripts/mkusers): one user a line,
//
//	username uid group gid password home shell groups comment
//
// separated by blanks, every field but the free-text comment mandatory and
// without spaces, no field with ':'. mkusers drops everything from a '#' to
// the end of the line, so no field may hold '#' either. The file is only
// ever cat'ed into Buildroot's full table, never expanded by make, so a
// "$6$" hash is written with single dollars. BR2_ROOTFS_USERS_TABLES names it.

// UsersTableName is the users table's file name in the project's scripts/.
const UsersTableName = "users.table"

// Automatic ids: Buildroot picks a free one in the range.
const (
	AutoSystemID = -1 // a system id in [100, 999]
	AutoUserID   = -2 // a user id in [1000, 1999]
)

// MaxUserNameLen is the longest user or group name accepted.
const MaxUserNameLen = 32

// Password field values other than a hash (see makeusers-syntax.adoc).
const (
	PasswordNoLogin = "*" // no password can match: password login impossible, SSH keys still work
	PasswordLocked  = "!" // a locked account: sshd refuses even keys when UsePAM is off
)

// ReservedNames are user (and group) names that a Buildroot systemd image
// already has or may create: the skeleton's /etc/passwd and /etc/group, the
// groups systemd and udev add, and the users of packages such an image
// holds. Names starting with a ReservedPrefixes entry are reserved too.
var ReservedNames = []string{
	// system/skeleton/etc/passwd and group
	"root", "daemon", "bin", "sys", "sync", "mail", "www-data", "operator", "nobody",
	"adm", "tty", "disk", "lp", "kmem", "wheel", "cdrom", "dialout", "floppy", "video",
	"audio", "tape", "utmp", "plugdev", "staff", "lock", "netdev", "users", "nogroup",
	// systemd and udev groups (sysusers basic.conf, package/systemd)
	"input", "kvm", "render", "sgx", "messagebus",
	// users of packages: openssh, dbus, chrony, ntp, polkit, tpm2-tss,
	// util-linux (uuidd), avahi, qemu
	"sshd", "dbus", "chrony", "ntp", "polkitd", "tss", "uuidd", "avahi", "qemu",
}

// ReservedPrefixes are name prefixes kept for the system.
var ReservedPrefixes = []string{"systemd-"}

// systemDirs cannot be a user's home: mkusers chowns a home recursively.
var systemDirs = []string{
	"/root", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media",
	"/mnt", "/opt", "/proc", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
	"/usr/bin", "/usr/lib", "/usr/libexec", "/usr/local", "/usr/sbin", "/usr/share",
	"/var/lib", "/var/log", "/var/run", "/var/empty",
}

var nameRE = lazyregexp.New(`^[a-z_][a-z0-9_-]*$`)

// checkName validates a user or group name's form.
func checkName(what, name string) error {
	switch {
	case name == "":
		return badInputf("empty %s name", what)
	case len(name) > MaxUserNameLen:
		return badInputf("%s name %q is longer than %d characters", what, name, MaxUserNameLen)
	case !nameRE.MatchString(name):
		return badInputf("%s name %q: use lowercase letters, digits, _ and -, starting with a letter or _ (no spaces, ':' or newlines)", what, name)
	}
	return nil
}

// ValidateUserName checks a new user's name: lowercase [a-z_][a-z0-9_-]*,
// at most 32 characters, not a reserved system name.
func ValidateUserName(name string) error {
	if err := checkName("user", name); err != nil {
		return err
	}
	if IsReservedName(name) {
		return badInputf("user name %q belongs to the system image; pick another", name)
	}
	return nil
}

// IsReservedName reports whether name is in ReservedNames or starts with a
// ReservedPrefixes entry.
func IsReservedName(name string) bool {
	if slices.Contains(ReservedNames, name) {
		return true
	}
	for _, p := range ReservedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// User is one line of the users table.
type User struct {
	Name     string
	UID      int    // > 0, or AutoSystemID / AutoUserID
	Group    string // main group, created if missing
	GID      int    // > 0, or AutoSystemID / AutoUserID
	Password string // "$6$..." hash, "!" + hash (locked), "*" or "!" (see the constants)
	Home     string // absolute path in the image (not a system directory), or "-" for none
	Shell    string // absolute path, or "-" for /bin/false
	Groups   []string
	Comment  string // free text: spaces allowed, not ':' '#' or control characters
}

// NewUser returns a user with ipabr's defaults: automatic user ids, a main
// group of the same name, no password (PasswordNoLogin: SSH keys only),
// home /home/NAME and shell /bin/sh.
func NewUser(name string) User {
	return User{
		Name: name, UID: AutoUserID, Group: name, GID: AutoUserID,
		Password: PasswordNoLogin, Home: "/home/" + name, Shell: "/bin/sh",
	}
}

// Validate checks everything ipabr writes: the name (ValidateUserName), ids,
// the main group (not root, which Buildroot forbids), extra groups (valid
// names, no repeats), the password (only SHA-512 hashes, never plain text
// or an empty password), home (absolute, not / nor a system directory such
// as /root or /etc, or -), shell (absolute or -) and comment.
func (u User) Validate() error {
	if err := ValidateUserName(u.Name); err != nil {
		return err
	}
	if err := checkID("uid", u.UID); err != nil {
		return err
	}
	if err := checkID("gid", u.GID); err != nil {
		return err
	}
	if err := checkName("group", u.Group); err != nil {
		return err
	}
	if u.Group == "root" {
		return badInputf("the main group cannot be root (Buildroot refuses it)")
	}
	if err := CheckGroups(u.Groups); err != nil {
		return err
	}
	if err := checkPasswordField(u.Password); err != nil {
		return err
	}
	if u.Home != "-" {
		if err := checkHome(u.Home); err != nil {
			return err
		}
		if slices.Contains(systemDirs, u.Home) {
			return badInputf("home %s is a system directory: Buildroot would give it, and everything below, to %s", u.Home, u.Name)
		}
	}
	if u.Shell != "-" {
		if !strings.HasPrefix(u.Shell, "/") || strings.ContainsAny(u.Shell, ":#") || strings.IndexFunc(u.Shell, isSpaceOrControl) >= 0 {
			return badInputf("shell %q must be an absolute path without spaces, ':' or '#'", u.Shell)
		}
	}
	if strings.ContainsAny(u.Comment, ":#") || strings.IndexFunc(u.Comment, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return badInputf("the comment may not contain ':', '#', newlines or other control characters")
	}
	return nil
}

func checkID(what string, id int) error {
	if id == AutoSystemID || id == AutoUserID || id > 0 {
		return nil
	}
	return badInputf("%s %d: use a positive number, %d (automatic system id) or %d (automatic user id)", what, id, AutoSystemID, AutoUserID)
}

// CheckGroups validates a list of additional groups: valid names, each once.
func CheckGroups(groups []string) error {
	seen := map[string]bool{}
	for _, g := range groups {
		if err := checkName("group", g); err != nil {
			return err
		}
		if seen[g] {
			return badInputf("group %q is listed twice", g)
		}
		seen[g] = true
	}
	return nil
}

// ParseGroups splits a comma-separated group list ("wheel,audio") and
// validates it; "" and "-" are no groups.
func ParseGroups(s string) ([]string, error) {
	if s == "" || s == "-" {
		return nil, nil
	}
	groups := strings.Split(s, ",")
	if err := CheckGroups(groups); err != nil {
		return nil, err
	}
	return groups, nil
}

func checkPasswordField(p string) error {
	switch {
	case p == PasswordNoLogin || p == PasswordLocked:
		return nil
	case p == "" || p == "-":
		return badInputf("an empty password would allow login without one; use %q for SSH-key-only login", PasswordNoLogin)
	case strings.HasPrefix(p, "=") || strings.HasPrefix(p, "!="):
		return badInputf("plain-text passwords are refused; ipabr stores only SHA-512 hashes")
	}
	return ValidSHA512Hash(strings.TrimPrefix(p, PasswordLocked))
}

// PasswordState describes the password field without showing it.
func (u User) PasswordState() string {
	p := u.Password
	switch {
	case p == PasswordNoLogin:
		return "none (SSH key login only)"
	case p == PasswordLocked:
		return "locked"
	case p == "-":
		return "EMPTY (login without a password)"
	case strings.HasPrefix(p, "!="), strings.HasPrefix(p, "="):
		return "PLAIN TEXT in the table"
	case strings.HasPrefix(p, "!"):
		return "locked (hash kept)"
	case ValidSHA512Hash(p) == nil:
		return "set (SHA-512)"
	case strings.HasPrefix(p, "$"):
		return "set (other crypt method)"
	}
	return "unrecognised"
}

// Line is the user's table line (without newline). The user must be valid.
func (u User) Line() string {
	groups := "-"
	if len(u.Groups) > 0 {
		groups = strings.Join(u.Groups, ",")
	}
	fields := []string{u.Name, strconv.Itoa(u.UID), u.Group, strconv.Itoa(u.GID),
		u.Password, u.Home, u.Shell, groups}
	line := strings.Join(fields, " ")
	if c := strings.TrimSpace(u.Comment); c != "" {
		line += " " + c
	}
	return line
}

// UsersTable is a users table file's content. Lines that are not users
// (comments, blank lines, group-only "-" entries) are kept as they are.
type UsersTable struct {
	lines []string
	users []*User // users[i] != nil where lines[i] is a user
}

// TableLineError names a users table line that cannot be parsed.
type TableLineError struct {
	Line int
	Err  error
}

func (e *TableLineError) Error() string        { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *TableLineError) Unwrap() error        { return e.Err }
func (e *TableLineError) ErrorKind() errs.Kind { return errs.BadInput }

// ErrUserExists and ErrNoSuchUser are wrapped by Add and Remove.
var (
	ErrUserExists = errors.New("user already in the users table")
	ErrNoSuchUser = errors.New("no such user in the users table")
)

// ParseUsersTable reads a table as mkusers does: '#' starts a comment
// anywhere, blank lines are skipped, fields are separated by blanks and
// the ninth field is the rest of the line. A line with fewer than eight
// fields or a non-numeric id is an error naming the line.
func ParseUsersTable(data []byte) (*UsersTable, error) {
	t := &UsersTable{}
	for i, raw := range splitLines(data) {
		line := strings.TrimSuffix(string(raw), "\r")
		t.lines = append(t.lines, line)
		content, _, _ := strings.Cut(line, "#")
		f, comment := splitFields(content, 8)
		if len(f) == 0 || f[0] == "-" {
			t.users = append(t.users, nil)
			continue
		}
		if len(f) < 8 {
			return nil, &TableLineError{Line: i + 1, Err: fmt.Errorf("%d fields, want at least 8 (username uid group gid password home shell groups [comment])", len(f))}
		}
		uid, err1 := strconv.Atoi(f[1])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return nil, &TableLineError{Line: i + 1, Err: errors.New("uid and gid must be numbers")}
		}
		u := &User{Name: f[0], UID: uid, Group: f[2], GID: gid, Password: f[4], Home: f[5], Shell: f[6], Comment: comment}
		if f[7] != "-" {
			u.Groups = strings.Split(f[7], ",")
		}
		t.users = append(t.users, u)
	}
	return t, nil
}

// splitFields splits off the first n blank-separated fields of s, as bash's
// read does with the default IFS, and returns the trimmed rest.
func splitFields(s string, n int) (fields []string, rest string) {
	for len(fields) < n {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		fields = append(fields, s[:end])
		s = s[end:]
	}
	return fields, strings.Trim(s, " \t")
}

// LoadUsersTable reads the table at path; a missing file is an empty table.
func LoadUsersTable(path string) (*UsersTable, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &UsersTable{}, nil
	}
	if err != nil {
		return nil, err
	}
	t, err := ParseUsersTable(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Users returns the table's users in file order.
func (t *UsersTable) Users() []User {
	var out []User
	for _, u := range t.users {
		if u != nil {
			out = append(out, *u)
		}
	}
	return out
}

// Lookup finds a user by name.
func (t *UsersTable) Lookup(name string) (User, bool) {
	for _, u := range t.users {
		if u != nil && u.Name == name {
			return *u, true
		}
	}
	return User{}, false
}

// Add validates u and appends it. A user of the same name, or an explicit
// uid another user of the table already has, is an error.
func (t *UsersTable) Add(u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	for _, o := range t.users {
		if o == nil {
			continue
		}
		if o.Name == u.Name {
			return badInputf("%s: %w", u.Name, ErrUserExists)
		}
		if u.UID > 0 && o.UID == u.UID {
			return badInputf("uid %d is already %s's", u.UID, o.Name)
		}
	}
	if len(t.lines) == 0 {
		for _, h := range strings.SplitAfter(usersTableHeader, "\n") {
			if h = strings.TrimSuffix(h, "\n"); h != "" {
				t.lines = append(t.lines, h)
				t.users = append(t.users, nil)
			}
		}
	}
	u.Groups = slices.Clone(u.Groups)
	t.lines = append(t.lines, u.Line())
	t.users = append(t.users, &u)
	return nil
}

// Remove deletes the user called name and returns it.
func (t *UsersTable) Remove(name string) (User, error) {
	for i, u := range t.users {
		if u != nil && u.Name == name {
			t.lines = slices.Delete(t.lines, i, i+1)
			t.users = slices.Delete(t.users, i, i+1)
			return *u, nil
		}
	}
	return User{}, badInputf("%s: %w", name, ErrNoSuchUser)
}

// usersTableHeader starts a table that Add creates.
const usersTableHeader = `# Users added to the image (Buildroot makeusers syntax, see the Buildroot
# manual). Managed by ipabr user add/remove; passwords are SHA-512 hashes.
# username uid group gid password home shell groups comment
`

// Bytes is the table's file content.
func (t *UsersTable) Bytes() []byte {
	var b bytes.Buffer
	for _, l := range t.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Save writes the table to path atomically with mode 0600 (it holds
// password hashes), creating its directory.
func (t *UsersTable) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(path, t.Bytes(), 0o600)
}
