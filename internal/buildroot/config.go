package buildroot

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
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
		if strings.HasPrefix(line, "# ") && strings.HasSuffix(line, " is not set") {
			c.set(strings.TrimSuffix(strings.TrimPrefix(line, "# "), " is not set"), "n", line)
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		if len(v) >= 2 && v[0] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		}
		c.set(k, v, line)
	}
	return c, sc.Err()
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
// fragment: a symbol the fragment already sets gets its new line in place,
// others are appended. Comments and other lines are kept.
func MergeFragment(fragment []byte, baseline, current *Config) []byte {
	changed := Changed(baseline, current)
	if len(changed) == 0 {
		return fragment
	}
	want := map[string]string{}
	for _, k := range changed {
		want[k] = current.Lines[k]
	}
	var out []string
	text := strings.TrimRight(string(fragment), "\n")
	if text != "" {
		for _, line := range strings.Split(text, "\n") {
			if sym := lineSymbol(line); sym != "" {
				if repl, ok := want[sym]; ok {
					line = repl
					delete(want, sym)
				}
			}
			out = append(out, line)
		}
	}
	var added []string
	for _, k := range changed {
		if line, ok := want[k]; ok {
			added = append(added, line)
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
	if strings.HasPrefix(line, "# ") && strings.HasSuffix(line, " is not set") {
		return strings.TrimSuffix(strings.TrimPrefix(line, "# "), " is not set")
	}
	if k, _, ok := strings.Cut(line, "="); ok && line[0] != '#' && !strings.ContainsAny(k, " \t") {
		return k
	}
	return ""
}
