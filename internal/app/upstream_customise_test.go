package app_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ipabr/ipabr/internal/app"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
)

// runIpabrIn is runIpabr with stdin as standard input; secret is replaced
// in what it returns, so a failing test never prints it.
func runIpabrIn(dir, stdin, secret string, args ...string) (string, int) {
	io, in, out, errOut := term.Test()
	in.WriteString(stdin)
	code := app.Run(context.Background(), append([]string{"--repo", dir}, args...), app.Env{
		IO: io, Runner: process.OS{}, Cwd: dir,
	})
	all := out.String() + errOut.String()
	if secret != "" {
		all = strings.ReplaceAll(all, secret, "<PASSWORD>")
	}
	return all, code
}

// brMake runs real Buildroot's make for the output directory out.
func brMake(t *testing.T, dir, out string, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "--no-print-directory", "-C", filepath.Join(dir, "buildroot"),
		"O=" + out, "BR2_EXTERNAL=" + filepath.Join(dir, "buildroot-ipa")}, args...)...)
	cmd.Env = append(process.Environ(nil, []string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GNUMAKEFLAGS"}), "BR2_DL_DIR="+filepath.Join(dir, "dl"))
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Run(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, b.String())
	}
	return b.String()
}

// configLine is sym's line in a kconfig file, or "".
func configLine(t *testing.T, file, sym string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, sym+"=") || l == "# "+sym+" is not set" {
			return l
		}
	}
	return ""
}

