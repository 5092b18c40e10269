package image

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// MaxPasswordLen bounds a password read by ReadPassword, in bytes.
const MaxPasswordLen = 4096

// maxPasswordLenText is MaxPasswordLen in words (password_test.go checks they agree).
const maxPasswordLenText = "4096"

// Password errors. They never contain the password; all are bad input.
var (
	ErrEmptyPassword    = errors.New("empty password refused")
	ErrNoPassword       = errors.New("no password read: standard input is closed or empty")
	ErrPasswordMismatch = errors.New("the passwords do not match")
	ErrPasswordNUL      = errors.New("the password contains a NUL byte, which crypt(3) would cut it at")
	ErrPasswordTooLong  = errors.New("the password is longer than " + maxPasswordLenText + " bytes")
)

// CheckPassword refuses a password that cannot be used: empty, longer than
// MaxPasswordLen, or holding a NUL byte (C's crypt(3) would hash only the
// part before it, so the hash would not match what login computes).
func CheckPassword(password []byte) error {
	switch {
	case len(password) == 0:
		return badInput(ErrEmptyPassword)
	case len(password) > MaxPasswordLen:
		return badInput(ErrPasswordTooLong)
	case bytes.IndexByte(password, 0) >= 0:
		return badInput(ErrPasswordNUL)
	}
	return nil
}

// ConfirmPassword checks a password typed twice: both must be equal
// (compared in constant time) and pass CheckPassword.
func ConfirmPassword(first, second []byte) error {
	if err := CheckPassword(first); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(first, second) != 1 {
		return badInput(ErrPasswordMismatch)
	}
	return nil
}

// ReadPassword reads one password line from r (as for --stdin): the bytes
// up to the first newline, without a trailing carriage return. It reads
// one byte at a time so that nothing after the line is consumed, and
// stops after MaxPasswordLen bytes. A line that is empty, or r at end of
// input before any byte, is an error. The caller should clear() the
// returned slice when done; on error nothing is returned.
func ReadPassword(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, MaxPasswordLen) // never reallocated: no stray copies
	var one [1]byte
	sawAny := false
	for {
		n, err := r.Read(one[:])
		if n == 1 {
			sawAny = true
			if one[0] == '\n' {
				break
			}
			if len(buf) == MaxPasswordLen {
				clear(buf)
				return nil, badInput(ErrPasswordTooLong)
			}
			buf = append(buf, one[0])
			continue
		}
		if errors.Is(err, io.EOF) {
			if !sawAny {
				return nil, badInput(ErrNoPassword)
			}
			break
		}
		if err != nil {
			clear(buf)
			return nil, fmt.Errorf("read password: %w", err)
		}
	}
	clear(one[:])
	buf = bytes.TrimSuffix(buf, []byte{'\r'})
	if err := CheckPassword(buf); err != nil {
		clear(buf[:cap(buf)])
		return nil, err
	}
	return buf, nil
}
