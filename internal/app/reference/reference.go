// Package reference generates ipabr's command reference from the
// commands' own help with cobra's doc generator (`make docs`). It is kept
// out of internal/app so that the ipabr binary does not link the
// generator and its Markdown renderer.
package reference

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/ipabr/ipabr/internal/app"
)

// date is the date the man pages carry. It is fixed so that generating
// the pages twice gives the same files (TestReferenceIsCurrent).
var date = time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)

// Generate writes one Markdown page per command in mdDir (with
// ipabr_help_environment.md for the settings table) and one man page per
// command in manDir. Both directories are emptied of .md/.1 files first,
// so a removed command loses its page.
func Generate(mdDir, manDir string) error {
	root := app.CommandTree()
	var disable func(*cobra.Command)
	disable = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			disable(sub)
		}
	}
	disable(root)
	for dir, ext := range map[string]string{mdDir: ".md", manDir: ".1"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		old, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	if err := doc.GenMarkdownTree(root, mdDir); err != nil {
		return err
	}
	header := &doc.GenManHeader{Title: "IPABR", Section: "1", Source: "ipabr", Manual: "ipabr manual", Date: &date}
	if err := doc.GenManTree(root, header, manDir); err != nil {
		return err
	}
	// cobra leaves out help topics; the settings table gets its own page.
	env, _, err := root.Find([]string{"environment"})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "## ipabr help environment\n\n%s\n\n```\n%s\n```\n\n### SEE ALSO\n\n* [ipabr](ipabr.md)\t - %s\n", env.Short, env.Long, root.Short)
	return os.WriteFile(filepath.Join(mdDir, "ipabr_help_environment.md"), b.Bytes(), 0o644)
}
