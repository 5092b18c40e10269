package app

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ipabr/ipabr/internal/config"
)

// TestREADMEDocumentsEverything: every command, flag, configuration key
// and environment variable appears in the README.
func TestREADMEDocumentsEverything(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, s := range config.Table {
		if !strings.Contains(readme, "`"+s.Key+"`") {
			t.Errorf("README lacks the configuration key `%s`", s.Key)
		}
		for _, e := range s.Envs {
			if !strings.Contains(readme, e) {
				t.Errorf("README lacks the environment variable %s", e)
			}
		}
	}
	for _, e := range []string{"IPABR_REPO", "BR2_IPA_REPO", "IPABR_CONFIG", "NO_COLOR", "IPABR_TEST_BUILDROOT", "IPABR_TEST_LINUX_SRC", "IPABR_TEST_PYUDEV_DEB", "IPABR_TEST_IPA_SOURCE", "IPABR_TEST_PIP_REPO", "IPABR_TEST_SCREENSHOT_DIR"} {
		if !strings.Contains(readme, e) {
			t.Errorf("README lacks the environment variable %s", e)
		}
	}
	root, _ := testRoot(t, nil)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" && c.Parent() != root {
			return
		}
		path := c.CommandPath()
		if c.Runnable() && !strings.Contains(readme, path) {
			t.Errorf("README never shows `%s`", path)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			if !strings.Contains(readme, "--"+f.Name) {
				t.Errorf("README lacks the flag --%s of `%s`", f.Name, path)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
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
}
