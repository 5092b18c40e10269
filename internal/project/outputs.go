package project

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// OutputDirs lists the output directories that exist: the configured one
// and every Buildroot output under output/ (the default and --unique ones).
func (p *Project) OutputDirs() []string {
	seen := map[string]bool{}
	var dirs []string
	add := func(d string) {
		if !seen[d] && IsOutputDir(d) {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	add(p.Output)
	add(p.OutputRoot())
	entries, _ := os.ReadDir(p.OutputRoot())
	for _, e := range entries {
		if e.IsDir() {
			add(filepath.Join(p.OutputRoot(), e.Name()))
		}
	}
	sort.Strings(dirs)
	return dirs
}

// IsOutputDir reports whether dir looks like a Buildroot output directory
// (make O= writes a Makefile and .config there) or a fresh --unique one.
func IsOutputDir(dir string) bool {
	for _, name := range []string{".config", "Makefile", "build", "images"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// DirSize is the total size of the regular files under dir; cancelling
// ctx stops the walk and returns ctx's error.
func DirSize(ctx context.Context, dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total, err
}
