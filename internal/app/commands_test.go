package app

import (
	"context"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/term"
)

// testRoot is the root command for args in a test's environment.
func testRoot(t *testing.T, args []string) (*cobra.Command, *cmdutil.Factory) {
	io, _, _, _ := term.Test()
	root, f, _ := newRoot(context.Background(), Env{IO: io, Runner: processtest.New(t), Cwd: "/"}, args)
	return root, f
}

// TestSubcommandNames: the names the table dispatches on are the names of
// the commands it builds.
func TestSubcommandNames(t *testing.T) {
	_, f := testRoot(t, nil)
	for _, sc := range subcommands() {
		if got := sc.build(f).Name(); got != sc.name {
			t.Errorf("the table calls %q what is built as %q", sc.name, got)
		}
	}
}

// TestOnlyTheNamedSubcommandIsBuilt: a command line naming a subcommand
// builds that one (past global flags and their values); anything else
// builds them all, for help, completion and suggestions.
func TestOnlyTheNamedSubcommandIsBuilt(t *testing.T) {
	all := len(subcommands())
	for _, c := range []struct {
		args []string
		want []string // nil: all
	}{
		{[]string{"version"}, []string{"version"}},
		{[]string{"--repo", "/p", "-q", "init", "--url", "u"}, []string{"init"}},
		{[]string{"-O", "version", "status", "--json"}, []string{"status"}},
		{[]string{"--color=never", "ipa", "lock", "--release", "2026.1"}, []string{"ipa"}},
		{[]string{"linux-menuconfig"}, []string{"linux-menuconfig"}},
		{nil, nil},
		{[]string{"--help"}, nil},
		{[]string{"help", "init"}, nil},
		{[]string{"help", "environment"}, nil},
		{[]string{"completion", "bash"}, nil},
		{[]string{"--repo", "init"}, nil},
		{[]string{"nosuch"}, nil},
	} {
		var got []string
		root, _ := testRoot(t, c.args)
		for _, cmd := range root.Commands() {
			got = append(got, cmd.Name())
		}
		switch {
		case c.want == nil && len(got) != all:
			t.Errorf("%q built %q, want all %d subcommands", c.args, got, all)
		case c.want != nil && !slices.Equal(got, c.want):
			t.Errorf("%q built %q, want %q", c.args, got, c.want)
		}
	}
}
