package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The command reference is generated (TestReferenceIsCurrent) and covers
// every command, flag, key and variable of the settings table by
// construction; these tests keep the hand-written pages honest.

// TestREADMEIsShort: the README says what ipabr is, the two commands, a
// quickstart and links; the rest lives in doc/ and CONTRIBUTING.md.
func TestREADMEIsShort(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 7*1024 {
		t.Errorf("README.md is %d bytes, over 7 KiB: move details to doc/ or CONTRIBUTING.md", len(data))
	}
	for _, want := range []string{"make image", "make test"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("README.md does not show %q", want)
		}
	}
}

// markdownLink is a relative link target in Markdown: [text](target).
var markdownLink = regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`)

// TestDocLinksResolve: every relative link of the hand-written pages names
// a file of the repository, and a #fragment into a Markdown page names one
// of its headings.
func TestDocLinksResolve(t *testing.T) {
	pages, _ := filepath.Glob("../../doc/*.md")
	pages = append(pages, "../../README.md", "../../CONTRIBUTING.md")
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(data), -1) {
			target := filepath.Join(filepath.Dir(page), m[1])
			body, err := os.ReadFile(target)
			if err != nil {
				if fi, serr := os.Stat(target); serr == nil && fi.IsDir() {
					continue
				}
				t.Errorf("%s links to %s, which does not exist", page, m[1])
				continue
			}
			if m[2] != "" && strings.HasSuffix(target, ".md") && !hasAnchor(string(body), m[2][1:]) {
				t.Errorf("%s links to %s%s: no such heading", page, m[1], m[2])
			}
		}
	}
}

// hasAnchor reports whether a Markdown page has a heading whose GitHub
// anchor is anchor.
func hasAnchor(page, anchor string) bool {
	for _, line := range strings.Split(page, "\n") {
		title, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !strings.HasPrefix(line, "#") || !ok {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(title)) {
			switch {
			case r == ' ' || r == '-':
				b.WriteRune('-')
			case r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		if b.String() == anchor {
			return true
		}
	}
	return false
}

// testVariable is an environment variable of the test tiers and benchmarks.
var testVariable = regexp.MustCompile(`\bIPABR_(?:TEST|BENCH)_[A-Z0-9_]+\b`)

// TestTierVariablesDocumented: every IPABR_TEST_* and IPABR_BENCH_*
// variable the code reads is in CONTRIBUTING.md.
func TestTierVariablesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../CONTRIBUTING.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	err = filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "buildroot" || d.Name() == "output" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".sh") || filepath.Base(path) == "run") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range testVariable.FindAllString(string(data), -1) {
			seen[v] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("found no test variable in the sources")
	}
	for v, where := range seen {
		if !strings.Contains(string(doc), v) {
			t.Errorf("CONTRIBUTING.md lacks %s (read in %s)", v, where)
		}
	}
}

// TestHelpNamesNoSeed: the help text never speaks of "the seed" (the user
// never saw one); it names the original ipa-buildroot README instead.
func TestHelpNamesNoSeed(t *testing.T) {
	root, _ := testRoot(t, nil)
	texts := []string{config.EnvironmentHelp()}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		texts = append(texts, c.Short, c.Long, c.Example)
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { texts = append(texts, f.Usage) })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, text := range texts {
		if strings.Contains(strings.ToLower(text), "seed") {
			t.Errorf("help text speaks of the seed:\n%s", text)
		}
	}
	if !strings.Contains(root.Long, "csmart/ipa-buildroot") {
		t.Errorf("ipabr --help does not name the original project:\n%s", root.Long)
	}
	// Nor do the pages (not even of a fuzz corpus: users never saw a seed).
	pages, _ := filepath.Glob("../../doc/*.md")
	for _, page := range append(pages, "../../README.md", "../../CONTRIBUTING.md") {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if loc := theSeed.FindIndex(data); loc != nil {
			t.Errorf("%s speaks of the seed: %q", page, data[max(0, loc[0]-40):min(len(data), loc[1]+40)])
		}
	}
}

var theSeed = regexp.MustCompile(`(?i)\bseeds?\b`)
