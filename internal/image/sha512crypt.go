package image

import (
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SHA-512 crypt ("$6$"), as specified by Ulrich Drepper in "Unix crypt using
// SHA-256 and SHA-512" and implemented by glibc and libxcrypt.
const (
	SHA512Prefix  = "$6$"     // the method prefix of SHA-512 crypt
	RoundsPrefix  = "rounds=" // introduces a custom rounds count
	DefaultRounds = 5000      // rounds used when the setting names none
	MinRounds     = 1000      // smaller requests are raised to this
	MaxRounds     = 999999999 // larger requests are lowered to this
	SaltMaxLen    = 16        // longer salts are truncated to this
	SaltLen       = 16        // the length of salts NewSalt makes
	sha512HashLen = 86        // characters of the encoded digest
)

// cryptAlphabet is crypt(3)'s base-64 alphabet, in value order.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ErrBadSetting reports a malformed "$6$" setting or hash.
var ErrBadSetting = errors.New("malformed SHA-512 crypt setting")

// SHA512Crypt computes crypt(3) for password under setting, which is
// "$6$[rounds=N$]salt" optionally followed by "$" and anything (so a
// complete hash is a valid setting and yields itself for the right
// password). As in the specification, a salt longer than 16 characters is
// truncated, a rounds count is clamped to [1000, 999999999], and the output
// repeats "rounds=N$" only when the setting named it. As libxcrypt does, an
// empty rounds value, a leading zero or a rounds= field without its closing
// "$" is an error rather than part of the salt.
func SHA512Crypt(password []byte, setting string) (string, error) {
	rounds, custom, salt, err := parseSetting(setting)
	if err != nil {
		return "", err
	}
	sum := sha512crypt(password, []byte(salt), rounds)
	var b strings.Builder
	b.Grow(len(SHA512Prefix) + len(RoundsPrefix) + 10 + len(salt) + 1 + sha512HashLen)
	b.WriteString(SHA512Prefix)
	if custom {
		b.WriteString(RoundsPrefix)
		b.WriteString(strconv.Itoa(rounds))
		b.WriteByte('$')
	}
	b.WriteString(salt)
	b.WriteByte('$')
	b.WriteString(encodeSHA512(&sum))
	return b.String(), nil
}

// parseSetting splits "$6$[rounds=N$]salt[$...]".
func parseSetting(setting string) (rounds int, custom bool, salt string, err error) {
	rest, ok := strings.CutPrefix(setting, SHA512Prefix)
	if !ok {
		return 0, false, "", badInputf("%w: it does not start with %s", ErrBadSetting, SHA512Prefix)
	}
	rounds = DefaultRounds
	if num, ok := strings.CutPrefix(rest, RoundsPrefix); ok {
		end := strings.IndexByte(num, '$')
		if end < 0 {
			return 0, false, "", badInputf("%w: %s has no closing $", ErrBadSetting, RoundsPrefix)
		}
		digits := num[:end]
		if digits == "" || digits[0] < '1' || digits[0] > '9' || strings.Trim(digits, "0123456789") != "" {
			return 0, false, "", badInputf("%w: the rounds count must be a decimal number without leading zeros", ErrBadSetting)
		}
		n, perr := strconv.ParseUint(digits, 10, 64)
		if perr != nil {
			return 0, false, "", badInputf("%w: the rounds count is out of range", ErrBadSetting)
		}
		rounds = int(max(MinRounds, min(n, MaxRounds)))
		custom = true
		rest = num[end+1:]
	}
	salt, _, _ = strings.Cut(rest, "$")
	if len(salt) > SaltMaxLen {
		salt = salt[:SaltMaxLen]
	}
	for i := 0; i < len(salt); i++ {
		if c := salt[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return 0, false, "", badInputf("%w: the salt may hold printable ASCII except space and ':'", ErrBadSetting)
		}
	}
	return rounds, custom, salt, nil
}

// sha512crypt is steps 1-21 of the specification: the digest before encoding.
func sha512crypt(key, salt []byte, rounds int) [sha512.Size]byte {
	const size = sha512.Size

	// Digest B: key, salt, key.
	h := sha512.New()
	h.Write(key)
	h.Write(salt)
	h.Write(key)
	var b [size]byte
	h.Sum(b[:0])

	// Digest A: key, salt, then B once per key byte (64 at a time), then
	// B or the key for each bit of the key's length, lowest bit first.
	h.Reset()
	h.Write(key)
	h.Write(salt)
	n := len(key)
	for ; n > size; n -= size {
		h.Write(b[:])
	}
	h.Write(b[:n])
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b[:])
		} else {
			h.Write(key)
		}
	}
	var a [size]byte
	h.Sum(a[:0])

	// Digest DP: the key once per key byte; P is DP repeated to the
	// key's length.
	h.Reset()
	for range len(key) {
		h.Write(key)
	}
	var dp [size]byte
	h.Sum(dp[:0])
	p := make([]byte, len(key))
	for off := 0; off < len(p); off += size {
		copy(p[off:], dp[:])
	}

	// Digest DS: the salt 16+A[0] times; S is DS cut to the salt's length.
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	var ds [size]byte
	h.Sum(ds[:0])
	s := make([]byte, len(salt))
	copy(s, ds[:]) // the salt is at most 16 bytes

	// The rounds.
	c := a
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c[:])
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c[:])
		} else {
			h.Write(p)
		}
		h.Sum(c[:0])
	}

	// Key-derived intermediates are not left lying around.
	clear(b[:])
	clear(a[:])
	clear(dp[:])
	clear(p)
	return c
}

