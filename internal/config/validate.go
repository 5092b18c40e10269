package config

import (
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ipabr/ipabr/internal/errs"
)

// validateYAML rejects malformed files, duplicate and unknown keys and bad
// values, naming the line; it returns the line of each key.
func validateYAML(path string, data []byte) (map[string]int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
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
