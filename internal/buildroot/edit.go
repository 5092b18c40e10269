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
	args := []string{"--file", filepath.Join(m.Output, ".config"), "--keep-case"}
	for _, e := range edits {
		if !strings.HasPrefix(e.Symbol, "BR2_") || strings.ContainsAny(e.Symbol, " \t\n=") {
			return fmt.Errorf("not a Buildroot symbol: %q", e.Symbol)
		}
		if strings.ContainsAny(e.Value, "\n:") && !e.Raw {
			return fmt.Errorf("%s: value contains a newline or ':' which utils/config cannot write", e.Symbol)
		}
		args = append(args, e.args()...)
	}
	if _, err := process.Output(ctx, r, process.Cmd{Name: filepath.Join(m.Buildroot, "utils", "config"), Args: args}); err != nil {
		return err
	}
	_, err := process.Output(ctx, r, m.QuietCmd("olddefconfig"))
	return err
}
