package buildroot

import (
	"bytes"
	"strings"
	"testing"
)

// Fuzz targets for everything this package parses from outside: .config and
// defconfig files (ParseConfig, MergeFragment on config fragments) and make's
// output (ParseStep, StreamScanner). `make test` runs them on their seed
// corpus (f.Add plus testdata/fuzz/<Target>/); doc/farm.md says how to fuzz.

var configSeeds = []string{
	"",
	"BR2_x86_64=y\n# BR2_CCACHE is not set\nBR2_JLEVEL=0\n",
	"#\n# Automatically generated file; DO NOT EDIT.\nBR2_DEFCONFIG=\"/src/buildroot-ipa/configs/openstack_ipa_defconfig\"\n",
	"BR2_TARGET_GENERIC_HOSTNAME=\"with \\\"quotes\\\" and \\\\ backslash\"\n",
	"BR2_TARGET_GENERIC_ROOT_PASSWD=\"$$6$$abc\"\n\r\nBR2_A=\"unterminated\n",
	"  BR2_INDENTED=y  \ngarbage line\n=novalue\nBR2_EMPTY=\nBR2_A=1\nBR2_A=2\n",
	"CONFIG_NET=y\nCONFIG_E1000=m\n# CONFIG_DEBUG_INFO is not set\nCONFIG_CMDLINE=\"console=ttyS0\"\n",
	"#  is not set\n# is not set\n# A B is not set\nA B=1\nBR2_X=\"\\n\\x41\"\n", // no symbols; kconfig escapes
}

// symbolOK is what every parsed symbol must look like: a kconfig name.
func symbolOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// kconfigQuote is how kconfig writes a string value (conf_write_string):
// backslash and double quote escaped with a backslash.
func kconfigQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range configSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(bytes.NewReader(data))
		if err != nil {
			return // only a line over the scanner's limit
		}
		if len(c.Order) != len(c.Values) || len(c.Order) != len(c.Lines) {
			t.Fatalf("order %d, values %d, lines %d", len(c.Order), len(c.Values), len(c.Lines))
		}
		seen := map[string]bool{}
		var rendered strings.Builder
		for _, sym := range c.Order {
			if seen[sym] {
				t.Fatalf("%q twice in Order", sym)
			}
			seen[sym] = true
			if !symbolOK(sym) {
				t.Fatalf("parsed a symbol that is no kconfig name: %q", sym)
			}
			line := c.Lines[sym]
			if got := lineSymbol(line); got != sym {
				t.Fatalf("lineSymbol(%q) = %q, ParseConfig said %q", line, got, sym)
			}
			rendered.WriteString(line + "\n")
		}
		// Its own lines parse back to the same values.
		again, err := ParseConfig(strings.NewReader(rendered.String()))
		if err != nil {
			t.Fatal(err)
		}
		for _, sym := range c.Order {
			if again.Values[sym] != c.Values[sym] {
				t.Fatalf("%s: %q reparsed as %q", sym, c.Values[sym], again.Values[sym])
			}
		}
		// A string value written the way kconfig writes it reads back as itself.
		if v := string(data); !strings.ContainsAny(v, "\n\r") {
			line := "BR2_FUZZ=" + kconfigQuote(v)
			q, err := ParseConfig(strings.NewReader(line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if q.Values["BR2_FUZZ"] != v {
				t.Fatalf("%s read back as %q, want %q", line, q.Values["BR2_FUZZ"], v)
			}
		}
	})
}

