package buildroot

import (
	"bufio"
	"regexp"
	"strings"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// Defconfig is one entry of `make list-defconfigs`.
type Defconfig struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	External    bool   `json:"external"`
	Tree        string `json:"tree,omitempty"` // the external tree's description
}

var (
	defconfigLine = lazyregexp.New(`^\s+(\S+_defconfig)\s+- (.*)$`)
	externalHead  = lazyregexp.New(`^External configs in "(.*)":$`)
)

// ParseDefconfigs reads list-defconfigs output: "Built-in configs:" then
// "External configs in "DESC":" sections of "  name - description" lines.
func ParseDefconfigs(out string) []Defconfig {
	var list []Defconfig
	external, tree := false, ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		if strings.HasPrefix(line, "Built-in configs:") {
			external, tree = false, ""
			continue
		}
		if m := externalHead.FindStringSubmatch(line); m != nil {
			external, tree = true, m[1]
			continue
		}
		if m := defconfigLine.FindStringSubmatch(line); m != nil {
			list = append(list, Defconfig{Name: m[1], Description: strings.TrimSpace(m[2]), External: external, Tree: tree})
		}
	}
	return list
}

// ValidDefconfigName accepts a bare defconfig name: no paths, no traversal.
func ValidDefconfigName(name string) bool {
	return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*_defconfig$`).MatchString(name) && !strings.Contains(name, "..")
}

var packageName = lazyregexp.New(`^[a-z0-9][a-z0-9._+-]*$`)

// ValidPackageName accepts Buildroot package names (rebuild targets).
func ValidPackageName(name string) bool { return packageName.MatchString(name) }
