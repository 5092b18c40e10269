package term

import "testing"

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
