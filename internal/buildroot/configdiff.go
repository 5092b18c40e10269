package buildroot

import (
	"fmt"
	"slices"
	"strings"
)

// ConfigChange is one symbol of an output's .config that an edit changed.
// Old and New are its values as kconfig wrote them: y, n (for "# X is not
// set"), a number, or a string in double quotes; "" when it was absent.
type ConfigChange struct {
	Symbol   string
	Old, New string
}

// DiffConfig lists the symbols whose line differs between two configs: in
// after's order, then those only before has. A nil config is empty.
func DiffConfig(before, after *Config) []ConfigChange {
	empty := &Config{Values: map[string]string{}, Lines: map[string]string{}}
	if before == nil {
		before = empty
	}
	if after == nil {
		after = empty
	}
	var out []ConfigChange
	for _, k := range after.Order {
		if o, n := lineValue(before, k), lineValue(after, k); o != n {
			out = append(out, ConfigChange{Symbol: k, Old: o, New: n})
		}
	}
	for _, k := range before.Order {
		if _, ok := after.Lines[k]; !ok {
			out = append(out, ConfigChange{Symbol: k, Old: lineValue(before, k)})
		}
	}
	return out
}

// lineValue is the right-hand side of sym's line, "n" when it is not set.
func lineValue(c *Config, sym string) string {
	line, ok := c.Lines[sym]
	if !ok {
		return ""
	}
	if strings.HasPrefix(line, "#") {
		return "n"
	}
	_, v, _ := strings.Cut(line, "=")
	return v
}

// SecretSymbols hold secrets: their values are masked whenever ipabr shows
// a configuration change.
var SecretSymbols = []string{"BR2_TARGET_GENERIC_ROOT_PASSWD"}

// MaskSecrets is config text with the values of SecretSymbols masked as
// MaskConfigValue does, for showing a configuration file.
func MaskSecrets(config []byte) []byte {
	lines := strings.SplitAfter(string(config), "\n")
	for i, l := range lines {
		sym, v, ok := strings.Cut(strings.TrimSuffix(l, "\n"), "=")
		if ok && slices.Contains(SecretSymbols, sym) {
			lines[i] = sym + "=" + MaskConfigValue(sym, v) + l[len(strings.TrimSuffix(l, "\n")):]
		}
	}
	return []byte(strings.Join(lines, ""))
}

// MaskConfigValue is v as a change may show it: "(unset)" for an absent
// symbol and, for a SecretSymbols entry, only the kind of secret, e.g.
// "$6$…(hash)" for a SHA-512 crypt hash (Buildroot's doubled "$$6$$" too)
// or "…(plain text)" for a password Buildroot would hash itself.
func MaskConfigValue(sym, v string) string {
	if v == "" {
		return "(unset)"
	}
	secret := false
	for _, s := range SecretSymbols {
		secret = secret || s == sym
	}
	if !secret {
		return v
	}
	u := strings.ReplaceAll(strings.Trim(v, `"`), "$$", "$")
	switch {
	case u == "":
		return `""`
	case strings.HasPrefix(u, "$1$"), strings.HasPrefix(u, "$5$"), strings.HasPrefix(u, "$6$"):
		return u[:3] + "…(hash)"
	}
	return "…(plain text)"
}

// FormatChanges is one "SYMBOL  old → new" line per change under a
// heading naming the file, secrets masked; "FILE: no change" when there is
// none.
func FormatChanges(file string, changes []ConfigChange) string {
	if len(changes) == 0 {
		return file + ": no change\n"
	}
	width := 0
	for _, c := range changes {
		width = max(width, len(c.Symbol))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", file)
	for _, c := range changes {
		fmt.Fprintf(&b, "  %-*s  %s → %s\n", width, c.Symbol, MaskConfigValue(c.Symbol, c.Old), MaskConfigValue(c.Symbol, c.New))
	}
	return b.String()
}
