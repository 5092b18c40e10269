package gitsub

import (
	"bytes"
	"testing"

	format "github.com/go-git/go-git/v5/plumbing/format/config"
)

// FuzzParseGitmodules feeds arbitrary .gitmodules content to the parser
// ipabr uses (the file comes with the project, so from outside). Whatever
// it accepts must be safe to use: submodule names and paths git itself
// would accept (no ".." escaping the project), and values that survive being
// written to .git/config and read back (ipabr registers the URL there).
func FuzzParseGitmodules(f *testing.F) {
	for _, s := range []string{
		"[submodule \"buildroot\"]\n\tpath = buildroot\n\turl = https://gitlab.com/buildroot.org/buildroot.git\n",
		"[submodule \"buildroot\"]\n\tpath = buildroot\n\turl = https://example.org/b.git\n\tbranch = 2026.02.x\n[submodule \"other\"]\n\tpath = x/y\n\turl = ../other.git\n",
		"; comment\n# comment\n[submodule \"buildroot\"]\npath=\"quoted path\"\nurl = \"a\\\\b\\\"c\" ; trailing\n",
		"[submodule]\nurl=x\n[core]\n\tbare = false\n",
		"[submodule \"a\"]\n\tpath = ../../escape\n\turl = x\n",
		"[",
		"\x00\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseGitmodules(data)
		if err != nil {
			return
		}
		if m == nil {
			t.Fatal("nil modules without an error")
		}
		for name, sub := range m.Submodules {
			if sub.Name != name {
				t.Fatalf("submodule %q filed under %q", sub.Name, name)
			}
			if err := sub.Validate(); err != nil && sub.Path != "" && sub.URL != "" {
				t.Fatalf("accepted a submodule git refuses: %v (%+v)", err, sub)
			}
			// The URL and path as .git/config would hold them.
			cfg := format.New()
			cfg.Section("submodule").Subsection(name).SetOption("url", sub.URL).SetOption("path", sub.Path)
			var buf bytes.Buffer
			if err := format.NewEncoder(&buf).Encode(cfg); err != nil {
				t.Fatalf("encoding %+v: %v", sub, err)
			}
			back := format.New()
			if err := format.NewDecoder(&buf).Decode(back); err != nil {
				t.Fatalf("%+v written to a config cannot be read back: %v\n%s", sub, err, buf.String())
			}
			ss := back.Section("submodule").Subsection(name)
			if got := ss.Option("url"); got != sub.URL {
				t.Fatalf("url %q reads back as %q", sub.URL, got)
			}
			if got := ss.Option("path"); got != sub.Path {
				t.Fatalf("path %q reads back as %q", sub.Path, got)
			}
		}
	})
}