// TestUpstreamPasswd: with real Buildroot, the hash set by ipabr passwd
// --stdin survives olddefconfig and savedefconfig with its dollars doubled,
// make expands it back to the hash of the password, and the plain text is
// nowhere in the output directory.
func TestUpstreamPasswd(t *testing.T) {
	dir := upstreamProject(t)
	out := filepath.Join(dir, "output", "passwd")
	if o, code := runIpabr(dir, "-O", out, "configure"); code != 0 {
		t.Fatalf("configure: %d\n%s", code, o)
	}
	cfg := filepath.Join(out, ".config")
	pw := randomPassword(t)
	t.Cleanup(func() { os.Remove(filepath.Join(dir, image.RootPasswordFileName)) })

	o, code := runIpabrIn(dir, pw+"\n", pw, "-O", out, "passwd", "--stdin")
	if code != 0 {
		t.Fatalf("passwd --stdin: %d\n%s", code, o)
	}
	if !strings.Contains(o, "BR2_TARGET_GENERIC_ROOT_PASSWD") || !strings.Contains(o, "$6$…(hash)") || strings.Contains(o, "<PASSWORD>") {
		t.Fatalf("passwd output:\n%s", o)
	}
	if regexp.MustCompile(`\$\$?6\$\$?[./0-9A-Za-z]{16}`).MatchString(o) {
		t.Fatalf("passwd printed the hash:\n%s", o)
	}
	line := configLine(t, cfg, "BR2_TARGET_GENERIC_ROOT_PASSWD")
	if !regexp.MustCompile(`^BR2_TARGET_GENERIC_ROOT_PASSWD="\$\$6\$\$[./0-9A-Za-z]{16}\$\$[./0-9A-Za-z]{86}"$`).MatchString(line) {
		t.Fatalf(".config holds %q", line)
	}
	for _, want := range []string{"BR2_TARGET_ENABLE_ROOT_LOGIN=y", "BR2_TARGET_GENERIC_PASSWD_SHA512=y", "BR2_PACKAGE_HOST_MKPASSWD=y"} {
		if got := configLine(t, cfg, strings.Split(want, "=")[0]); got != want {
			t.Errorf(".config: %q, want %q", got, want)
		}
	}

	// savedefconfig shows the doubled hash; olddefconfig keeps it.
	saved := filepath.Join(t.TempDir(), "defconfig")
	brMake(t, dir, out, "savedefconfig", "BR2_DEFCONFIG="+saved)
	if got := configLine(t, saved, "BR2_TARGET_GENERIC_ROOT_PASSWD"); got != line {
		t.Fatalf("savedefconfig wrote %q, want %q", got, line)
	}
	// Root login is on by default in Buildroot, so savedefconfig omits it.
	if got := configLine(t, saved, "BR2_TARGET_ENABLE_ROOT_LOGIN"); got != "" {
		t.Fatalf("savedefconfig wrote %q", got)
	}
	brMake(t, dir, out, "olddefconfig")
	if got := configLine(t, cfg, "BR2_TARGET_GENERIC_ROOT_PASSWD"); got != line {
		t.Fatalf("after olddefconfig .config holds %q, want %q", got, line)
	}
	// make expands the doubled dollars back to the hash of the password,
	// which is what the skeleton writes into /etc/shadow.
	vars := brMake(t, dir, out, "printvars", "VARS=SKELETON_INIT_COMMON_ROOT_PASSWD")
	hash := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(vars), "SKELETON_INIT_COMMON_ROOT_PASSWD="))
	if ok, err := image.VerifyPassword([]byte(pw), hash); err != nil || !ok {
		t.Fatalf("make sees SKELETON_INIT_COMMON_ROOT_PASSWD that does not verify the password (%v)", err)
	}

	// The hash is the project's too, and another output configured from
	// the defconfig gets it.
	if got, err := image.LoadRootHash(filepath.Join(dir, image.RootPasswordFileName)); err != nil || image.DoubleDollars(got) != strings.TrimSuffix(strings.TrimPrefix(line, `BR2_TARGET_GENERIC_ROOT_PASSWD="`), `"`) {
		t.Fatalf("root-password.hash does not hold the hash of .config (%v)", err)
	}
	other := filepath.Join(dir, "output", "passwd-other")
	if o, code := runIpabr(dir, "-O", other, "configure"); code != 0 || !strings.Contains(o, "applied the project's customisation: root password hash") {
		t.Fatalf("configure of another output: %d\n%s", code, o)
	}
	if got := configLine(t, filepath.Join(other, ".config"), "BR2_TARGET_GENERIC_ROOT_PASSWD"); got != line {
		t.Fatalf("the other output's .config holds %q, want %q", got, line)
	}

	// ipabr save keeps it out of the tracked defconfig, root login off,
	// and saves the rest.
	o, code = runIpabr(dir, "-O", out, "save", "--buildroot", "--dry-run")
	if code != 0 || !strings.Contains(o, "left out the root password hash") || strings.Contains(o, "ROOT_PASSWD=") ||
		regexp.MustCompile(`\$\$?6\$\$?[./0-9A-Za-z]{16}`).MatchString(o) {
		t.Fatalf("save --dry-run: %d\n%s", code, o)
	}
	o, code = runIpabr(dir, "-O", out, "save", "--buildroot", "--dry-run", "--include-secrets")
	if code != 0 || !strings.Contains(o, "+BR2_TARGET_GENERIC_ROOT_PASSWD=$6$…(hash)") || regexp.MustCompile(`\$\$?6\$\$?[./0-9A-Za-z]{16}`).MatchString(o) {
		t.Fatalf("save --dry-run --include-secrets: %d\n%s", code, o)
	}

	// The plain text is in no file of the output directory.
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(pw)) {
			t.Errorf("%s contains the plain-text password", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// --disable: off again, and Buildroot agrees.
	if o, code := runIpabr(dir, "-O", out, "passwd", "--disable"); code != 0 || !regexp.MustCompile(`BR2_TARGET_ENABLE_ROOT_LOGIN +y → n`).MatchString(o) {
		t.Fatalf("passwd --disable: %d\n%s", code, o)
	}
	brMake(t, dir, out, "olddefconfig")
	if got := configLine(t, cfg, "BR2_TARGET_ENABLE_ROOT_LOGIN"); got != "# BR2_TARGET_ENABLE_ROOT_LOGIN is not set" {
		t.Fatalf("after --disable: %q", got)
	}
	if got := configLine(t, cfg, "BR2_TARGET_GENERIC_ROOT_PASSWD"); got != "" {
		t.Fatal("after --disable the hash is still in .config")
	}
	if o, code := runIpabr(dir, "-O", out, "save", "--buildroot", "--dry-run"); code != 0 || !strings.Contains(o, "unchanged") {
		t.Fatalf("save --dry-run after --disable: %d\n%s", code, o)
	}
}

// TestUpstreamUsers: ipabr user add wires the table through
// BR2_ROOTFS_USERS_TABLES so that real Buildroot finds it, and Buildroot's
// own mkusers creates the users from it.
func TestUpstreamUsers(t *testing.T) {
	dir := upstreamProject(t)
	out := filepath.Join(dir, "output", "users")
	if o, code := runIpabr(dir, "-O", out, "configure"); code != 0 {
		t.Fatalf("configure: %d\n%s", code, o)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.pub")
	if err := os.WriteFile(keyFile, ssh.MarshalAuthorizedKey(spub), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "scripts", "users.table")
	os.Remove(table)
	t.Cleanup(func() { os.Remove(table); os.RemoveAll(filepath.Join(dir, "overlay", "home")) })

	if o, code := runIpabr(dir, "-O", out, "user", "add", "alice", "--ssh-key", keyFile, "--groups", "wheel"); code != 0 {
		t.Fatalf("user add alice: %d\n%s", code, o)
	}
	pw := randomPassword(t)
	if o, code := runIpabrIn(dir, pw+"\n", pw, "-O", out, "user", "add", "bob", "--password-stdin"); code != 0 {
		t.Fatalf("user add bob: %d\n%s", code, o)
	}
	want := `BR2_ROOTFS_USERS_TABLES="$(BR2_EXTERNAL_IPA_PATH)/../scripts/users.table"`
	if got := configLine(t, filepath.Join(out, ".config"), "BR2_ROOTFS_USERS_TABLES"); got != want {
		t.Fatalf(".config: %q, want %q", got, want)
	}
	brMake(t, dir, out, "olddefconfig")
	if got := configLine(t, filepath.Join(out, ".config"), "BR2_ROOTFS_USERS_TABLES"); got != want {
		t.Fatalf("after olddefconfig: %q, want %q", got, want)
	}
	vars := brMake(t, dir, out, "printvars", "VARS=ROOTFS_USERS_TABLES")
	got := filepath.Clean(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(vars), "ROOTFS_USERS_TABLES=")))
	if got != table {
		t.Fatalf("Buildroot reads the users table from %q, want %q", got, table)
	}

	// Buildroot's mkusers on a copy of the skeleton's account files.
	target := t.TempDir()
	os.MkdirAll(filepath.Join(target, "etc"), 0o755)
	for _, f := range []string{"passwd", "group", "shadow"} {
		data, err := os.ReadFile(filepath.Join(dir, "buildroot", "system", "skeleton", "etc", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(target, "etc", f), data, 0o644)
	}
	cmd := exec.Command("bash", filepath.Join(dir, "buildroot", "support", "scripts", "mkusers"), table, target)
	cmd.Env = append(os.Environ(), "BR2_CONFIG="+filepath.Join(out, ".config"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mkusers: %v\n%s", err, strings.ReplaceAll(stderr.String(), pw, "<PASSWORD>"))
	}
	shadow, _ := os.ReadFile(filepath.Join(target, "etc", "shadow"))
	var bobHash string
	for _, l := range strings.Split(string(shadow), "\n") {
		if f := strings.Split(l, ":"); len(f) > 2 && f[0] == "bob" {
			bobHash = f[1]
		}
	}
	if ok, err := image.VerifyPassword([]byte(pw), bobHash); err != nil || !ok {
		t.Fatalf("bob's /etc/shadow entry does not verify the password (%v)", err)
	}
	if !strings.Contains(string(shadow), "alice:*:") {
		t.Fatal("alice's /etc/shadow entry is not '*'")
	}
	passwd, _ := os.ReadFile(filepath.Join(target, "etc", "passwd"))
	if !regexp.MustCompile(`(?m)^alice:x:1[0-9]{3}:1[0-9]{3}::/home/alice:/bin/sh$`).Match(passwd) {
		t.Fatalf("/etc/passwd:\n%s", passwd)
	}
	if group, _ := os.ReadFile(filepath.Join(target, "etc", "group")); !regexp.MustCompile(`(?m)^wheel:x:10:.*alice`).Match(group) {
		t.Fatalf("alice is not in wheel:\n%s", group)
	}
}