// sha512Order is the specification's byte permutation for the encoding:
// each triple becomes four characters, the last byte alone two.
var sha512Order = [21][3]int{
	{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
	{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
	{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
	{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
	{62, 20, 41},
}

// encodeSHA512 is crypt's base-64 encoding of the final digest.
func encodeSHA512(sum *[sha512.Size]byte) string {
	out := make([]byte, 0, sha512HashLen)
	put := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for range n {
			out = append(out, cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	for _, t := range sha512Order {
		put(sum[t[0]], sum[t[1]], sum[t[2]], 4)
	}
	put(0, 0, sum[63], 2)
	return string(out)
}

// NewSalt returns a 16-character salt drawn from crypto/rand, every
// character uniform over crypt's 64-character alphabet.
func NewSalt() (string, error) { return newSalt(rand.Reader) }

func newSalt(r io.Reader) (string, error) {
	var buf [SaltLen]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	for i, c := range buf {
		buf[i] = cryptAlphabet[c&0x3f] // 256 is a multiple of 64: no bias
	}
	return string(buf[:]), nil
}

// HashPassword returns "$6$<16-character salt>$<hash>" for password with a
// fresh salt and the default 5000 rounds, the form glibc's crypt(3) and
// Buildroot's BR2_TARGET_GENERIC_ROOT_PASSWD take as already hashed. The
// password is checked with CheckPassword first.
func HashPassword(password []byte) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	salt, err := NewSalt()
	if err != nil {
		return "", err
	}
	return SHA512Crypt(password, SHA512Prefix+salt)
}

// VerifyPassword reports whether password matches hash, a SHA-512 crypt
// hash, comparing in constant time.
func VerifyPassword(password []byte, hash string) (bool, error) {
	if err := ValidSHA512Hash(hash); err != nil {
		return false, err
	}
	got, err := SHA512Crypt(password, hash)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1, nil
}

// ValidSHA512Hash checks that s is a complete SHA-512 crypt hash:
// "$6$[rounds=N$]salt$" and 86 characters of crypt's alphabet, the last
// of which can only encode two bits.
func ValidSHA512Hash(s string) error {
	if _, _, _, err := parseSetting(s); err != nil {
		return err
	}
	i := strings.LastIndexByte(s, '$')
	head, digest := s[:i+1], s[i+1:]
	if len(digest) != sha512HashLen || strings.Trim(digest, cryptAlphabet) != "" ||
		strings.IndexByte(cryptAlphabet[:4], digest[sha512HashLen-1]) < 0 {
		return badInputf("%w: not a complete hash (want %d characters of [./0-9A-Za-z] after the salt)", ErrBadSetting, sha512HashLen)
	}
	// The salt (after any rounds= field) must be at most 16 characters and
	// must not run into the digest.
	body := strings.TrimPrefix(head, SHA512Prefix)
	if strings.HasPrefix(body, RoundsPrefix) {
		_, body, _ = strings.Cut(body, "$")
	}
	salt, ok := strings.CutSuffix(body, "$")
	if !ok || len(salt) > SaltMaxLen || strings.Contains(salt, "$") {
		return badInputf("%w: want a salt of at most %d characters between $ signs", ErrBadSetting, SaltMaxLen)
	}
	return nil
}

// DoubleDollars doubles every "$", as Buildroot requires for a hashed
// password in .config (BR2_TARGET_GENERIC_ROOT_PASSWD): make would expand
// a single "$".
func DoubleDollars(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// UndoubleDollars is the inverse of DoubleDollars: every "$$" becomes "$".
// A lone "$" means s was not doubled, which is an error.
func UndoubleDollars(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) || s[i+1] != '$' {
			return "", badInputf("a single $ at byte %d: the value's dollars are not doubled", i)
		}
		b.WriteByte('$')
		i++
	}
	return b.String(), nil
}