func FuzzMergeFragment(f *testing.F) {
	f.Add([]byte("# kernel fragment\nCONFIG_NET=y\n"), []byte("CONFIG_NET=y\nCONFIG_E1000=m\n"), []byte("CONFIG_NET=y\nCONFIG_E1000=y\n# CONFIG_DEBUG is not set\n"))
	f.Add([]byte(""), []byte(""), []byte("CONFIG_X=\"v\"\n"))
	f.Add([]byte("CONFIG_A=y\nCONFIG_A=m\n"), []byte("CONFIG_A=m\n"), []byte("CONFIG_A=y\n")) // the last line wins
	f.Fuzz(func(t *testing.T, fragment, base, cur []byte) {
		baseline, err1 := ParseConfig(bytes.NewReader(base))
		current, err2 := ParseConfig(bytes.NewReader(cur))
		before, err3 := ParseConfig(bytes.NewReader(fragment))
		if err1 != nil || err2 != nil || err3 != nil {
			return
		}
		out := MergeFragment(fragment, baseline, current)
		merged, err := ParseConfig(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		changed := map[string]bool{}
		for _, sym := range Changed(baseline, current) {
			changed[sym] = true
			if merged.Values[sym] != current.Values[sym] {
				t.Fatalf("changed %s is %q in the merged fragment, want %q\nfragment:\n%s\nmerged:\n%s", sym, merged.Values[sym], current.Values[sym], fragment, out)
			}
		}
		for _, sym := range before.Order {
			if !changed[sym] && merged.Values[sym] != before.Values[sym] {
				t.Fatalf("unchanged %s went from %q to %q", sym, before.Values[sym], merged.Values[sym])
			}
		}
	})
}

var stepSeeds = []string{
	">>> busybox 1.37.0 Extracting",
	"\x1b[7m>>> host-python3 3.12.9 Installing to host directory\x1b[27m\n",
	">>> skeleton  Installing to target",
	">>>   Finalizing target directory",
	"gcc -o x.o >>> not a step",
	">>> broken",
	"\x1b>>> a b c\r\n",
	"\x1b[",
}

func FuzzParseStep(f *testing.F) {
	for _, s := range stepSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		st, ok := ParseStep(line)
		if !ok {
			if st != (Step{}) {
				t.Fatalf("not a step but %+v", st)
			}
			return
		}
		if st.Step == "" || st.Step != strings.TrimSpace(st.Step) {
			t.Fatalf("step text %q", st.Step)
		}
		for _, field := range []string{st.Package, st.Version, st.Step} {
			if strings.ContainsRune(field, 0x1b) {
				t.Fatalf("escape left in %+v", st)
			}
		}
		if strings.ContainsAny(st.Package+st.Version, " ") {
			t.Fatalf("space in name or version: %+v", st)
		}
		// The step, written out again, parses to itself.
		again, ok := ParseStep([]byte(">>> " + st.Package + " " + st.Version + " " + st.Step + "\n"))
		if !ok || again != st {
			t.Fatalf("%+v rendered and parsed again is %+v, %v", st, again, ok)
		}
	})
}

// FuzzStreamScanner checks the chunked scanner against parsing the same
// output line by line: every byte reaches the log, and the steps seen are
// the same however make's output is cut into writes.
func FuzzStreamScanner(f *testing.F) {
	f.Add([]byte("gcc -c x.c >>> noise\n\x1b[7m>>> pkg0 1.0 Extracting\x1b[27m\n\x1b[7m>>> pkg0 1.0 Installing to target\x1b[27m\n"), []byte{1, 7, 200, 3})
	f.Add([]byte("abc\n>>> a 1 Building\n>>"), []byte{5})
	f.Add([]byte("x\r\n\x1b[7m>>> pkg 1.0 Extracting\x1b[27m\r\nmore\n>>> last 2 Installing to target"), []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var want []Step
		long := false
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if len(line) > 4000 {
				long = true // the scanner keeps only the tail of very long lines
			}
			if st, ok := ParseStep(line); ok {
				want = append(want, st)
			}
		}
		var log bytes.Buffer
		var got []Step
		s := &StreamScanner{Log: &log, OnStep: func(st Step) { got = append(got, st) }}
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(n, int(cuts[i%len(cuts)])+1)
			}
			if w, err := s.Write(rest[:n]); err != nil || w != n {
				t.Fatalf("Write = %d, %v", w, err)
			}
			rest = rest[n:]
		}
		s.Flush()
		if !bytes.Equal(log.Bytes(), data) {
			t.Fatalf("the log holds %q, make wrote %q", log.Bytes(), data)
		}
		if long {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("scanner saw %d steps, line by line %d:\n%+v\n%+v", len(got), len(want), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("step %d: scanner %+v, line by line %+v", i, got[i], want[i])
			}
		}
	})
}

// FuzzParseDefconfigs: list-defconfigs output (Buildroot's and every
// external tree's configs/); entries are names and one-line descriptions.
func FuzzParseDefconfigs(f *testing.F) {
	f.Add("Built-in configs:\n  qemu_x86_64_defconfig               - Build for qemu_x86_64\n\nExternal configs in \"OpenStack IPA\":\n  openstack_ipa_defconfig             - Build for openstack_ipa\n")
	f.Add("External configs in \"a\":b\":\n\t x_defconfig\t- \n  y_defconfig - z \r\n")
	f.Fuzz(func(t *testing.T, out string) {
		for _, d := range ParseDefconfigs(out) {
			if !strings.HasSuffix(d.Name, "_defconfig") || strings.ContainsAny(d.Name, " \t\r\n") {
				t.Fatalf("name %q", d.Name)
			}
			if d.Description != strings.TrimSpace(d.Description) || strings.ContainsAny(d.Description, "\n") {
				t.Fatalf("description %q", d.Description)
			}
			if !d.External && d.Tree != "" {
				t.Fatalf("a built-in defconfig with a tree: %+v", d)
			}
		}
	})
}
