package image

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ipabr/ipabr/internal/errs"
)

func TestReadPassword(t *testing.T) {
	pw := genPassword(t, 20)
	for name, input := range map[string][]byte{
		"newline":       append(bytes.Clone(pw), '\n'),
		"crlf":          append(bytes.Clone(pw), '\r', '\n'),
		"no newline":    bytes.Clone(pw),
		"one at a time": append(bytes.Clone(pw), '\n'),
	} {
		var r io.Reader = bytes.NewReader(input)
		if name == "one at a time" {
			r = iotest.OneByteReader(r)
		}
		got, err := ReadPassword(r)
		if err != nil || !bytes.Equal(got, pw) {
			t.Errorf("%s: ReadPassword returned %d bytes, %v; want the %d-byte password", name, len(got), err, len(pw))
		}
	}
}

func TestReadPasswordConsumesOneLine(t *testing.T) {
	first, second := genPassword(t, 12), genPassword(t, 13)
	in := bytes.NewReader(append(append(append(bytes.Clone(first), '\n'), second...), '\n'))
	a, err := ReadPassword(in)
	if err != nil || !bytes.Equal(a, first) {
		t.Fatalf("first line: %d bytes, %v", len(a), err)
	}
	b, err := ReadPassword(in)
	if err != nil || !bytes.Equal(b, second) {
		t.Fatalf("second line: %d bytes, %v", len(b), err)
	}
	if _, err := ReadPassword(in); !errors.Is(err, ErrNoPassword) {
		t.Errorf("after the last line: %v, want ErrNoPassword", err)
	}
}

// The message of ErrPasswordTooLong is a constant (no work at start-up), so
// it spells the limit out: it must say the limit that is enforced.
func TestPasswordLimitSaysTheLimit(t *testing.T) {
	if want := "longer than " + strconv.Itoa(MaxPasswordLen) + " bytes"; !strings.Contains(ErrPasswordTooLong.Error(), want) {
		t.Errorf("ErrPasswordTooLong = %q; want it to say %q", ErrPasswordTooLong, want)
	}
}

func TestReadPasswordBadInput(t *testing.T) {
	readErr := errors.New("device gone")
	for name, c := range map[string]struct {
		r    io.Reader
		want error
	}{
		"stdin closed": {strings.NewReader(""), ErrNoPassword},
		"empty line":   {strings.NewReader("\n"), ErrEmptyPassword},
		"only CR":      {strings.NewReader("\r\n"), ErrEmptyPassword},
		"NUL":          {strings.NewReader("ab\x00c\n"), ErrPasswordNUL},
		"too long":     {bytes.NewReader(bytes.Repeat([]byte{'a'}, MaxPasswordLen+1)), ErrPasswordTooLong},
		"read error":   {io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(readErr)), readErr},
	} {
		got, err := ReadPassword(c.r)
		if !errors.Is(err, c.want) || got != nil {
			t.Errorf("%s: ReadPassword = %d bytes, %v; want %v", name, len(got), err, c.want)
		}
		if c.want != readErr && !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: %v is not ErrBadInput", name, err)
		}
	}
	// The longest accepted password.
	max := bytes.Repeat([]byte{'a'}, MaxPasswordLen)
	if got, err := ReadPassword(bytes.NewReader(max)); err != nil || len(got) != MaxPasswordLen {
		t.Errorf("a %d-byte password: %d bytes, %v", MaxPasswordLen, len(got), err)
	}
}

func TestConfirmPassword(t *testing.T) {
	pw := genPassword(t, 16)
	if err := ConfirmPassword(pw, bytes.Clone(pw)); err != nil {
		t.Errorf("equal passwords: %v", err)
	}
	other := genPassword(t, 16)
	for name, c := range map[string]struct {
		a, b []byte
		want error
	}{
		"mismatch":      {pw, other, ErrPasswordMismatch},
		"prefix":        {pw, pw[:8], ErrPasswordMismatch},
		"empty both":    {nil, nil, ErrEmptyPassword},
		"empty first":   {[]byte{}, pw, ErrEmptyPassword},
		"NUL":           {[]byte("a\x00"), []byte("a\x00"), ErrPasswordNUL},
		"second longer": {pw, append(bytes.Clone(pw), 'x'), ErrPasswordMismatch},
	} {
		err := ConfirmPassword(c.a, c.b)
		if !errors.Is(err, c.want) || !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
			continue
		}
		if len(c.a) > 0 && strings.Contains(err.Error(), string(c.a)) {
			t.Errorf("%s: the error shows the password", name)
		}
	}
}
