package image

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/errs"

	"golang.org/x/crypto/ssh"
)

// SSH key errors; KeyLineError wraps the first two with a line number.
var (
	ErrPrivateKey   = errors.New("this is a private key, not a public one: give the public key (the .pub file); its content is not shown")
	ErrNotPublicKey = errors.New("not an SSH public key in authorized_keys format (type, base64 key, optional comment)")
	ErrRFC4716Key   = errors.New("an RFC 4716 (SSH2) public key: convert it with ssh-keygen -i -f FILE first")
	ErrNoKeys       = errors.New("no SSH public key found")
	ErrKeyNotFound  = errors.New("no authorized key has this fingerprint")
)

// KeyLineError names the line of a key file that was refused. Its message
// never includes the line's content.
type KeyLineError struct {
	Line int // 1-based
	Err  error
}

func (e *KeyLineError) Error() string        { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *KeyLineError) Unwrap() error        { return e.Err }
func (e *KeyLineError) ErrorKind() errs.Kind { return errs.BadInput }

// AuthorizedKey is one parsed line of an authorized_keys file.
type AuthorizedKey struct {
	Key     ssh.PublicKey
	Options []string // sshd options before the key, e.g. from="10.0.0.0/8"
	Comment string
}

// Type is the key's algorithm, e.g. ssh-ed25519.
func (k AuthorizedKey) Type() string { return k.Key.Type() }

// Fingerprint is the key's SHA256 fingerprint as ssh-keygen -l shows it.
func (k AuthorizedKey) Fingerprint() string { return ssh.FingerprintSHA256(k.Key) }

// String is the key's authorized_keys line, without a newline.
func (k AuthorizedKey) String() string {
	var b strings.Builder
	if len(k.Options) > 0 {
		b.WriteString(strings.Join(k.Options, ","))
		b.WriteByte(' ')
	}
	b.Write(bytes.TrimSpace(ssh.MarshalAuthorizedKey(k.Key)))
	if k.Comment != "" {
		b.WriteByte(' ')
		b.WriteString(k.Comment)
	}
	return b.String()
}

// blob identifies a key for de-duplication: its wire encoding.
func (k AuthorizedKey) blob() string { return string(k.Key.Marshal()) }

// isPrivateKeyLine recognises the first line of a private key: PEM and
// OpenSSH ("-----BEGIN ... PRIVATE KEY-----"), SSH2/ssh.com ("---- BEGIN
// SSH2 ENCRYPTED PRIVATE KEY ----") and PuTTY ("PuTTY-User-Key-File-").
func isPrivateKeyLine(line []byte) bool {
	line = bytes.TrimSpace(line)
	if bytes.HasPrefix(line, []byte("PuTTY-User-Key-File-")) {
		return true
	}
	if !bytes.HasPrefix(line, []byte("-----BEGIN ")) && !bytes.HasPrefix(line, []byte("---- BEGIN ")) {
		return false
	}
	return bytes.Contains(line, []byte("PRIVATE KEY"))
}

// privateKeyLine returns the 1-based number of the first line of data that
// starts a private key, or 0.
func privateKeyLine(data []byte) int {
	for n, line := range splitLines(data) {
		if isPrivateKeyLine(line) {
			return n + 1
		}
	}
	return 0
}

