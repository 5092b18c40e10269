package buildroot

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// pkgDirs are where Buildroot (and an external tree) keep package
// directories, package/NAME/NAME.mk and the like.
var pkgDirs = []string{"package", "boot", "linux", "toolchain"}

// Package is a package directory found in a Buildroot or external tree.
type Package struct {
	Name string // as make knows it: busybox, linux, toolchain-external-bootlin
	Dir  string // its directory, relative to the tree: package/busybox
}

// FindPackages lists the packages of the trees (Buildroot first, then the
// external trees) by their NAME/NAME.mk files, by name.
func FindPackages(trees ...string) (map[string]Package, error) {
	found := map[string]Package{}
	for _, tree := range trees {
		for _, top := range pkgDirs {
			err := filepath.WalkDir(filepath.Join(tree, top), func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					if os.IsNotExist(err) {
						return nil
					}
					return err
				}
				if d.IsDir() || !strings.HasSuffix(d.Name(), ".mk") {
					return nil
				}
				name := strings.TrimSuffix(d.Name(), ".mk")
				if dir := filepath.Dir(path); filepath.Base(dir) == name {
					if _, dup := found[name]; !dup {
						rel, _ := filepath.Rel(tree, dir)
						found[name] = Package{Name: name, Dir: filepath.ToSlash(rel)}
					}
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

// Symbols are the .config symbols any of which enables the package in a
// configured output, by the rule of Buildroot's package/pkg-generic.mk:
// linux/ is BR2_LINUX_KERNEL, boot/NAME is BR2_TARGET_NAME, toolchain/NAME
// BR2_NAME, a virtual package BR2_PACKAGE_HAS_NAME, anything else
// BR2_PACKAGE_NAME; NAME upper-cased with - . / as _.
func (p Package) Symbols() []string {
	up := strings.NewReplacer("-", "_", ".", "_", "/", "_").Replace(strings.ToUpper(p.Name))
	switch top, _, _ := strings.Cut(p.Dir, "/"); top {
	case "linux":
		return []string{"BR2_LINUX_KERNEL"}
	case "boot":
		return []string{"BR2_TARGET_" + up}
	case "toolchain":
		return []string{"BR2_" + up}
	}
	return []string{"BR2_PACKAGE_" + up, "BR2_PACKAGE_HAS_" + up}
}

// CheckPackage says why name (a make target stem such as busybox or
// host-python3) is not a package of the configured output cfg: unknown to
// the trees, or not enabled. A host package is enabled by whatever needs
// it, which only make knows; it is checked for existence only.
func CheckPackage(pkgs map[string]Package, cfg *Config, name string) error {
	base, host := strings.CutPrefix(name, "host-")
	p, ok := pkgs[base]
	if !ok {
		msg := fmt.Sprintf("%q is not a Buildroot package (no %s.mk in Buildroot or the external tree)", name, base)
		if near := nearest(pkgs, cfg, base); near != "" {
			if host {
				near = "host-" + near
			}
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return fmt.Errorf("%s", msg)
	}
	if host {
		return nil
	}
	syms := p.Symbols()
	for _, sym := range syms {
		if cfg.Enabled(sym) {
			return nil
		}
	}
	return fmt.Errorf("package %q is not enabled in this output (%s is not set); enable it with 'ipabr menuconfig' first", name, syms[0])
}

// nearest is the enabled package whose name is closest to name, within
// an edit distance of 2, or "".
func nearest(pkgs map[string]Package, cfg *Config, name string) string {
	var names []string
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(name, n); d < bestDist && CheckPackage(pkgs, cfg, n) == nil {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
