package testenv

import (
	"os"
	"path/filepath"
	"strings"
)

// CopyFakeBuildroot copies the fake Buildroot tree to dir, which must not
// hold any of its files yet. The copy keeps executable bits and symlinks.
func CopyFakeBuildroot(dir string) error {
	return os.CopyFS(dir, os.DirFS(FakeBuildrootDir()))
}

// MakeExternalTree writes a minimal BR2_EXTERNAL tree at dir: external.desc
// with name and desc, empty Config.in and external.mk, and configs/NAME for
// each defconfig given (name -> content).
func MakeExternalTree(dir, name, desc string, defconfigs map[string]string) error {
	if err := os.MkdirAll(filepath.Join(dir, "configs"), 0o755); err != nil {
		return err
	}
	var d strings.Builder
	d.WriteString("name: " + name + "\n")
	if desc != "" {
		d.WriteString("desc: " + desc + "\n")
	}
	files := map[string]string{"external.desc": d.String(), "Config.in": "", "external.mk": ""}
	for n, content := range defconfigs {
		files[filepath.Join("configs", n)] = content
	}
	for n, content := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
