package workspace

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/project"
)

// ConfigPath resolves a path as the output's .config names it, the way
// Buildroot's make and the shell commands of its recipes read it: the
// external tree's variable ($(BR2_EXTERNAL_IPA_PATH) or ${...}),
// $(TOPDIR) (Buildroot) and $(CONFIG_DIR) (the output directory) expanded,
// a leading ~/ as the user's home, and a relative path relative to
// Buildroot's top directory, where make runs. The result is absolute and
// clean.
func ConfigPath(p *project.Project, outputDir, raw string) string {
	path := strings.NewReplacer(
		"$(BR2_EXTERNAL_IPA_PATH)", p.External, "${BR2_EXTERNAL_IPA_PATH}", p.External,
		"$(TOPDIR)", p.Buildroot, "${TOPDIR}", p.Buildroot,
		"$(CONFIG_DIR)", outputDir, "${CONFIG_DIR}", outputDir,
	).Replace(raw)
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Buildroot, path)
	}
	return filepath.Clean(path)
}
