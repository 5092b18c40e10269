package image

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"

	"golang.org/x/crypto/ssh"

	"github.com/ipabr/ipabr/internal/testenv"
)

// testKey is a freshly generated key pair.
type testKey struct {
	priv    any
	pub     ssh.PublicKey
	line    string // authorized_keys line with comment
	comment string
}

func newEd25519(t *testing.T, comment string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv, sp, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment, comment}
}

func newECDSA(t *testing.T, comment string) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv, sp, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment, comment}
}

// fingerprint is computed independently of x/crypto: SHA256 of the key
// blob, unpadded standard base64, as ssh-keygen -l shows.
func fingerprint(k ssh.PublicKey) string {
	sum := sha256.Sum256(k.Marshal())
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

func TestParseAuthorizedKeys(t *testing.T) {
	a := newEd25519(t, "alice@laptop")
	b := newECDSA(t, "bob key with spaces")
	c := newEd25519(t, "")
	input := "# my keys\n\n" + a.line + "\r\n" +
		`from="10.0.0.0/8",no-pty ` + b.line + "\n" +
		"   " + c.line + "   \n"
	keys, err := ParseAuthorizedKeys([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("%d keys, want 3", len(keys))
	}
	want := []struct {
		typ, comment, line string
		key                ssh.PublicKey
		options            []string
	}{
		{"ssh-ed25519", "alice@laptop", a.line, a.pub, nil},
		{"ecdsa-sha2-nistp256", "bob key with spaces", `from="10.0.0.0/8",no-pty ` + b.line, b.pub, []string{`from="10.0.0.0/8"`, "no-pty"}},
		{"ssh-ed25519", "", strings.TrimSpace(c.line), c.pub, nil},
	}
	for i, w := range want {
		k := keys[i]
		if k.Type() != w.typ || k.Comment != w.comment || k.String() != w.line ||
			k.Fingerprint() != fingerprint(w.key) || strings.Join(k.Options, "|") != strings.Join(w.options, "|") {
			t.Errorf("key %d: type %q comment %q options %q fingerprint %s line %q; want %+v",
				i, k.Type(), k.Comment, k.Options, k.Fingerprint(), k.String(), w)
		}
	}
}

// TestParseAuthorizedKeysOneBadLine: one bad line among good ones fails the
// whole input, naming the line and not echoing it.
func TestParseAuthorizedKeysOneBadLine(t *testing.T) {
	a, b := newEd25519(t, "a"), newEd25519(t, "b")
	for name, c := range map[string]struct {
		input string
		line  int
	}{
		"garbage":          {a.line + "\n# note\nthis-is-not-a-key AAAAsecretish\n" + b.line + "\n", 3},
		"truncated base64": {a.line + "\n" + a.line[:40] + "\n", 2},
		"type mismatch":    {"ssh-rsa " + strings.Fields(a.line)[1] + " x\n", 1},
		"bare base64":      {strings.Fields(a.line)[1] + "\n", 1},
		"unmatched quote":  {`command="oops ` + a.line + "\n", 1},
	} {
		keys, err := ParseAuthorizedKeys([]byte(c.input))
		var le *KeyLineError
		if keys != nil || !errors.As(err, &le) || le.Line != c.line || !errors.Is(err, ErrNotPublicKey) || !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: %d keys, %v; want ErrNotPublicKey at line %d", name, len(keys), err, c.line)
			continue
		}
		if !strings.HasPrefix(err.Error(), "line ") || strings.Contains(err.Error(), "secretish") || strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: error %q echoes the input", name, err)
		}
	}
}

func pemPrivate(t *testing.T, k testKey) map[string]string {
	t.Helper()
	openssh, err := ssh.MarshalPrivateKey(k.priv, "secret comment")
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"openssh": string(pem.EncodeToMemory(openssh)),
		"pkcs8":   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"ec":      string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: pkcs8})),
		"rsa":     string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs8})),
		"ssh2":    "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n" + base64.StdEncoding.EncodeToString(pkcs8) + "\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n",
		"putty":   "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\n" + base64.StdEncoding.EncodeToString(pkcs8) + "\n",
	}
}

