// Package image customises what goes into the image without plaintext
// secrets: SHA-512 crypt password hashes for the root password and users,
// SSH authorized keys and the sshd drop-in in the user's overlay, the
// Buildroot users table (makeusers syntax) and the overlay check.
//
// Like every package below cmd, it never prints: functions return values
// and errors. Errors caused by the caller's input (a bad password, key file,
// user name, table line or overlay) are of the kind errs.BadInput, which
// the command line maps to the usage exit code; no error ever contains a
// password or private key material.
//
// Two facts of Buildroot shape the API:
//
//   - Buildroot copies overlays with rsync --chmod=u=rwX,go=rX (see
//     SYSTEM_RSYNC in buildroot/system/system.mk). Modes set in overlay/
//     protect the files on the build host only: in the image every copied
//     file is 0644 (0755 if executable) and every directory 0755, including
//     /root and /root/.ssh. sshd accepts such authorized_keys files (it
//     refuses group- or world-writable ones), but it refuses private host
//     keys that others can read, so a board post-build or post-fakeroot
//     script has to restrict those in the target.
//   - The same rsync skips .git, .svn, .hg, .bzr and CVS, files called
//     .empty and anything whose name ends in ~ (RSYNC_VCS_EXCLUSIONS in
//     buildroot/Makefile), at any depth and whatever their type.
package image

import (
	"fmt"

	"github.com/ipabr/ipabr/internal/errs"
)

// inputError marks err as bad input while keeping its message and chain.
type inputError struct{ err error }

func (e *inputError) Error() string        { return e.err.Error() }
func (e *inputError) Unwrap() error        { return e.err }
func (e *inputError) ErrorKind() errs.Kind { return errs.BadInput }

// badInput wraps err as bad input.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &inputError{err: err}
}

// badInputf formats a bad-input error; %w verbs wrap as with fmt.Errorf.
func badInputf(format string, a ...any) error {
	return badInput(fmt.Errorf(format, a...))
}
