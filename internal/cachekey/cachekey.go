// Package cachekey computes stable keys for CI caches of a project's
// download directory, compiler cache and output directory: a hash of what
// determines each cache's content, so a CI job restores the cache another
// job saved for the same inputs (doc/farm.md).
package cachekey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/project"
)

// Kinds are the caches a key can be computed for.
var Kinds = []string{"dl", "ccache", "output"}

// version salts every key: a change to what goes into keys changes them all.
const version = "ipabr-cache-key/1"

// Input is one thing a key depends on, with the sha256 of its content.
type Input struct {
	Name string `json:"name"`
	Sum  string `json:"sha256"`
}

// Key is a cache key and what it was computed from.
type Key struct {
	Kind   string  `json:"kind"`
	Key    string  `json:"key"`
	Inputs []Input `json:"inputs"`
}

// Options name the project state a key depends on.
type Options struct {
	Project   *project.Project
	Pin       string // the buildroot gitlink commit
	Defconfig string // name of the defconfig, looked up in the external tree then Buildroot
}

// Compute is the key for kind:
//
//   - dl: what decides which files get downloaded: the Buildroot pin, the
//     defconfig, the external tree's packages (their .mk, .hash and the IPA
//     locks) and every .hash file of the tree (e.g. patches/linux/linux.hash);
//   - ccache: what decides what gets compiled and how: dl's inputs, the
//     global patch directory and the configuration files the defconfig names
//     (kernel and BusyBox fragments or configs, toolchain fragments);
//   - output: everything that ends up in the image: the pin, the defconfig,
//     the whole external tree and the user's overlay/ and scripts/.
//
// Cancelling ctx stops the reading of the trees and returns ctx's error.
func Compute(ctx context.Context, kind string, o Options) (*Key, error) {
	p := o.Project
	var inputs []Input
	add := func(name string, data []byte) {
		sum := sha256.Sum256(data)
		inputs = append(inputs, Input{Name: name, Sum: hex.EncodeToString(sum[:])})
	}
	add("kind", []byte(version+" "+kind))
	if o.Pin == "" {
		return nil, fmt.Errorf("no Buildroot pin")
	}
	add("buildroot-pin", []byte(o.Pin))
	defPath, defData, err := readDefconfig(p, o.Defconfig)
	if err != nil {
		return nil, err
	}
	add("defconfig:"+o.Defconfig, defData)

	ext := p.External
	tree := func(dir, label string, keep func(rel string) bool) error {
		return hashTree(ctx, dir, label, keep, add)
	}
	switch kind {
	case "dl", "ccache":
		if err := tree(filepath.Join(ext, "package"), "external/package", nil); err != nil {
			return nil, err
		}
		if err := tree(ext, "external", func(rel string) bool {
			return strings.HasSuffix(rel, ".hash") && !strings.HasPrefix(rel, "package/")
		}); err != nil {
			return nil, err
		}
		if kind == "dl" {
			break
		}
		if err := tree(filepath.Join(ext, "patches"), "external/patches", func(rel string) bool { return !strings.HasSuffix(rel, ".hash") }); err != nil {
			return nil, err
		}
		for _, f := range configFiles(p, defPath, defData) {
			data, err := os.ReadFile(f)
			if err != nil {
				add("config-file:"+p.Rel(f)+" (missing)", nil)
				continue
			}
			add("config-file:"+p.Rel(f), data)
		}
	case "output":
		if err := tree(ext, "external", nil); err != nil {
			return nil, err
		}
		if err := tree(p.Overlay(), "overlay", func(rel string) bool { return rel != "README.md" }); err != nil {
			return nil, err
		}
		if err := tree(p.Scripts(), "scripts", func(rel string) bool { return rel != "README.md" }); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown cache %q (known: %s)", kind, strings.Join(Kinds, ", "))
	}
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "%s\x00%s\n", in.Name, in.Sum)
	}
	return &Key{Kind: kind, Key: "ipabr-" + kind + "-" + hex.EncodeToString(h.Sum(nil))[:32], Inputs: inputs}, nil
}

// readDefconfig finds the named defconfig: the external tree's configs/
// first, then Buildroot's (the order list-defconfigs searches).
func readDefconfig(p *project.Project, name string) (string, []byte, error) {
	if !buildroot.ValidDefconfigName(name) {
		return "", nil, fmt.Errorf("%q is not a defconfig name", name)
	}
	for _, dir := range []string{p.External, p.Buildroot} {
		path := filepath.Join(dir, "configs", name)
		if data, err := os.ReadFile(path); err == nil {
			return path, data, nil
		}
	}
	return "", nil, fmt.Errorf("defconfig %s is neither in %s nor in %s", name, p.Rel(filepath.Join(p.External, "configs")), p.Rel(filepath.Join(p.Buildroot, "configs")))
}

// configSymbols end the names of defconfig symbols that name configuration
// files of compiled packages.
var configSymbols = []string{"_CONFIG_FRAGMENT_FILES", "_CUSTOM_CONFIG_FILE", "_KCONFIG_FILE", "_KCONFIG_FRAGMENT_FILES"}

// configFiles are the files the defconfig names that configure compiled
// software, with $(BR2_EXTERNAL_<NAME>_PATH) and $(TOPDIR) resolved.
func configFiles(p *project.Project, defPath string, data []byte) []string {
	cfg, err := buildroot.ParseConfig(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	name, _ := buildroot.ExternalName(p.External)
	r := strings.NewReplacer(
		"$(BR2_EXTERNAL_"+name+"_PATH)", p.External, "${BR2_EXTERNAL_"+name+"_PATH}", p.External,
		"$(TOPDIR)", p.Buildroot, "${TOPDIR}", p.Buildroot,
		"$(CONFIG_DIR)", filepath.Dir(defPath))
	var files []string
	for _, sym := range cfg.Order {
		wanted := sym == "BR2_PACKAGE_BUSYBOX_CONFIG" || sym == "BR2_UCLIBC_CONFIG"
		for _, suffix := range configSymbols {
			wanted = wanted || strings.HasSuffix(sym, suffix)
		}
		if !wanted {
			continue
		}
		for _, f := range strings.Fields(r.Replace(cfg.Values[sym])) {
			if strings.Contains(f, "$") {
				continue // a variable this cannot resolve
			}
			if !filepath.IsAbs(f) {
				f = filepath.Join(p.Buildroot, f) // relative to Buildroot's top, as make sees it
			}
			files = append(files, filepath.Clean(f))
		}
	}
	sort.Strings(files)
	return files
}

// hashTree adds every regular file (and symlink, by its target) under dir,
// sorted by path, as "label/rel". keep filters by the slash-separated
// relative path; nil keeps everything. A missing dir adds nothing.
func hashTree(ctx context.Context, dir, label string, keep func(rel string) bool, add func(string, []byte)) error {
	var rels []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if path == dir && os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if keep == nil || keep(rel) {
			rels = append(rels, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(rels)
	for _, rel := range rels {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Lstat(path)
		if err != nil {
			return err
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			add(label+"/"+rel+" -> ", []byte(target))
		case st.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			mode := ""
			if st.Mode()&0o111 != 0 {
				mode = " (executable)"
			}
			add(label+"/"+rel+mode, data)
		}
	}
	return nil
}