// TestParseAuthorizedKeysRefusesPrivateKeys: a private key is refused with
// the line of its header and nothing of its content in the message.
func TestParseAuthorizedKeysRefusesPrivateKeys(t *testing.T) {
	k := newEd25519(t, "pub")
	for format, priv := range pemPrivate(t, k) {
		for name, c := range map[string]struct {
			input string
			line  int
		}{
			"alone":       {priv, 1},
			"after a key": {k.line + "\n\n" + priv, 3},
		} {
			keys, err := ParseAuthorizedKeys([]byte(c.input))
			var le *KeyLineError
			if keys != nil || !errors.As(err, &le) || le.Line != c.line || !errors.Is(err, ErrPrivateKey) || !errs.Is(err, errs.BadInput) {
				t.Errorf("%s %s: %v; want ErrPrivateKey at line %d", format, name, err, c.line)
				continue
			}
			for _, l := range strings.Split(priv, "\n") {
				if len(l) > 8 && strings.Contains(err.Error(), l) {
					t.Errorf("%s %s: the error shows private key material", format, name)
				}
			}
			if strings.Contains(err.Error(), "secret comment") {
				t.Errorf("%s: the error shows the key's comment", format)
			}
		}
	}
	// A key body without its header is garbage, not echoed either.
	body := strings.Split(pemPrivate(t, k)["openssh"], "\n")[1]
	_, err := ParseAuthorizedKeys([]byte(body + "\n"))
	if !errors.Is(err, ErrNotPublicKey) || strings.Contains(err.Error(), body[:20]) {
		t.Errorf("headerless private key body: %v", err)
	}
}

func TestParseAuthorizedKeysOtherInput(t *testing.T) {
	for name, c := range map[string]struct {
		input string
		want  error
	}{
		"empty":         {"", ErrNoKeys},
		"comments only": {"# nothing\n\n   \n", ErrNoKeys},
		"rfc4716":       {"---- BEGIN SSH2 PUBLIC KEY ----\nComment: x\nAAAA\n---- END SSH2 PUBLIC KEY ----\n", ErrRFC4716Key},
		"binary":        {"\x00\x01\x02\xff\xfe", ErrNotPublicKey},
	} {
		keys, err := ParseAuthorizedKeys([]byte(c.input))
		if keys != nil || !errors.Is(err, c.want) || !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: %d keys, %v; want %v", name, len(keys), err, c.want)
		}
	}
}

