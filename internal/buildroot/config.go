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
}

// ParseConfig reads kconfig syntax. Lines it does not understand are
// ignored, as kconfig itself does with a warning.
func ParseConfig(r io.Reader) (*Config, error) {
	c := &Config{Values: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "# ") && strings.HasSuffix(line, " is not set") {
			c.set(strings.TrimSuffix(strings.TrimPrefix(line, "# "), " is not set"), "n")
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
		c.set(k, v)
	}
	return c, sc.Err()
}

func (c *Config) set(k, v string) {
	if _, seen := c.Values[k]; !seen {
		c.Order = append(c.Order, k)
	}
	c.Values[k] = v
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
