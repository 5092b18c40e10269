// Package errs is ipabr's one error scheme. Libraries return errors of a
// Kind (bad input, not configured, a failed step, interrupted), and a bad
// value's error names where the value came from (its Origin: a flag, an
// environment variable, a line of ipabr.yaml, a symbol of .config). One
// place, cmdutil.ExitCode, turns kinds into exit codes; nothing reads an
// error's text to decide what it is.
package errs

import (
	"context"
	"errors"
	"fmt"
)

// Kind is what went wrong, as far as the caller's exit code is concerned.
type Kind int

const (
	// Failed is a step that failed (a make, a download, a write): exit 1.
	Failed Kind = iota
	// BadInput is a value the user gave that cannot be used: exit 2.
	BadInput
	// NotConfigured is a project or output not ready for the command
	// (run init or configure first): exit 2.
	NotConfigured
	// Interrupted is a cancelled run (Ctrl-C, SIGTERM): exit 130.
	Interrupted
)

func (k Kind) String() string {
	switch k {
	case BadInput:
		return "bad input"
	case NotConfigured:
		return "not configured"
	case Interrupted:
		return "interrupted"
	}
	return "failed"
}

// Origin is where a value came from. The zero Origin is unknown.
type Origin struct {
	Flag   string // a command-line flag, with its dashes: --extra
	Env    string // an environment variable: IPABR_COLOR
	File   string // ipabr.yaml or an output's .config, as shown to the user
	Line   int    // the line in File, when known
	Key    string // the ipabr.yaml key or the .config symbol
	Arg    string // a positional argument's name: SERIES
	Custom string // anything else, worded by the caller
}

// Flag is a value given with a command-line flag.
func Flag(name string) Origin { return Origin{Flag: name} }

// Env is a value from an environment variable.
func Env(name string) Origin { return Origin{Env: name} }

// FileKey is a value from line of a settings file, under key.
func FileKey(file string, line int, key string) Origin {
	return Origin{File: file, Line: line, Key: key}
}

// Symbol is a value of a kconfig symbol in a .config file.
func Symbol(file, symbol string) Origin { return Origin{File: file, Key: symbol} }

// Arg is a positional argument.
func Arg(name string) Origin { return Origin{Arg: name} }

// IsZero reports whether the origin is unknown.
func (o Origin) IsZero() bool { return o == Origin{} }

func (o Origin) String() string {
	switch {
	case o.Flag != "":
		return o.Flag
	case o.Env != "":
		return o.Env
	case o.File != "" && o.Line > 0:
		return fmt.Sprintf("%s:%d: %s", o.File, o.Line, o.Key)
	case o.File != "" && o.Key != "":
		return fmt.Sprintf("%s in %s", o.Key, o.File)
	case o.File != "":
		return o.File
	case o.Key != "":
		return o.Key
	case o.Arg != "":
		return o.Arg
	}
	return o.Custom
}

// Error is an error of a kind, with the origin of the value it is about
// and, optionally, detail that only --verbose shows (a command line).
type Error struct {
	Kind   Kind
	Origin Origin
	Err    error
	Detail string
}

func (e *Error) Error() string {
	if e.Origin.IsZero() {
		return e.Err.Error()
	}
	return e.Origin.String() + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorKind is the error's kind.
func (e *Error) ErrorKind() Kind { return e.Kind }

// Kinded is implemented by library error types that know their kind.
type Kinded interface {
	error
	ErrorKind() Kind
}

func newf(k Kind, format string, a ...any) error {
	return &Error{Kind: k, Err: fmt.Errorf(format, a...)}
}

// BadInputf is bad input; %w wraps as with fmt.Errorf.
func BadInputf(format string, a ...any) error { return newf(BadInput, format, a...) }

// Failedf is a failed step.
func Failedf(format string, a ...any) error { return newf(Failed, format, a...) }

// NotConfiguredf is a project or output that is not ready yet.
func NotConfiguredf(format string, a ...any) error { return newf(NotConfigured, format, a...) }

// As gives err the kind k, keeping its message and chain; nil stays nil.
func As(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// At marks err as bad input that came from origin. An error that already
// names its origin keeps it.
func At(origin Origin, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && !e.Origin.IsZero() {
		return err
	}
	return &Error{Kind: BadInput, Origin: origin, Err: err}
}

// WithDetail attaches text shown only with --verbose, keeping err's kind.
func WithDetail(err error, detail string) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindOf(err), Err: err, Detail: detail}
}

// Detailed is implemented by library error types with verbose-only text.
type Detailed interface {
	error
	ErrorDetail() string
}

// DetailOf is the verbose-only text attached to err, if any: the
// outermost in its chain.
func DetailOf(err error) string {
	for cur := err; cur != nil; cur = errors.Unwrap(cur) {
		if e, ok := cur.(*Error); ok && e.Detail != "" {
			return e.Detail
		}
		if d, ok := cur.(Detailed); ok && d.ErrorDetail() != "" {
			return d.ErrorDetail()
		}
	}
	return ""
}

// KindOf is the kind of err: Interrupted when a cancellation is anywhere in
// its chain, else the outermost kind it carries, else Failed.
func KindOf(err error) Kind {
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	for cur := err; cur != nil; cur = errors.Unwrap(cur) {
		if k, ok := cur.(Kinded); ok {
			return k.ErrorKind()
		}
	}
	var k Kinded
	if errors.As(err, &k) { // joined errors
		return k.ErrorKind()
	}
	return Failed
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