func modeOf(t *testing.T, p string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// onlyEntries checks that dir holds exactly names: no temporary file left.
func onlyEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestRootAuthorizedKeysAdd(t *testing.T) {
	overlay := filepath.Join(t.TempDir(), "overlay") // missing: Add creates it
	f := RootAuthorizedKeys(overlay)
	if f.Path() != filepath.Join(overlay, "root", ".ssh", "authorized_keys") {
		t.Fatalf("Path() = %s", f.Path())
	}
	a, b := newEd25519(t, "a"), newECDSA(t, "b")
	res, err := f.AddFrom([]byte(a.line + "\n" + b.line + "\n" + a.line + " again\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 || len(res.Duplicates) != 1 || res.Duplicates[0].Comment != "a again" {
		t.Errorf("Added %d, Duplicates %d; want 2, 1 (the repeated key)", len(res.Added), len(res.Duplicates))
	}
	if got, want := readString(t, f.Path()), a.line+"\n"+b.line+"\n"; got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if m := modeOf(t, f.Dir()); m != 0o700 {
		t.Errorf(".ssh mode %04o, want 0700", m)
	}
	if m := modeOf(t, f.Path()); m != 0o600 {
		t.Errorf("authorized_keys mode %04o, want 0600", m)
	}
	onlyEntries(t, f.Dir(), "authorized_keys")

	// The same key with another comment is a duplicate: nothing changes.
	res, err = f.AddFrom([]byte(strings.TrimSuffix(a.line, " a") + " other-comment\n"))
	if err != nil || len(res.Added) != 0 || len(res.Duplicates) != 1 {
		t.Fatalf("re-adding a key: %+v, %v", res, err)
	}
	if got := readString(t, f.Path()); got != a.line+"\n"+b.line+"\n" {
		t.Errorf("a duplicate changed the file:\n%s", got)
	}

	keys, err := f.List()
	if err != nil || len(keys) != 2 {
		t.Fatalf("List: %d keys, %v", len(keys), err)
	}
	if keys[0].Type() != "ssh-ed25519" || keys[0].Fingerprint() != fingerprint(a.pub) || keys[0].Comment != "a" ||
		keys[1].Type() != "ecdsa-sha2-nistp256" || keys[1].Fingerprint() != fingerprint(b.pub) || keys[1].Comment != "b" {
		t.Errorf("List = %v %s %q, %v %s %q", keys[0].Type(), keys[0].Fingerprint(), keys[0].Comment, keys[1].Type(), keys[1].Fingerprint(), keys[1].Comment)
	}
}

// TestAuthorizedKeysAddBadLineWritesNothing: a key file with one bad line
// among good ones leaves an existing file, and a missing one, as they were.
func TestAuthorizedKeysAddBadLineWritesNothing(t *testing.T) {
	overlay := t.TempDir()
	f := RootAuthorizedKeys(overlay)
	a, b := newEd25519(t, "a"), newEd25519(t, "b")
	bad := []byte(b.line + "\nnot a key\n")
	if _, err := f.AddFrom(bad); !errors.Is(err, ErrNotPublicKey) {
		t.Fatalf("AddFrom(bad) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(overlay, "root")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed add created overlay/root: %v", err)
	}
	if _, err := f.AddFrom([]byte(a.line + "\n")); err != nil {
		t.Fatal(err)
	}
	_, err := f.AddFrom(bad)
	var le *KeyLineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("AddFrom(bad) = %v, want line 2", err)
	}
	if got := readString(t, f.Path()); got != a.line+"\n" {
		t.Errorf("a failed add changed the file:\n%s", got)
	}
	priv := pemPrivate(t, b)["openssh"]
	if _, err := f.AddFrom([]byte(priv)); !errors.Is(err, ErrPrivateKey) {
		t.Errorf("AddFrom(private key) = %v", err)
	}
	if got := readString(t, f.Path()); got != a.line+"\n" {
		t.Errorf("a refused private key changed the file:\n%s", got)
	}
}

func TestAuthorizedKeysKeepsCommentsAndFixesModes(t *testing.T) {
	overlay := t.TempDir()
	f := RootAuthorizedKeys(overlay)
	a, b := newEd25519(t, "a"), newEd25519(t, "b")
	if err := os.MkdirAll(f.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(f.Dir(), 0o755)
	hand := "# added by hand\n" + a.line + "\n\n"
	if err := os.WriteFile(f.Path(), []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(f.Path(), 0o644)
	// A duplicate only: no rewrite, but the modes are put right.
	if _, err := f.AddFrom([]byte(a.line + "\n")); err != nil {
		t.Fatal(err)
	}
	if modeOf(t, f.Dir()) != 0o700 || modeOf(t, f.Path()) != 0o600 {
		t.Errorf("modes %04o %04o, want 0700 0600", modeOf(t, f.Dir()), modeOf(t, f.Path()))
	}
	if _, err := f.AddFrom([]byte(b.line + "\n")); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, f.Path()); got != hand+b.line+"\n" {
		t.Errorf("file:\n%q\nwant:\n%q", got, hand+b.line+"\n")
	}
}

func TestAuthorizedKeysRemove(t *testing.T) {
	overlay := t.TempDir()
	f := RootAuthorizedKeys(overlay)
	a, b, c := newEd25519(t, "a"), newECDSA(t, "b"), newEd25519(t, "c")
	if _, err := f.AddFrom([]byte(a.line + "\n" + b.line + "\n" + c.line + "\n")); err != nil {
		t.Fatal(err)
	}
	got, err := f.Remove(fingerprint(b.pub))
	if err != nil || got.Comment != "b" {
		t.Fatalf("Remove(b) = %q, %v", got.Comment, err)
	}
	// Without the SHA256: prefix too.
	if got, err := f.Remove(strings.TrimPrefix(fingerprint(a.pub), "SHA256:")); err != nil || got.Comment != "a" {
		t.Fatalf("Remove(a without prefix) = %q, %v", got.Comment, err)
	}
	if s := readString(t, f.Path()); s != c.line+"\n" {
		t.Errorf("after removals:\n%s", s)
	}
	if modeOf(t, f.Path()) != 0o600 {
		t.Errorf("mode %04o after Remove", modeOf(t, f.Path()))
	}
	onlyEntries(t, f.Dir(), "authorized_keys")
	_, err = f.Remove(fingerprint(a.pub))
	if !errors.Is(err, ErrKeyNotFound) || !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), fingerprint(a.pub)) {
		t.Errorf("Remove(absent) = %v, want ErrKeyNotFound naming the fingerprint", err)
	}
	if s := readString(t, f.Path()); s != c.line+"\n" {
		t.Errorf("a failed remove changed the file:\n%s", s)
	}
	// Nothing to remove from a missing file.
	if _, err := RootAuthorizedKeys(t.TempDir()).Remove(fingerprint(c.pub)); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("Remove from a missing file = %v", err)
	}
}

