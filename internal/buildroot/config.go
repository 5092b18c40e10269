package buildroot

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Config is a parsed kconfig file (.config or defconfig): symbol → value,
// with strings unquoted and "# X is not set" as "n".
type Config struct {
	Values map[string]string
	Order  []string
	// Lines holds each symbol's line as written ("# X is not set" for n).
	Lines map[string]string
}

// ParseConfig reads kconfig syntax. Lines it does not understand are
// ignored, as kconfig itself does with a warning.
func ParseConfig(r io.Reader) (*Config, error) {
	c := &Config{Values: map[string]string{}, Lines: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if sym, ok := notSetSymbol(line); ok {
			c.set(sym, "n", line)
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validSymbol(k) {
			continue
		}
		if len(v) > 0 && v[0] == '"' {
			v = unquoteKconfig(v)
		}
		c.set(k, v, line)
	}
	return c, sc.Err()
}

// validSymbol reports whether s is a kconfig symbol name ([A-Za-z0-9_-]+).
// Lines naming anything else are ignored, as kconfig ignores them.
func validSymbol(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// notSetSymbol parses "# SYMBOL is not set".
func notSetSymbol(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "# ")
	if !ok {
		return "", false
	}
	sym, ok := strings.CutSuffix(rest, " is not set")
	if !ok || !validSymbol(sym) {
		return "", false
	}
	return sym, true
}

// unquoteKconfig reads a string value the way kconfig does
// (conf_set_sym_val): after the opening quote a backslash takes the next
// byte literally, and the value ends at the first unescaped quote (or at the
// end of the line when there is none). Bytes are kept as they are.
func unquoteKconfig(v string) string {
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '"':
			return b.String()
		case '\\':
			if i+1 < len(v) {
				i++
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func (c *Config) set(k, v, line string) {
	if _, seen := c.Values[k]; !seen {
		c.Order = append(c.Order, k)
	}
	c.Values[k] = v
	c.Lines[k] = line
}

// ReadConfigFile parses the kconfig file at path.
func ReadConfigFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseConfig(f)
}

// Enabled reports whether a bool/tristate symbol is y or m.
func (c *Config) Enabled(sym string) bool {
	v := c.Values[sym]
	return v == "y" || v == "m"
}

// DefconfigName is the name (not path) of the defconfig the configuration
// was loaded from, which Buildroot records as BR2_DEFCONFIG.
func (c *Config) DefconfigName() string {
	return filepath.Base(c.Values["BR2_DEFCONFIG"])
}

// Changed lists the symbols whose value in current differs from baseline
// (new symbols included), in current's order.
func Changed(baseline, current *Config) []string {
	var syms []string
	for _, k := range current.Order {
		if v, ok := baseline.Values[k]; !ok || v != current.Values[k] {
			syms = append(syms, k)
		}
	}
	return syms
}

// MergeFragment applies the changes from baseline to current to a config
// fragment: a symbol the fragment already sets gets its new line in place
// (every line that sets it, since the last one wins), others are appended.
// Comments and other lines are kept.
func MergeFragment(fragment []byte, baseline, current *Config) []byte {
	changed := Changed(baseline, current)
	if len(changed) == 0 {
		return fragment
	}
	want := map[string]string{}
	for _, k := range changed {
		want[k] = current.Lines[k]
	}
	replaced := map[string]bool{}
	var out []string
	text := strings.TrimRight(string(fragment), "\n")
	if text != "" {
		for _, line := range strings.Split(text, "\n") {
			if sym := lineSymbol(line); sym != "" {
				if repl, ok := want[sym]; ok {
					line = repl
					replaced[sym] = true
				}
			}
			out = append(out, line)
		}
	}
	var added []string
	for _, k := range changed {
		if !replaced[k] {
			added = append(added, want[k])
		}
	}
	if len(added) > 0 {
		out = append(out, "", "# Added by ipabr save from linux-menuconfig changes")
		out = append(out, added...)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// lineSymbol is the symbol a kconfig line sets, or "".
func lineSymbol(line string) string {
	line = strings.TrimSpace(line)
	if sym, ok := notSetSymbol(line); ok {
		return sym
	}
	if k, _, ok := strings.Cut(line, "="); ok && validSymbol(k) {
		return k
	}
	return ""
}
