package testenv

import "testing"

// Skip skips t with one visible line, like Env and Program, for a
// prerequisite that is neither a variable nor a program on PATH.
func Skip(t testing.TB, tier, reason string) {
	t.Helper()
	announce(tier, reason)
	t.Skipf("SKIP %s: %s", tier, reason)
}
