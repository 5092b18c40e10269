package image

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/testenv"
)

// specVectors are every "$6$" test vector of Ulrich Drepper's "Unix crypt
// using SHA-256 and SHA-512" specification: setting, key, result.
var specVectors = []struct{ setting, key, want string }{
	{"$6$saltstring", "Hello world!",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	{"$6$rounds=10000$saltstringsaltstring", "Hello world!",
		"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
	{"$6$rounds=5000$toolongsaltstring", "This is just a test",
		"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	{"$6$rounds=1400$anotherlongsaltstring", "a very much longer text to encrypt.  This one even stretches over morethan one line.",
		"$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
	{"$6$rounds=77777$short", "we have a short salt string but not a short password",
		"$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
	{"$6$rounds=123456$asaltof16chars..", "a short string",
		"$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
	{"$6$rounds=10$roundstoolow", "the minimum number is still observed",
		"$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
}

func TestSHA512CryptSpecificationVectors(t *testing.T) {
	for _, v := range specVectors {
		got, err := SHA512Crypt([]byte(v.key), v.setting)
		if err != nil {
			t.Fatalf("SHA512Crypt(%q): %v", v.setting, err)
		}
		if got != v.want {
			t.Errorf("SHA512Crypt(%q)\n got %s\nwant %s", v.setting, got, v.want)
		}
		if err := ValidSHA512Hash(got); err != nil {
			t.Errorf("ValidSHA512Hash(%s): %v", got, err)
		}
		// The hash is its own setting: the basis of verification.
		if again, err := SHA512Crypt([]byte(v.key), got); err != nil || again != v.want {
			t.Errorf("SHA512Crypt(key, its own hash) = %s, %v", again, err)
		}
		if ok, err := VerifyPassword([]byte(v.key), v.want); !ok || err != nil {
			t.Errorf("VerifyPassword(spec key, %s) = %v, %v", v.want, ok, err)
		}
		if ok, _ := VerifyPassword([]byte(v.key+"x"), v.want); ok {
			t.Errorf("VerifyPassword accepted a wrong key for %s", v.want)
		}
	}
}

func TestSHA512CryptSaltHandling(t *testing.T) {
	key := []byte("Hello world!")
	want := specVectors[0].want
	for _, setting := range []string{"$6$saltstring$", "$6$saltstring$anything after the salt"} {
		if got, _ := SHA512Crypt(key, setting); got != want {
			t.Errorf("the salt must end at $: SHA512Crypt(%q) = %s", setting, got)
		}
	}
	long, _ := SHA512Crypt(key, "$6$0123456789abcdefXYZ")
	exact, _ := SHA512Crypt(key, "$6$0123456789abcdef")
	if long != exact || !strings.HasPrefix(exact, "$6$0123456789abcdef$") {
		t.Errorf("a long salt must be cut to 16: %s vs %s", long, exact)
	}
	// An explicit rounds=5000 is the default count but is kept in the output.
	def, _ := SHA512Crypt(key, "$6$saltstring")
	explicit, _ := SHA512Crypt(key, "$6$rounds=5000$saltstring")
	if explicit != "$6$rounds=5000$"+strings.TrimPrefix(def, "$6$") {
		t.Errorf("rounds=5000 must equal the default with the field kept: %s vs %s", explicit, def)
	}
	// An empty salt is valid, as in glibc.
	empty, err := SHA512Crypt(key, "$6$")
	if err != nil || !strings.HasPrefix(empty, "$6$$") || ValidSHA512Hash(empty) != nil {
		t.Errorf("empty salt: %s, %v", empty, err)
	}
}

func TestSHA512CryptRoundsClamped(t *testing.T) {
	for _, c := range []struct {
		setting string
		rounds  int
	}{
		{"$6$rounds=1$s", MinRounds},
		{"$6$rounds=999$s", MinRounds},
		{"$6$rounds=1000$s", 1000},
		{"$6$rounds=1001$s", 1001},
		{"$6$rounds=999999999$s", MaxRounds},
		{"$6$rounds=1000000000$s", MaxRounds},
		{"$6$rounds=18446744073709551615$s", MaxRounds},
		{"$6$s", DefaultRounds},
	} {
		rounds, custom, salt, err := parseSetting(c.setting)
		if err != nil || rounds != c.rounds || salt != "s" || custom != strings.Contains(c.setting, "rounds=") {
			t.Errorf("parseSetting(%q) = %d, %v, %q, %v; want %d", c.setting, rounds, custom, salt, err, c.rounds)
		}
	}
}

func TestSHA512CryptBadSettings(t *testing.T) {
	for _, s := range []string{
		"", "$5$saltstring", "$1$salt", "6$salt", "saltstring",
		"$6$rounds=$salt",                        // empty count
		"$6$rounds=0100$salt",                    // leading zero
		"$6$rounds=0$salt",                       // zero
		"$6$rounds=-5$salt",                      // sign
		"$6$rounds=12a$salt",                     // not a number
		"$6$rounds=5000",                         // no closing $
		"$6$rounds=99999999999999999999999$salt", // overflows
		"$6$salt:colon", "$6$salt with space", "$6$tab\there", "$6$new\nline", "$6$\x01ctl",
	} {
		got, err := SHA512Crypt([]byte("k"), s)
		if err == nil || got != "" {
			t.Errorf("SHA512Crypt(%q) = %q, nil; want an error", s, got)
			continue
		}
		if !errors.Is(err, ErrBadSetting) || !errs.Is(err, errs.BadInput) {
			t.Errorf("SHA512Crypt(%q) error %v: want ErrBadSetting and ErrBadInput", s, err)
		}
	}
}

func TestValidSHA512Hash(t *testing.T) {
	good := specVectors[0].want
	digest := good[strings.LastIndexByte(good, '$')+1:]
	if err := ValidSHA512Hash(good); err != nil {
		t.Fatalf("ValidSHA512Hash(%s): %v", good, err)
	}
	for name, s := range map[string]string{
		"short digest":      good[:len(good)-1],
		"long digest":       good + "1",
		"bad character":     strings.Replace(good, "svn8", "sv!8", 1),
		"impossible last":   good[:len(good)-1] + "z", // the last character encodes 2 bits: ./01 only
		"salt of 17":        "$6$0123456789abcdefg$" + digest,
		"no salt separator": "$6$" + digest,
		"rounds, no salt":   "$6$rounds=5000$" + digest,
		"other method":      "$5$saltstring$" + digest,
		"setting only":      "$6$saltstring",
		"empty":             "",
	} {
		err := ValidSHA512Hash(s)
		if err == nil {
			t.Errorf("%s: ValidSHA512Hash(%q) = nil", name, s)
		} else if !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: error %v is not ErrBadInput", name, err)
		}
		if ok, err := VerifyPassword([]byte("Hello world!"), s); ok || err == nil {
			t.Errorf("%s: VerifyPassword accepted a malformed hash", name)
		}
	}
}

func TestNewSalt(t *testing.T) {
	a, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSalt()
	if len(a) != SaltLen || strings.Trim(a, cryptAlphabet) != "" {
		t.Errorf("NewSalt() = %q: want 16 characters of [./0-9A-Za-z]", a)
	}
	if a == b {
		t.Errorf("two salts are equal: %q", a)
	}
	// Each byte maps to alphabet[byte mod 64].
	in := []byte{0, 1, 2, 11, 12, 37, 38, 63, 64, 65, 127, 128, 191, 192, 254, 255}
	got, err := newSalt(bytes.NewReader(in))
	if err != nil || got != "./09AZaz./z.z.yz" {
		t.Errorf("newSalt(fixed bytes) = %q, %v", got, err)
	}
	if _, err := newSalt(bytes.NewReader(in[:5])); err == nil {
		t.Error("newSalt with too few random bytes: want an error")
	}
}

func TestHashPassword(t *testing.T) {
	pw := genPassword(t, 24)
	h1, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword(pw)
	if !strings.HasPrefix(h1, "$6$") || strings.Contains(h1, "rounds=") || len(h1) != 3+16+1+86 {
		t.Errorf("HashPassword = %s: want $6$<16>$<86>", h1)
	}
	if err := ValidSHA512Hash(h1); err != nil {
		t.Errorf("ValidSHA512Hash(HashPassword): %v", err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, h := range []string{h1, h2} {
		if ok, err := VerifyPassword(pw, h); !ok || err != nil {
			t.Errorf("VerifyPassword(pw, %s) = %v, %v", h, ok, err)
		}
	}
	other := append(bytes.Clone(pw), 'x')
	if ok, _ := VerifyPassword(other, h1); ok {
		t.Error("VerifyPassword accepted another password")
	}
	if strings.Contains(h1, string(pw)) {
		t.Error("the hash contains the password")
	}
	for _, c := range []struct {
		pw   []byte
		want error
	}{
		{nil, ErrEmptyPassword},
		{[]byte{}, ErrEmptyPassword},
		{[]byte("ab\x00cd"), ErrPasswordNUL},
		{bytes.Repeat([]byte{'a'}, MaxPasswordLen+1), ErrPasswordTooLong},
	} {
		h, err := HashPassword(c.pw)
		if !errors.Is(err, c.want) || !errs.Is(err, errs.BadInput) || h != "" {
			t.Errorf("HashPassword(len %d) = %q, %v; want %v", len(c.pw), h, err, c.want)
		}
	}
}

func TestDoubleDollars(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"", ""},
		{"plain", "plain"},
		{"$", "$$"},
		{"$6$salt$hash", "$$6$$salt$$hash"},
		{"$6$rounds=5000$s$h", "$$6$$rounds=5000$$s$$h"},
		{"a$$b", "a$$$$b"},
	} {
		if got := DoubleDollars(c.in); got != c.out {
			t.Errorf("DoubleDollars(%q) = %q, want %q", c.in, got, c.out)
		}
		back, err := UndoubleDollars(c.out)
		if err != nil || back != c.in {
			t.Errorf("UndoubleDollars(%q) = %q, %v; want %q", c.out, back, err, c.in)
		}
	}
	for _, v := range specVectors {
		if back, err := UndoubleDollars(DoubleDollars(v.want)); err != nil || back != v.want {
			t.Errorf("round trip of %s: %q, %v", v.want, back, err)
		}
	}
	for _, bad := range []string{"$", "$6$salt", "$$6$", "a$", "$$$"} {
		if got, err := UndoubleDollars(bad); err == nil || !errs.Is(err, errs.BadInput) {
			t.Errorf("UndoubleDollars(%q) = %q, %v; want a bad-input error", bad, got, err)
		}
	}
}

// genPassword makes a random password of n bytes, valid UTF-8 with some
// multi-byte characters, that a line-based reader can carry: no NUL, CR or
// LF. It is never logged.
func genPassword(t testing.TB, n int) []byte {
	t.Helper()
	const ascii = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	wide := []string{"é", "ß", "€", "ж"}
	random := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, random); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, n)
	for i := 0; len(buf) < n; i++ {
		r := int(random[i%n])
		if w := wide[r%len(wide)]; i%4 == 3 && len(buf)+len(w) <= n {
			buf = append(buf, w...)
			continue
		}
		buf = append(buf, ascii[r%len(ascii)])
	}
	return buf
}

// hostCases are password lengths around the 64-byte block of SHA-512 and
// settings with and without rounds=; salts come from NewSalt.
var hostCases = []struct {
	length int
	rounds int // 0: no rounds= field
}{
	{1, 0}, {8, 0}, {63, 0}, {64, 0}, {65, 0}, {129, 0}, {200, 0}, {20, 1000}, {33, 1234},
}

func hostSetting(t *testing.T, rounds int) string {
	salt, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	if rounds > 0 {
		return "$6$rounds=" + strconv.Itoa(rounds) + "$" + salt
	}
	return "$6$" + salt
}

// TestSHA512CryptMatchesOpenSSL compares with `openssl passwd -6`, the
// password given on standard input, never on the command line.
func TestSHA512CryptMatchesOpenSSL(t *testing.T) {
	openssl := testenv.Program(t, "host", "openssl")
	for _, c := range hostCases {
		pw := genPassword(t, c.length)
		setting := hostSetting(t, c.rounds)
		cmd := exec.Command(openssl, "passwd", "-6", "-salt", strings.TrimPrefix(setting, "$6$"), "-stdin")
		cmd.Stdin = bytes.NewReader(append(bytes.Clone(pw), '\n'))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl passwd (setting %s): %v: %s", setting, err, stderr.String())
		}
		want := strings.TrimSpace(string(out))
		got, err := SHA512Crypt(pw, setting)
		if err != nil || got != want {
			t.Errorf("password of %d bytes, setting %s:\n got %s\nwant %s (openssl)", c.length, setting, got, want)
		}
	}
}

// TestSHA512CryptMatchesHostCrypt compares with the host's crypt(3)
// through Python's crypt module, where it still exists (Python < 3.13).
// One process hashes every case; each arrives on standard input as a line
// "setting NUL password".
func TestSHA512CryptMatchesHostCrypt(t *testing.T) {
	python := testenv.Program(t, "host", "python3")
	const script = `import sys, warnings
warnings.simplefilter("ignore")
try:
    import crypt
except ImportError:
    print("NOCRYPT"); sys.exit(0)
for line in sys.stdin.buffer.read().split(b"\n")[:-1]:
    setting, pw = line.split(b"\0", 1)
    print(crypt.crypt(pw.decode(), setting.decode()))
`
	var in bytes.Buffer
	var pws [][]byte
	var settings []string
	for _, c := range hostCases {
		pw := genPassword(t, c.length)
		setting := hostSetting(t, c.rounds)
		pws, settings = append(pws, pw), append(settings, setting)
		in.WriteString(setting)
		in.WriteByte(0)
		in.Write(pw)
		in.WriteByte('\n')
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 crypt: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if lines[0] == "NOCRYPT" {
		t.Skip("SKIP host: python3 has no crypt module")
	}
	if len(lines) != len(hostCases) {
		t.Fatalf("python3 crypt gave %d lines for %d cases", len(lines), len(hostCases))
	}
	for i, want := range lines {
		got, err := SHA512Crypt(pws[i], settings[i])
		if err != nil || got != want {
			t.Errorf("password of %d bytes, setting %s:\n got %s\nwant %s (crypt(3))", len(pws[i]), settings[i], got, want)
		}
	}
}

func BenchmarkHashPassword(b *testing.B) {
	pw := genPassword(b, 16)
	for b.Loop() {
		if _, err := HashPassword(pw); err != nil {
			b.Fatal(err)
		}
	}
}
