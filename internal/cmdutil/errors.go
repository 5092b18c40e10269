// Package cmdutil holds what every command shares: the Factory that hands
// out streams, settings and the process runner, and the exit-code errors.
package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes (ARCHITECTURE.md §3).
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// ExitError carries an exit code and optional detail shown only with -v.
type ExitError struct {
	Code   int
	Err    error
	Detail string
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is bad input: exit 2.
func UsageError(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// Failure is a failed operation: exit 1.
func Failure(format string, a ...any) error {
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf(format, a...)}
}

// AsUsage marks err as bad input (exit 2), keeping its message.
func AsUsage(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// WithDetail attaches text shown only with --verbose.
func WithDetail(err error, detail string) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		return &ExitError{Code: ee.Code, Err: ee.Err, Detail: detail}
	}
	return &ExitError{Code: ExitFailure, Err: err, Detail: detail}
}

// Code is the exit code for err: its own, or 1.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}

// Detail is the verbose-only text attached to err, if any.
func Detail(err error) string {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Detail
	}
	return ""
}

// Classify maps a library error to an exit code: errors matching badInput
// are bad input (2), an ExitError keeps its code, anything else fails (1).
func Classify(err, badInput error) error {
	var ee *ExitError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badInput):
		return AsUsage(err)
	case errors.As(err, &ee):
		return err
	}
	return &ExitError{Code: ExitFailure, Err: err}
}
