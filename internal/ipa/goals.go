package ipa

import "strings"

// BuildGoals are the make goals that build the agent package, as patterns
// of make's filter function (% matches any text). Without a usable lock
// the package's make code stops them at once, and ipabr build makes the
// lock before them; other goals only read metadata (show-info,
// savedefconfig, *-show-depends, printvars). The package's make code lists
// the same goals as IRONIC_PYTHON_AGENT_BUILD_GOALS (rules_test.go checks
// that they agree).
var BuildGoals = []string{"all", "world", "source", Package, "target-finalize", "rootfs-%",
	Package + "-source", Package + "-extract", Package + "-patch", Package + "-configure", Package + "-build",
	Package + "-install", Package + "-install-target", Package + "-install-images",
	Package + "-rebuild", Package + "-reinstall", Package + "-reconfigure"}

// NeedsLock reports whether make goals build the agent package; no goals
// means make's default goal, all.
func NeedsLock(goals []string) bool {
	if len(goals) == 0 {
		return true
	}
	for _, g := range goals {
		for _, pattern := range BuildGoals {
			if matchGoal(pattern, g) {
				return true
			}
		}
	}
	return false
}

// matchGoal is make's filter for one pattern with at most one %.
func matchGoal(pattern, goal string) bool {
	before, after, ok := strings.Cut(pattern, "%")
	if !ok {
		return pattern == goal
	}
	return len(goal) >= len(before)+len(after) && strings.HasPrefix(goal, before) && strings.HasSuffix(goal, after)
}
