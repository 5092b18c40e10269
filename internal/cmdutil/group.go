package cmdutil

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/errs"
)

// UsageError is a command line that does not fit the command it names (an
// unknown subcommand or flag, a wrong number of arguments): bad input, and
// the error output adds Cmd's usage line and where its help is.
type UsageError struct {
	Cmd *cobra.Command // whose usage to show; nil: the command that failed
	Err error
}

func (e *UsageError) Error() string        { return e.Err.Error() }
func (e *UsageError) Unwrap() error        { return e.Err }
func (e *UsageError) ErrorKind() errs.Kind { return errs.BadInput }

// UsageOf is the usage error in err's chain, if any.
func UsageOf(err error) (*UsageError, bool) {
	var u *UsageError
	ok := errors.As(err, &u)
	return u, ok
}

// GroupRunE is the RunE of a command group (ipabr ca, ssh-key, user, ...):
// help for the bare group, and an unknown subcommand refused with exit 2,
// where cobra would show help and exit 0.
func GroupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UnknownCommand(cmd, args[0])
	}
	return cmd.Help()
}

// UnknownCommand is the usage error for name, which is not a subcommand of
// cmd, with the subcommands whose names are close to it.
func UnknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", strings.Join(s, `" or "`))
	}
	return &UsageError{Cmd: cmd, Err: errors.New(msg)}
}

// CountedArgs wraps a command's argument validator (cobra.ExactArgs and
// friends) so that a wrong count is a usage error saying which arguments
// are missing or extra; the usage line then says what the command takes.
func CountedArgs(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if validate(cmd, args) == nil {
			return nil
		}
		// The most arguments that fit: the rest are extra.
		for n := len(args) - 1; n >= 0; n-- {
			if validate(cmd, args[:n]) == nil {
				takes := "at most " + counted(n)
				if n == 0 {
					takes = counted(0)
				}
				return &UsageError{Err: fmt.Errorf("%q takes %s; extra: %s", cmd.CommandPath(), takes, quoteAll(args[n:]))}
			}
		}
		// The fewest that fit.
		need := len(args) + 1
		for ; need < len(args)+16; need++ {
			if validate(cmd, make([]string, need)) == nil {
				break
			}
		}
		needs := counted(need)
		if validate(cmd, make([]string, need+1)) == nil {
			needs = "at least " + needs
		}
		return &UsageError{Err: fmt.Errorf("%q needs %s, got %d", cmd.CommandPath(), needs, len(args))}
	}
}

func counted(n int) string {
	switch n {
	case 0:
		return "no arguments"
	case 1:
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", n)
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(q, " ")
}

// Count is the value of a flag that counts something (--jobs): a whole
// number of 1 or more, checked while the flags are parsed, before the
// command does anything. Zero is the unset flag.
type Count int

func (c *Count) String() string { return strconv.Itoa(int(*c)) }

// Type names the value in the flag's help.
func (c *Count) Type() string { return "N" }

// Set parses s.
func (c *Count) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return errors.New("give a whole number of 1 or more")
	}
	*c = Count(n)
	return nil
}
