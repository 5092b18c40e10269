package buildroot

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/process"
)

// Edit is one change to an output's .config.
type Edit struct {
	Symbol string
	// Value: "y" enables, "n" disables, anything else is a string (or, with
	// Raw, a number/hex) value.
	Value string
	Raw   bool
}

// Set makes a string edit.
func Set(sym, value string) Edit { return Edit{Symbol: sym, Value: value} }

// Enable and Disable make bool edits.
func Enable(sym string) Edit  { return Edit{Symbol: sym, Value: "y"} }
func Disable(sym string) Edit { return Edit{Symbol: sym, Value: "n"} }

func (e Edit) args() []string {
	switch {
	case e.Value == "y" && !e.Raw:
		return []string{"--enable", e.Symbol}
	case e.Value == "n" && !e.Raw:
		return []string{"--disable", e.Symbol}
	case e.Raw:
		return []string{"--set-val", e.Symbol, e.Value}
	}
	return []string{"--set-str", e.Symbol, e.Value}
}

// EditConfig applies edits to the output's .config with Buildroot's own
// utils/config, then runs olddefconfig so kconfig validates them and fixes
// dependencies. Symbols keep their case (--keep-case).
func (m Make) EditConfig(ctx context.Context, r process.Runner, edits ...Edit) error {
	if len(edits) == 0 {
		return nil
	}
	cfgPath := filepath.Join(m.Output, ".config")
	args := []string{"--file", cfgPath, "--keep-case"}
	var direct []Edit // string values utils/config would mangle (editlines.go)
	for _, e := range edits {
		if !strings.HasPrefix(e.Symbol, "BR2_") || strings.ContainsAny(e.Symbol, " \t\n=") {
			return fmt.Errorf("not a Buildroot symbol: %q", e.Symbol)
		}
		if strings.ContainsAny(e.Value, "\n\r") {
			return fmt.Errorf("%s: a kconfig value cannot contain a newline", e.Symbol)
		}
		if e.Raw && strings.ContainsAny(e.Value, sedUnsafe) {
			return fmt.Errorf("%s: a number or hex value cannot contain %q", e.Symbol, e.Value)
		}
		if e.needsDirectWrite() {
			direct = append(direct, e)
			continue
		}
		args = append(args, e.args()...)
	}
	if len(direct) > 0 {
		if err := writeStringLines(cfgPath, direct); err != nil {
			return err
		}
	}
	if len(direct) < len(edits) {
		if _, err := process.Output(ctx, r, process.Cmd{Name: filepath.Join(m.Buildroot, "utils", "config"), Args: args}); err != nil {
			return err
		}
	}
	_, err := process.Output(ctx, r, m.QuietCmd("olddefconfig"))
	return err
}
