package buildroot

import (
	"os"
	"strings"

	"github.com/ipabr/ipabr/internal/project"
)

// sedUnsafe are the characters utils/config cannot write into a string
// value: it substitutes with sed "s:BEFORE:AFTER:", where ':' ends the
// expression, '&' inserts the matched text and '\' escapes (its own \" for a
// quote included).
const sedUnsafe = ":&\\\""

// needsDirectWrite reports whether a string edit must bypass utils/config.
func (e Edit) needsDirectWrite() bool {
	return !e.Raw && e.Value != "y" && e.Value != "n" && strings.ContainsAny(e.Value, sedUnsafe)
}

// QuoteString is a kconfig string value as kconfig writes it
// (conf_write_string): in double quotes, with '\' and '"' escaped.
func QuoteString(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// writeStringLines sets string symbols in the kconfig file at path
// directly: each symbol's lines ("SYM=..." or "# SYM is not set") become
// one SYM="value" line where the first was, or it is appended. Other lines
// are kept byte for byte. olddefconfig validates the result afterwards.
func writeStringLines(path string, edits []Edit) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, e := range edits {
		want[e.Symbol] = e.Symbol + "=" + QuoteString(e.Value)
	}
	done := map[string]bool{}
	var out []string
	text := strings.TrimSuffix(string(data), "\n")
	if text != "" {
		for _, line := range strings.Split(text, "\n") {
			if sym := lineSymbol(line); sym != "" {
				if repl, ok := want[sym]; ok {
					if !done[sym] {
						out = append(out, repl)
						done[sym] = true
					}
					continue
				}
			}
			out = append(out, line)
		}
	}
	for _, e := range edits {
		if !done[e.Symbol] {
			out = append(out, want[e.Symbol])
			done[e.Symbol] = true
		}
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	return project.WriteFileAtomic(path, []byte(strings.Join(out, "\n")+"\n"), mode)
}
