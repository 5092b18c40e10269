package app

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/term"
)

// CommandTree is ipabr's whole command tree, every subcommand and the
// completion command included, with test streams: what the reference
// (internal/app/reference) documents. It is never executed.
func CommandTree() *cobra.Command {
	ios, _, _, _ := term.Test()
	root, _, _ := newRoot(context.Background(), Env{IO: ios, Getenv: func(string) string { return "" }}, nil)
	root.InitDefaultCompletionCmd()
	return root
}
