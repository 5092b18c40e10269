// Package cmdutil is the wiring every command shares: the Factory that
// hands out streams, settings and the process runner, and the exit codes.
package cmdutil

import "github.com/ipabr/ipabr/internal/errs"

// Exit codes.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// ExitCode is the one mapping from an error's kind to ipabr's exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	switch errs.KindOf(err) {
	case errs.BadInput, errs.NotConfigured:
		return ExitUsage
	case errs.Interrupted:
		return ExitInterrupted
	}
	return ExitFailure
}