func TestAuthorizedKeysListMissingAndBroken(t *testing.T) {
	overlay := t.TempDir()
	f := RootAuthorizedKeys(overlay)
	if keys, err := f.List(); err != nil || len(keys) != 0 {
		t.Errorf("List of a missing file = %d keys, %v", len(keys), err)
	}
	a := newEd25519(t, "a")
	os.MkdirAll(f.Dir(), 0o700)
	os.WriteFile(f.Path(), []byte(a.line+"\nbroken line\n"), 0o600)
	_, err := f.List()
	var le *KeyLineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), f.Path()) {
		t.Errorf("List of a broken file = %v, want the file and line 2", err)
	}
	if _, err := f.AddFrom([]byte(newEd25519(t, "b").line)); err == nil {
		t.Error("Add to a broken file succeeded")
	}
}

func TestAuthorizedKeysRefusesSymlink(t *testing.T) {
	overlay := t.TempDir()
	f := RootAuthorizedKeys(overlay)
	os.MkdirAll(f.Dir(), 0o700)
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(target, nil, 0o600)
	if err := os.Symlink(target, f.Path()); err != nil {
		t.Fatal(err)
	}
	_, err := f.AddFrom([]byte(newEd25519(t, "a").line))
	if err == nil || !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Add through a symlink = %v", err)
	}
	if s := readString(t, target); s != "" {
		t.Errorf("the link's target was written: %q", s)
	}
}

func TestUserAuthorizedKeys(t *testing.T) {
	overlay := t.TempDir()
	f, err := UserAuthorizedKeys(overlay, "/home/alice")
	if err != nil {
		t.Fatal(err)
	}
	if f.Path() != filepath.Join(overlay, "home", "alice", ".ssh", "authorized_keys") {
		t.Errorf("Path() = %s", f.Path())
	}
	a := newEd25519(t, "alice")
	if _, err := f.AddFrom([]byte(a.line)); err != nil {
		t.Fatal(err)
	}
	if modeOf(t, f.Dir()) != 0o700 || modeOf(t, f.Path()) != 0o600 || readString(t, f.Path()) != a.line+"\n" {
		t.Errorf("alice's file: modes %04o %04o", modeOf(t, f.Dir()), modeOf(t, f.Path()))
	}
	if _, err := os.Stat(RootAuthorizedKeys(overlay).Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a user's key went to root's file")
	}
	for _, home := range []string{"", "home/alice", "/", "/home/../etc", "/home/alice/", "/home//alice", "/home/a b", "/home/a:b", "/home/a\nb", "/home/#x"} {
		if _, err := UserAuthorizedKeys(overlay, home); err == nil || !errs.Is(err, errs.BadInput) {
			t.Errorf("UserAuthorizedKeys(%q) = %v, want a bad-input error", home, err)
		}
	}
}

// TestOverlayIsAFile: an overlay/ that is a file is a clear error for
// every operation that touches it.
func TestOverlayIsAFile(t *testing.T) {
	overlay := filepath.Join(t.TempDir(), "overlay")
	os.WriteFile(overlay, []byte("oops"), 0o644)
	f := RootAuthorizedKeys(overlay)
	check := func(what string, err error) {
		t.Helper()
		if err == nil || !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("%s: %v, want a 'not a directory' bad-input error", what, err)
		}
	}
	_, err := f.AddFrom([]byte(newEd25519(t, "a").line))
	check("Add", err)
	_, err = f.List()
	check("List", err)
	_, err = f.Remove("SHA256:x")
	check("Remove", err)
	_, err = WriteSSHDDropIn(overlay)
	check("WriteSSHDDropIn", err)
	_, err = CheckOverlay(overlay, nil)
	check("CheckOverlay", err)
	if s := readString(t, overlay); s != "oops" {
		t.Errorf("the file was changed: %q", s)
	}
}

