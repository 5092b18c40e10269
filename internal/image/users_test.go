package image

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/testenv"
)

func TestValidateUserName(t *testing.T) {
	for _, ok := range []string{"alice", "_svc", "bob-2", "a_b-c9", strings.Repeat("a", 32)} {
		if err := ValidateUserName(ok); err != nil {
			t.Errorf("ValidateUserName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "Alice", "1abc", "-x", "a:b", "a\nb", "a b", "a\tb", "a.b", "a/b", "a$", "é",
		strings.Repeat("a", 33),
		// system users and groups of a Buildroot systemd image
		"root", "daemon", "bin", "sys", "sync", "nobody", "sshd", "dbus", "wheel",
		"systemd-network", "systemd-resolve", "systemd-timesync", "systemd-anything",
	} {
		err := ValidateUserName(bad)
		if err == nil || !errs.Is(err, errs.BadInput) {
			t.Errorf("ValidateUserName(%q) = %v, want a bad-input error", bad, err)
		}
		if bad != "" && strings.ContainsAny(bad, "\n") && strings.Contains(err.Error(), bad) {
			t.Errorf("ValidateUserName(%q): the newline is shown raw: %v", bad, err)
		}
	}
	if !IsReservedName("systemd-journal") || !IsReservedName("sshd") || IsReservedName("alice") {
		t.Error("IsReservedName")
	}
}

func validHash(t *testing.T) string {
	t.Helper()
	h, err := HashPassword(genPassword(t, 16))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestUserLine(t *testing.T) {
	u := NewUser("alice")
	if err := u.Validate(); err != nil {
		t.Fatalf("NewUser is invalid: %v", err)
	}
	if got, want := u.Line(), "alice -2 alice -2 * /home/alice /bin/sh -"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	h := validHash(t)
	u.Password = h
	u.Groups = []string{"wheel", "audio"}
	u.Comment = "Alice Example"
	u.UID, u.GID = 1500, AutoSystemID
	want := "alice 1500 alice -1 " + h + " /home/alice /bin/sh wheel,audio Alice Example"
	if got := u.Line(); got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	// The table is cat'ed, not read by make: single dollars.
	if strings.Contains(u.Line(), "$$") || !strings.Contains(u.Line(), " $6$") {
		t.Errorf("the hash must be written with single dollars: %q", u.Line())
	}
	u.Password = PasswordLocked + h
	if err := u.Validate(); err != nil || u.PasswordState() != "locked (hash kept)" {
		t.Errorf("locked hash: %v, %q", err, u.PasswordState())
	}
}

// genToken is a random lowercase-hex string, used where a test needs a
// plain-text password that must be refused; it is never logged.
func genToken(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("%x", genPassword(t, 12))
}

func TestUserValidateRefuses(t *testing.T) {
	h := validHash(t)
	plain := genToken(t)
	for name, mod := range map[string]func(*User){
		"name with colon":      func(u *User) { u.Name = "al:ice" },
		"name with newline":    func(u *User) { u.Name = "al\nice" },
		"reserved name":        func(u *User) { u.Name = "sshd" },
		"uid 0":                func(u *User) { u.UID = 0 },
		"uid -3":               func(u *User) { u.UID = -3 },
		"gid 0":                func(u *User) { u.GID = 0 },
		"group root":           func(u *User) { u.Group = "root" },
		"group with colon":     func(u *User) { u.Group = "a:b" },
		"group empty":          func(u *User) { u.Group = "" },
		"groups twice":         func(u *User) { u.Groups = []string{"wheel", "wheel"} },
		"groups bad":           func(u *User) { u.Groups = []string{"wheel", "Audio"} },
		"groups with space":    func(u *User) { u.Groups = []string{"a b"} },
		"groups empty name":    func(u *User) { u.Groups = []string{""} },
		"plain password":       func(u *User) { u.Password = "=" + plain },
		"locked plain":         func(u *User) { u.Password = "!=" + plain },
		"empty password dash":  func(u *User) { u.Password = "-" },
		"empty password":       func(u *User) { u.Password = "" },
		"md5 hash":             func(u *User) { u.Password = "$1$salt$abcdefghijklmnopqrstuv" },
		"broken hash":          func(u *User) { u.Password = h[:len(h)-3] },
		"hash with space":      func(u *User) { u.Password = h + " x" },
		"home relative":        func(u *User) { u.Home = "home/alice" },
		"home slash":           func(u *User) { u.Home = "/" },
		"home dotdot":          func(u *User) { u.Home = "/home/../etc" },
		"home with space":      func(u *User) { u.Home = "/home/a b" },
		"home with colon":      func(u *User) { u.Home = "/home/a:b" },
		"home is /root":        func(u *User) { u.Home = "/root" },
		"home is /etc":         func(u *User) { u.Home = "/etc" },
		"home is /usr/lib":     func(u *User) { u.Home = "/usr/lib" },
		"home is /home":        func(u *User) { u.Home = "/home" },
		"shell relative":       func(u *User) { u.Shell = "bin/sh" },
		"shell empty":          func(u *User) { u.Shell = "" },
		"shell with space":     func(u *User) { u.Shell = "/bin/s h" },
		"shell with colon":     func(u *User) { u.Shell = "/bin/a:b" },
		"shell with newline":   func(u *User) { u.Shell = "/bin/sh\n" },
		"comment with colon":   func(u *User) { u.Comment = "a:b" },
		"comment with hash":    func(u *User) { u.Comment = "a # b" },
		"comment with newline": func(u *User) { u.Comment = "a\nb" },
		"comment with tab":     func(u *User) { u.Comment = "a\tb" },
	} {
		u := NewUser("alice")
		mod(&u)
		err := u.Validate()
		if err == nil || !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: Validate = %v, want a bad-input error", name, err)
		}
		if strings.HasPrefix(u.Password, "=") || strings.HasPrefix(u.Password, "!=") {
			if strings.Contains(err.Error(), plain) {
				t.Errorf("%s: the error shows the plain-text password", name)
			}
		}
	}
	// Accepted variants.
	for name, mod := range map[string]func(*User){
		"no home":         func(u *User) { u.Home = "-" },
		"service home":    func(u *User) { u.Home = "/var/lib/alice" },
		"default shell":   func(u *User) { u.Shell = "-" },
		"locked":          func(u *User) { u.Password = PasswordLocked },
		"system ids":      func(u *User) { u.UID, u.GID = AutoSystemID, AutoSystemID },
		"explicit ids":    func(u *User) { u.UID, u.GID = 2001, 2001 },
		"existing group":  func(u *User) { u.Group = "users" },
		"system groups":   func(u *User) { u.Groups = []string{"wheel", "video", "root"} },
		"hash and rounds": func(u *User) { u.Password = specVectors[1].want },
	} {
		u := NewUser("alice")
		mod(&u)
		if err := u.Validate(); err != nil {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
}

func TestParseGroups(t *testing.T) {
	for in, want := range map[string]string{"": "", "-": "", "wheel": "wheel", "wheel,audio,video": "wheel|audio|video"} {
		got, err := ParseGroups(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("ParseGroups(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"wheel,,audio", ",wheel", "wheel,", "wheel,wheel", "Wheel", "a b", "a:b", "wheel,audio\n"} {
		if _, err := ParseGroups(bad); err == nil || !errs.Is(err, errs.BadInput) {
			t.Errorf("ParseGroups(%q) = %v, want a bad-input error", bad, err)
		}
	}
}

func TestParseUsersTable(t *testing.T) {
	h := specVectors[0].want
	data := "# a comment line\n" +
		"\n" +
		"alice -2 alice -2 " + h + " /home/alice /bin/sh wheel,audio Alice  Example   # trailing note\n" +
		"bob\t1500\tstaff\t-1\t*\t-\t-\t-\n" +
		"- - ipagroup -1 * - - - a group only\n" +
		"carol 1600 carol 1600 ! /home/carol /bin/bash - \r\n"
	tab, err := ParseUsersTable([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	users := tab.Users()
	if len(users) != 3 {
		t.Fatalf("%d users, want 3", len(users))
	}
	a, b, c := users[0], users[1], users[2]
	if a.Name != "alice" || a.UID != AutoUserID || a.Group != "alice" || a.GID != AutoUserID || a.Password != h ||
		a.Home != "/home/alice" || a.Shell != "/bin/sh" || strings.Join(a.Groups, ",") != "wheel,audio" || a.Comment != "Alice  Example" {
		t.Errorf("alice = %+v", a)
	}
	if b.Name != "bob" || b.UID != 1500 || b.Group != "staff" || b.GID != AutoSystemID || b.Password != "*" ||
		b.Home != "-" || b.Shell != "-" || b.Groups != nil || b.Comment != "" {
		t.Errorf("bob = %+v", b)
	}
	if c.Name != "carol" || c.Shell != "/bin/bash" || c.Password != "!" || c.PasswordState() != "locked" {
		t.Errorf("carol = %+v", c)
	}
	if u, ok := tab.Lookup("bob"); !ok || u.UID != 1500 {
		t.Errorf("Lookup(bob) = %+v, %v", u, ok)
	}
	if _, ok := tab.Lookup("ipagroup"); ok {
		t.Error("a group-only line is not a user")
	}
	// Unchanged tables are written back byte for byte (but CR).
	if got := string(tab.Bytes()); got != strings.ReplaceAll(data, "\r", "") {
		t.Errorf("Bytes():\n%q\nwant:\n%q", got, data)
	}
	for name, c := range map[string]struct {
		data string
		line int
	}{
		"too few fields": {"# x\nalice -1 alice -1 * /home/alice /bin/sh\n", 2},
		"bad uid":        {"alice x alice -1 * - - -\n", 1},
		"bad gid":        {"\n\nalice -1 alice y * - - -\n", 3},
	} {
		_, err := ParseUsersTable([]byte(c.data))
		var le *TableLineError
		if !errors.As(err, &le) || le.Line != c.line || !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: %v, want an error at line %d", name, err, c.line)
		}
	}
}

func TestPasswordState(t *testing.T) {
	h := specVectors[0].want
	for pw, want := range map[string]string{
		"*": "none (SSH key login only)", "!": "locked", "-": "EMPTY (login without a password)",
		"=x": "PLAIN TEXT in the table", "!=x": "PLAIN TEXT in the table", h: "set (SHA-512)",
		"!" + h: "locked (hash kept)", "$1$ab$cd": "set (other crypt method)", "junk": "unrecognised",
	} {
		u := User{Password: pw}
		if got := u.PasswordState(); got != want {
			t.Errorf("PasswordState(%q) = %q, want %q", pw, got, want)
		}
		if len(pw) > 3 && strings.Contains(u.PasswordState(), pw) {
			t.Errorf("PasswordState shows the field")
		}
	}
}

func TestUsersTableAddSaveRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scripts", UsersTableName) // scripts/ missing: Save makes it
	tab, err := LoadUsersTable(path)
	if err != nil || len(tab.Users()) != 0 {
		t.Fatalf("LoadUsersTable(missing) = %v, %v", tab, err)
	}
	alice := NewUser("alice")
	alice.Password = validHash(t)
	alice.Groups = []string{"wheel"}
	if err := tab.Add(alice); err != nil {
		t.Fatal(err)
	}
	bob := NewUser("bob")
	bob.UID = 1500
	if err := tab.Add(bob); err != nil {
		t.Fatal(err)
	}
	alice.Groups[0] = "changed" // Add keeps its own copy
	if err := tab.Save(path); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, path); m != 0o600 {
		t.Errorf("table mode %04o, want 0600 (it holds hashes)", m)
	}
	onlyEntries(t, filepath.Dir(path), UsersTableName)
	data := readString(t, path)
	if !strings.HasPrefix(data, "# ") || !strings.Contains(data, "\n"+NewUser("bob").Line()[:4]) {
		t.Errorf("table:\n%s", data)
	}
	back, err := LoadUsersTable(path)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Users()
	if len(got) != 2 || got[0].Name != "alice" || got[0].Password != alice.Password || strings.Join(got[0].Groups, ",") != "wheel" ||
		got[1].Name != "bob" || got[1].UID != 1500 {
		t.Fatalf("reloaded users: %+v", got)
	}
	// Duplicates are refused and change nothing.
	if err := back.Add(NewUser("alice")); !errors.Is(err, ErrUserExists) || !errs.Is(err, errs.BadInput) {
		t.Errorf("Add(alice again) = %v", err)
	}
	carol := NewUser("carol")
	carol.UID = 1500
	if err := back.Add(carol); err == nil || !strings.Contains(err.Error(), "bob") {
		t.Errorf("Add(carol with bob's uid) = %v", err)
	}
	bad := NewUser("x:y")
	if err := back.Add(bad); !errs.Is(err, errs.BadInput) {
		t.Errorf("Add(x:y) = %v", err)
	}
	if len(back.Users()) != 2 {
		t.Errorf("refused adds changed the table: %d users", len(back.Users()))
	}
	removed, err := back.Remove("alice")
	if err != nil || removed.Name != "alice" {
		t.Fatalf("Remove(alice) = %+v, %v", removed, err)
	}
	if _, err := back.Remove("alice"); !errors.Is(err, ErrNoSuchUser) || !errs.Is(err, errs.BadInput) {
		t.Errorf("Remove(alice again) = %v", err)
	}
	if err := back.Save(path); err != nil {
		t.Fatal(err)
	}
	final := readString(t, path)
	if strings.Contains(final, "alice") || !strings.Contains(final, "bob 1500 bob") || !strings.HasPrefix(final, "# ") {
		t.Errorf("after Remove:\n%s", final)
	}
}

// TestUsersTableKeepsHandEdits: lines ipabr did not write survive.
func TestUsersTableKeepsHandEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), UsersTableName)
	hand := "# mine\n- - extra -1 * - - - a group\ndave 1700 dave 1700 * - - - Dave # note\n"
	os.WriteFile(path, []byte(hand), 0o644)
	tab, err := LoadUsersTable(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Add(NewUser("erin")); err != nil {
		t.Fatal(err)
	}
	if err := tab.Save(path); err != nil {
		t.Fatal(err)
	}
	if got, want := readString(t, path), hand+NewUser("erin").Line()+"\n"; got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if modeOf(t, path) != 0o600 {
		t.Errorf("mode %04o after Save", modeOf(t, path))
	}
	os.WriteFile(path, []byte("dave 1700\n"), 0o600)
	if _, err := LoadUsersTable(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("LoadUsersTable(broken) = %v, want the path and line", err)
	}
}

// TestUsersTableWithBuildrootMkusers feeds a table ipabr wrote to
// Buildroot's own support/scripts/mkusers against a copy of the skeleton's
// /etc, and checks the passwd, shadow and group lines it makes.
func TestUsersTableWithBuildrootMkusers(t *testing.T) {
	br := testenv.UpstreamCheckout(t)
	mkusers := filepath.Join(br, "support", "scripts", "mkusers")
	bash := testenv.Program(t, "host", "bash")
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.MkdirAll(filepath.Join(target, "etc"), 0o755)
	for _, f := range []string{"passwd", "shadow", "group"} {
		data, err := os.ReadFile(filepath.Join(br, "system", "skeleton", "etc", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(target, "etc", f), data, 0o644)
	}
	config := filepath.Join(dir, ".config")
	os.WriteFile(config, []byte("BR2_TARGET_GENERIC_PASSWD_METHOD=\"sha-512\"\n"), 0o644)

	h := validHash(t)
	tab := &UsersTable{}
	alice := NewUser("alice")
	alice.Password, alice.Groups, alice.Comment = h, []string{"wheel", "ipa"}, "Alice Example"
	bob := NewUser("bob")
	bob.UID, bob.GID, bob.Home, bob.Shell = 1500, 1500, "-", "-"
	carol := NewUser("carol")
	carol.Password, carol.UID, carol.GID = PasswordLocked+h, AutoSystemID, AutoSystemID
	for _, u := range []User{alice, bob, carol} {
		if err := tab.Add(u); err != nil {
			t.Fatal(err)
		}
	}
	table := filepath.Join(dir, UsersTableName)
	if err := tab.Save(table); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, mkusers, table, target)
	cmd.Env = append(os.Environ(), "BR2_CONFIG="+config)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mkusers: %v\n%s", err, stderr.String())
	}
	passwd := readString(t, filepath.Join(target, "etc", "passwd"))
	shadow := readString(t, filepath.Join(target, "etc", "shadow"))
	group := readString(t, filepath.Join(target, "etc", "group"))
	for _, want := range []string{
		"\nalice:x:1000:1000:Alice Example:/home/alice:/bin/sh\n",
		"\nbob:x:1500:1500::/:/bin/false\n",
		"\ncarol:x:100:101::/home/carol:/bin/sh\n", // gid 100 is the skeleton's users group
	} {
		if !strings.Contains(passwd, want) {
			t.Errorf("passwd lacks %q:\n%s", want, passwd)
		}
	}
	for _, want := range []string{"\nalice:" + h + ":::::::\n", "\nbob:*:::::::\n", "\ncarol:!" + h + ":::::::\n"} {
		if !strings.Contains(shadow, want) {
			t.Errorf("shadow lacks %q", want)
		}
	}
	for _, want := range []string{"\nwheel:x:10:root,alice\n", "\nalice:x:1000:\n", "\nipa:x:1001:alice\n", "\nbob:x:1500:\n"} {
		if !strings.Contains(group, want) {
			t.Errorf("group lacks %q:\n%s", want, group)
		}
	}
	// Homes are made and chowned to their users in the fakeroot script.
	if !strings.Contains(string(out), "chown -h -R 1000:1000 '"+target+"//home/alice'") {
		t.Errorf("mkusers did not chown alice's home:\n%s", out)
	}
	if st, err := os.Stat(filepath.Join(target, "home", "alice")); err != nil || !st.IsDir() {
		t.Errorf("no home for alice: %v", err)
	}
}
