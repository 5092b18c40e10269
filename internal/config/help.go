package config

import (
	"fmt"
	"strings"
)

const layering = `Configuration is layered, highest first: flags, IPABR_* environment, the
BR2_* environment of the original ipa-buildroot README, ipabr.yaml at the
project root (or --config FILE), defaults. Relative paths in ipabr.yaml are
relative to the project root; in flags and the environment, to the working
directory. ipabr.yaml is one YAML mapping of at most 1 MiB, indented with
spaces; a second document (---), a tab in the indentation, a value where a
section belongs (buildroot: URL instead of buildroot: / url: URL), unknown
keys and malformed files are errors naming the line (exit 2).
`

const example = `  output: output
  defconfig: openstack_ipa_defconfig
  buildroot:
    url: https://mirror.example.com/buildroot.git
`

// EnvironmentHelp is the text of 'ipabr help environment'.
func EnvironmentHelp() string {
	var b strings.Builder
	b.WriteString(layering + "\nipabr.yaml keys:\n")
	for _, s := range Table {
		fmt.Fprintf(&b, "  %-16s %s\n  %-16s env: %s; default: %s\n", s.Key, s.Help, "", strings.Join(s.Envs, ", "), s.shown())
		if s.Flag != "" {
			fmt.Fprintf(&b, "  %-16s flag: --%s\n", "", s.Flag)
		}
	}
	b.WriteString("\nOther environment variables:\n")
	for _, e := range OtherEnv {
		fmt.Fprintf(&b, "  %s\n      %s\n", e.Names, e.Help)
	}
	b.WriteString("\nExample ipabr.yaml:\n" + example)
	return b.String()
}

// Markdown is the reference page of the keys and variables.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Configuration keys and environment variables\n\n")
	b.WriteString("Generated from the settings table (internal/config/table.go) by `make docs`; ")
	b.WriteString("`ipabr help environment` shows the same.\n\n")
	b.WriteString(strings.ReplaceAll(layering, "\n", " ") + "\n\n")
	b.WriteString("| key (ipabr.yaml) | environment | flag | default | meaning |\n| --- | --- | --- | --- | --- |\n")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, s := range Table {
		flag := ""
		if s.Flag != "" {
			flag = "`--" + s.Flag + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", s.Key, "`"+strings.Join(s.Envs, "`, `")+"`", flag, cell(s.shown()), cell(s.Help))
	}
	b.WriteString("\n| other variable | meaning |\n| --- | --- |\n")
	for _, e := range OtherEnv {
		fmt.Fprintf(&b, "| `%s` | %s |\n", strings.ReplaceAll(e.Names, ", ", "`, `"), cell(e.Help))
	}
	b.WriteString("\nExample ipabr.yaml:\n\n```yaml\n" + strings.ReplaceAll(example, "\n  ", "\n")[2:] + "```\n")
	return b.String()
}