func splitLines(data []byte) [][]byte {
	lines := bytes.Split(data, []byte{'\n'})
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// ParseAuthorizedKeys parses the content of an authorized_keys or .pub
// file: one key per line, blank lines and # comments ignored. Every line
// must be a valid public key, or the whole input is refused with a
// *KeyLineError naming the first bad line (a private key anywhere in the
// input is reported first). Input without any key is an error. Keys are
// returned in input order, duplicates included.
func ParseAuthorizedKeys(data []byte) ([]AuthorizedKey, error) {
	if n := privateKeyLine(data); n > 0 {
		return nil, &KeyLineError{Line: n, Err: ErrPrivateKey}
	}
	var keys []AuthorizedKey
	for i, raw := range splitLines(data) {
		line := bytes.TrimSpace(bytes.TrimSuffix(raw, []byte{'\r'}))
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if bytes.HasPrefix(line, []byte("---- BEGIN SSH2 PUBLIC KEY")) {
			return nil, &KeyLineError{Line: i + 1, Err: ErrRFC4716Key}
		}
		key, comment, options, rest, err := ssh.ParseAuthorizedKey(line)
		if err != nil || len(bytes.TrimSpace(rest)) > 0 {
			return nil, &KeyLineError{Line: i + 1, Err: ErrNotPublicKey}
		}
		keys = append(keys, AuthorizedKey{Key: key, Options: options, Comment: comment})
	}
	if len(keys) == 0 {
		return nil, badInput(ErrNoKeys)
	}
	return keys, nil
}

// AuthorizedKeysFile is the authorized_keys file of one user in an overlay:
// <overlay><home>/.ssh/authorized_keys. It keeps the modes sshd wants on
// the build host (directory 0700, file 0600); see the package comment for
// the modes Buildroot gives them in the image.
type AuthorizedKeysFile struct {
	overlay string
	home    string // absolute, clean, in the image
}

// RootAuthorizedKeys is root's file: overlay/root/.ssh/authorized_keys.
func RootAuthorizedKeys(overlay string) *AuthorizedKeysFile {
	return &AuthorizedKeysFile{overlay: overlay, home: "/root"}
}

// UserAuthorizedKeys is the file of a user whose home in the image is home
// (absolute, e.g. /home/alice): overlay/home/alice/.ssh/authorized_keys.
func UserAuthorizedKeys(overlay, home string) (*AuthorizedKeysFile, error) {
	if err := checkHome(home); err != nil {
		return nil, err
	}
	return &AuthorizedKeysFile{overlay: overlay, home: home}, nil
}

// checkHome accepts an absolute, clean path other than "/" without
// whitespace, ':' or '#'.
func checkHome(home string) error {
	switch {
	case !strings.HasPrefix(home, "/"):
		return badInputf("home %q must be an absolute path", home)
	case home == "/":
		return badInputf("home cannot be / (Buildroot refuses it)")
	case path.Clean(home) != home:
		return badInputf("home %q is not a clean path (no //, /./, /../ or trailing /)", home)
	case strings.ContainsAny(home, ":#") || strings.IndexFunc(home, isSpaceOrControl) >= 0:
		return badInputf("home %q may not contain spaces, control characters, ':' or '#'", home)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// Dir is the .ssh directory in the overlay.
func (f *AuthorizedKeysFile) Dir() string {
	return filepath.Join(f.overlay, filepath.FromSlash(f.home), ".ssh")
}

// Path is the authorized_keys file in the overlay.
func (f *AuthorizedKeysFile) Path() string { return filepath.Join(f.Dir(), "authorized_keys") }

// keyDoc is an authorized_keys file as lines, keeping comments and blank
// lines; keys[i] is non-nil where lines[i] is a key.
type keyDoc struct {
	lines []string
	keys  []*AuthorizedKey
}

// load reads the file; a missing file (or overlay) is an empty document.
func (f *AuthorizedKeysFile) load() (*keyDoc, error) {
	if st, err := os.Stat(f.overlay); err == nil && !st.IsDir() {
		return nil, checkOverlayDir(f.overlay, false)
	}
	data, err := os.ReadFile(f.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &keyDoc{}, nil
	}
	if err != nil {
		return nil, err
	}
	doc := &keyDoc{}
	if n := privateKeyLine(data); n > 0 {
		return nil, fmt.Errorf("%s: %w", f.Path(), &KeyLineError{Line: n, Err: ErrPrivateKey})
	}
	for i, raw := range splitLines(data) {
		line := strings.TrimSpace(strings.TrimSuffix(string(raw), "\r"))
		doc.lines = append(doc.lines, line)
		if line == "" || line[0] == '#' {
			doc.keys = append(doc.keys, nil)
			continue
		}
		keys, err := ParseAuthorizedKeys([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("%s: %w (fix or delete that line)", f.Path(), &KeyLineError{Line: i + 1, Err: ErrNotPublicKey})
		}
		doc.keys = append(doc.keys, &keys[0])
	}
	return doc, nil
}

func (d *keyDoc) list() []AuthorizedKey {
	var out []AuthorizedKey
	for _, k := range d.keys {
		if k != nil {
			out = append(out, *k)
		}
	}
	return out
}

func (d *keyDoc) bytes() []byte {
	var b bytes.Buffer
	for _, l := range d.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// List returns the keys in the file, in file order; none if it is missing.
func (f *AuthorizedKeysFile) List() ([]AuthorizedKey, error) {
	doc, err := f.load()
	if err != nil {
		return nil, err
	}
	return doc.list(), nil
}

// AddResult tells which keys Add wrote and which were already there.
type AddResult struct {
	Added      []AuthorizedKey
	Duplicates []AuthorizedKey // same key blob as one in the file or earlier in the input
}

// Add appends the keys that are not in the file yet (the same key blob,
// whatever its comment or options, counts as present), creating the
// overlay, the home and .ssh (0700) as needed, and replaces the file
// atomically with mode 0600. Modes are restored even when nothing is added.
func (f *AuthorizedKeysFile) Add(keys []AuthorizedKey) (*AddResult, error) {
	if err := checkOverlayDir(f.overlay, true); err != nil {
		return nil, err
	}
	doc, err := f.load()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, k := range doc.list() {
		seen[k.blob()] = true
	}
	res := &AddResult{}
	for _, k := range keys {
		if seen[k.blob()] {
			res.Duplicates = append(res.Duplicates, k)
			continue
		}
		seen[k.blob()] = true
		res.Added = append(res.Added, k)
		doc.lines = append(doc.lines, k.String())
		doc.keys = append(doc.keys, &k)
	}
	if err := ensureDir(f.Dir(), 0o700); err != nil {
		return nil, err
	}
	if len(res.Added) > 0 {
		if err := WriteFileAtomic(f.Path(), doc.bytes(), 0o600); err != nil {
			return nil, err
		}
	} else if err := fixMode(f.Path(), 0o600); err != nil {
		return nil, err
	}
	return res, nil
}

// AddFrom parses data with ParseAuthorizedKeys and adds the keys; when
// any line is bad nothing is written.
func (f *AuthorizedKeysFile) AddFrom(data []byte) (*AddResult, error) {
	keys, err := ParseAuthorizedKeys(data)
	if err != nil {
		return nil, err
	}
	return f.Add(keys)
}

// Remove deletes every key whose SHA256 fingerprint is fingerprint (with
// or without the "SHA256:" prefix) and returns the first one removed. A
// fingerprint that matches no key is an error wrapping ErrKeyNotFound.
func (f *AuthorizedKeysFile) Remove(fingerprint string) (AuthorizedKey, error) {
	want := strings.TrimSpace(fingerprint)
	if !strings.HasPrefix(want, "SHA256:") {
		want = "SHA256:" + want
	}
	doc, err := f.load()
	if err != nil {
		return AuthorizedKey{}, err
	}
	var removed *AuthorizedKey
	kept := &keyDoc{}
	for i, k := range doc.keys {
		if k != nil && k.Fingerprint() == want {
			if removed == nil {
				removed = k
			}
			continue
		}
		kept.lines = append(kept.lines, doc.lines[i])
		kept.keys = append(kept.keys, k)
	}
	if removed == nil {
		return AuthorizedKey{}, badInputf("%s: %w (ipabr ssh-key list shows them)", want, ErrKeyNotFound)
	}
	if err := ensureDir(f.Dir(), 0o700); err != nil {
		return AuthorizedKey{}, err
	}
	if err := WriteFileAtomic(f.Path(), kept.bytes(), 0o600); err != nil {
		return AuthorizedKey{}, err
	}
	return *removed, nil
}

// fixMode sets mode perm on name if it exists.
func fixMode(name string, perm fs.FileMode) error {
	err := os.Chmod(name, perm)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// SSHDDropInName is the sshd drop-in that ssh-key add writes. sshd keeps
// the first value it reads for each keyword and reads an Include's files in
// lexical order, so the number leaves room on both sides: a user's own
// 10-*.conf overrides it, a later 90-*.conf does not.
const SSHDDropInName = "50-ipabr-root-keys.conf"

// SSHDDropIn is its content: root may log in with a key only, and nobody
// with a password over SSH. Keyboard-interactive is off too, since with PAM
// it would ask for the password that PasswordAuthentication turns away.
const SSHDDropIn = `# Written by ipabr ssh-key add. Root may log in over SSH with a key only,
# and nobody with a password. sshd keeps the first value it reads, so a
# file that sorts before this one (e.g. 10-local.conf) overrides it.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
`

// SSHDDropInPath is the drop-in's path in the overlay. It takes effect
// only while the image's sshd_config includes /etc/ssh/sshd_config.d/*.conf
// before its own settings. OpenSSH's stock sshd_config has no such line;
// the board's (rootfs-overlay/etc/ssh/sshd_config) has, and CheckOverlay
// warns about a user's sshd_config without it.
func SSHDDropInPath(overlay string) string {
	return filepath.Join(overlay, "etc", "ssh", "sshd_config.d", SSHDDropInName)
}

// WriteSSHDDropIn writes the drop-in (mode 0644) unless it already holds
// exactly SSHDDropIn, and reports whether it wrote.
func WriteSSHDDropIn(overlay string) (changed bool, err error) {
	if err := checkOverlayDir(overlay, true); err != nil {
		return false, err
	}
	p := SSHDDropInPath(overlay)
	if old, err := os.ReadFile(p); err == nil && string(old) == SSHDDropIn {
		return false, fixMode(p, 0o644)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return false, err
	}
	if err := WriteFileAtomic(p, []byte(SSHDDropIn), 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// RemoveSSHDDropIn deletes the drop-in and reports whether it was there.
func RemoveSSHDDropIn(overlay string) (removed bool, err error) {
	err = os.Remove(SSHDDropInPath(overlay))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
