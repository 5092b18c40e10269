package config

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ipabr/ipabr/internal/errs"
)

// MaxFileSize bounds a configuration file: it holds a few settings, and
// a wrong --config (a log, an image, /dev/zero) must not be read whole.
const MaxFileSize = 1 << 20

// readFile reads a configuration file of at most MaxFileSize bytes. A file
// that is not a regular one (a FIFO, a process substitution's pipe) can
// block in open or read; cancelling ctx returns at once (the read is left
// to the exiting process).
func readFile(ctx context.Context, path string) ([]byte, error) {
	if st, err := os.Stat(path); ctx == nil || err != nil || st.Mode().IsRegular() {
		return readBounded(path)
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := readBounded(path)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, errs.As(errs.Interrupted, fmt.Errorf("interrupted while reading %s: %w", path, ctx.Err()))
	}
}

// readBounded reads path, refusing more than MaxFileSize bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, errs.BadInputf("configuration file %s is a directory; give the path of a YAML file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, errs.BadInputf("reading %s: %v", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, errs.BadInputf("configuration file %s is larger than 1 MiB: it is not an ipabr.yaml (a few key: value lines); check --config or IPABR_CONFIG", path)
	}
	return data, nil
}

// validateYAML rejects malformed files, more than one document, tabs in
// indentation, duplicate and unknown keys, a value where a section belongs
// and bad values, naming the line and the fix; it returns the line of each
// key.
func validateYAML(path string, data []byte) (map[string]int, error) {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") {
			return nil, errs.BadInputf("%s:%d: a tab in the indentation; YAML indents with spaces only: replace the tab with spaces", path, i+1)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, errs.BadInputf("%s is not valid YAML: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, errs.BadInputf("%s:%d: a second YAML document starts here; the file is one mapping of keys: remove this --- line and merge the keys into one document", path, next.Line)
	case err != io.EOF:
		return nil, errs.BadInputf("%s is not valid YAML: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	lines := map[string]int{}
	if len(doc.Content) == 0 {
		return lines, nil // empty file
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, errs.BadInputf("%s:%d: the file must be a mapping of keys to values", path, top.Line)
	}
	return lines, validateMapping(path, "", top, lines)
}

func validateMapping(path, prefix string, m *yaml.Node, lines map[string]int) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, val := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if line, dup := seen[k.Value]; dup {
			return errs.BadInputf("%s:%d: %q is already set at line %d", path, k.Line, key, line)
		}
		seen[k.Value] = k.Line
		if _, isKey := Lookup(key); !isKey && isSection(key) && val.Kind != yaml.MappingNode {
			return sectionValueError(path, k.Line, key, val)
		}
		if val.Kind == yaml.MappingNode {
			if !isSection(key) {
				return errs.BadInputf("%s:%d: unknown section %q (known keys: %s)", path, k.Line, key, knownKeys())
			}
			if err := validateMapping(path, key+".", val, lines); err != nil {
				return err
			}
			continue
		}
		st, ok := Lookup(key)
		if !ok {
			return errs.BadInputf("%s:%d: unknown key %q (known keys: %s)", path, k.Line, key, knownKeys())
		}
		if val.Kind != yaml.ScalarNode {
			return errs.BadInputf("%s:%d: key %q needs a single value", path, k.Line, key)
		}
		if st.Check != nil {
			if err := st.Check(val.Value); err != nil {
				return keyError(errs.FileKey(path, k.Line, key), err)
			}
		}
		lines[key] = k.Line
	}
	return nil
}

// sectionValueError refuses a value given to a section, such as
// "buildroot: https://…", and shows how to write it.
func sectionValueError(path string, line int, section string, val *yaml.Node) error {
	var keys []string
	for _, s := range Table {
		if k, ok := strings.CutPrefix(s.Key, section+"."); ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	example := keys[0]
	for _, k := range keys {
		if strings.HasSuffix(k, "url") && strings.Contains(val.Value, "://") {
			example = k
		}
	}
	shown := val.Value
	if val.Kind != yaml.ScalarNode || shown == "" {
		shown = "…"
	}
	return errs.BadInputf("%s:%d: %q is a section (keys %s), not a value: write %q on its own line and the key indented below it, as in \"%s:\\n  %s: %s\"",
		path, line, section, strings.Join(keys, ", "), section+":", section, example, shown)
}

func isSection(name string) bool {
	for _, s := range Table {
		if strings.HasPrefix(s.Key, name+".") {
			return true
		}
	}
	return false
}

func knownKeys() string {
	var keys []string
	for _, s := range Table {
		keys = append(keys, s.Key)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