func TestSSHDDropIn(t *testing.T) {
	overlay := t.TempDir()
	p := SSHDDropInPath(overlay)
	if p != filepath.Join(overlay, "etc", "ssh", "sshd_config.d", "50-ipabr-root-keys.conf") {
		t.Errorf("SSHDDropInPath = %s", p)
	}
	changed, err := WriteSSHDDropIn(overlay)
	if err != nil || !changed {
		t.Fatalf("WriteSSHDDropIn = %v, %v", changed, err)
	}
	content := readString(t, p)
	var directives []string
	for _, l := range strings.Split(content, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			directives = append(directives, l)
		}
	}
	want := []string{"PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no"}
	if strings.Join(directives, "|") != strings.Join(want, "|") {
		t.Errorf("directives %q, want %q", directives, want)
	}
	if modeOf(t, p) != 0o644 {
		t.Errorf("mode %04o, want 0644", modeOf(t, p))
	}
	if changed, err := WriteSSHDDropIn(overlay); err != nil || changed {
		t.Errorf("second WriteSSHDDropIn = %v, %v; want unchanged", changed, err)
	}
	os.WriteFile(p, []byte("PermitRootLogin yes\n"), 0o666)
	if changed, err := WriteSSHDDropIn(overlay); err != nil || !changed || readString(t, p) != SSHDDropIn {
		t.Errorf("WriteSSHDDropIn over an edited file = %v, %v", changed, err)
	}
	onlyEntries(t, filepath.Dir(p), SSHDDropInName)
	if removed, err := RemoveSSHDDropIn(overlay); err != nil || !removed {
		t.Errorf("RemoveSSHDDropIn = %v, %v", removed, err)
	}
	if removed, err := RemoveSSHDDropIn(overlay); err != nil || removed {
		t.Errorf("second RemoveSSHDDropIn = %v, %v", removed, err)
	}
}

// TestSSHDDropInAcceptedBySSHD checks the drop-in's syntax with the host's
// sshd (sshd -T prints the effective configuration).
func TestSSHDDropInAcceptedBySSHD(t *testing.T) {
	sshd := testenv.Program(t, "host", "sshd")
	dir := t.TempDir()
	conf := filepath.Join(dir, "sshd_config")
	hostKey := filepath.Join(dir, "host_key")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(hostKey, pem.EncodeToMemory(block), 0o600)
	os.WriteFile(conf, []byte("HostKey "+hostKey+"\n"+SSHDDropIn), 0o600)
	out, err := exec.Command(sshd, "-T", "-f", conf).CombinedOutput()
	if err != nil && strings.Contains(string(out), "privilege separation directory") {
		t.Skipf("SKIP host: sshd -T needs its privilege separation directory: %s", strings.TrimSpace(string(out)))
	}
	if err != nil {
		t.Fatalf("sshd -T: %v\n%s", err, out)
	}
	for _, want := range []string{"permitrootlogin without-password", "passwordauthentication no", "kbdinteractiveauthentication no"} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("sshd -T lacks %q", want)
		}
	}
}

// TestFingerprintMatchesSSHKeygen compares List's fingerprints with
// ssh-keygen -l where it is installed.
func TestFingerprintMatchesSSHKeygen(t *testing.T) {
	keygen := testenv.Program(t, "host", "ssh-keygen")
	overlay := t.TempDir()
	f := RootAuthorizedKeys(overlay)
	a, b := newEd25519(t, "a"), newECDSA(t, "b")
	if _, err := f.AddFrom([]byte(a.line + "\n" + b.line + "\n")); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(keygen, "-l", "-E", "sha256", "-f", f.Path()).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v", err)
	}
	keys, _ := f.List()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(keys) {
		t.Fatalf("ssh-keygen listed %d keys, List %d", len(lines), len(keys))
	}
	for i, l := range lines {
		if fields := strings.Fields(l); len(fields) < 2 || fields[1] != keys[i].Fingerprint() {
			t.Errorf("ssh-keygen: %s; List: %s", l, keys[i].Fingerprint())
		}
	}
}
