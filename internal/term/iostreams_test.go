package term

import (
	"bytes"
	"testing"
)

func TestColorEnabled(t *testing.T) {
	cases := []struct {
		name      string
		mode      string
		stderrTTY bool
		noColor   bool
		want      bool
	}{
		{"auto on terminal", ColorAuto, true, false, true},
		{"auto off terminal", ColorAuto, false, false, false},
		{"always off terminal", ColorAlways, false, false, true},
		{"never on terminal", ColorNever, true, false, false},
		{"NO_COLOR beats always", ColorAlways, true, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetTTY(false, false, c.stderrTTY)
			s.SetColorMode(c.mode)
			s.noColor = c.noColor
			if got := s.ColorEnabled(); got != c.want {
				t.Fatalf("ColorEnabled() = %v, want %v", got, c.want)
			}
			red := s.Styles().Error("x")
			if hasEscape := red != "x"; hasEscape != c.want {
				t.Fatalf("styled text %q: escape codes = %v, want %v", red, hasEscape, c.want)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestColorPerStream: auto colours each stream that is a terminal, and
// only that one; other writers are never terminals.
func TestColorPerStream(t *testing.T) {
	s, _, out, errOut := Test()
	s.SetTTY(false, false, true)
	if s.StylesFor(out).Error("x") != "x" || s.ColorEnabledFor(out) {
		t.Error("stdout off a terminal is coloured")
	}
	if s.StylesFor(errOut).Error("x") == "x" {
		t.Error("stderr on a terminal is not coloured")
	}
	s.SetTTY(false, true, false)
	if !s.ColorEnabledFor(out) || s.ColorEnabledFor(errOut) {
		t.Error("stdout on a terminal, stderr off: colour decided for the wrong stream")
	}
	if s.ColorEnabledFor(&bytes.Buffer{}) {
		t.Error("a writer that is no stream is coloured")
	}
}
