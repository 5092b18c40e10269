// Package report reads what Buildroot records about a finished build (the
// files each package installed, the time each step took, the images) and the
// agent's manifest, compares two builds, and renders it all as one
// self-contained HTML page. Nothing here prints.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Files of a Buildroot output directory this package reads.
const (
	FileListFile  = "build/packages-file-list.txt" // what support/scripts/size-stats reads
	BuildTimeFile = "build/build-time.log"         // what support/scripts/graph-build-time reads
	ManifestFile  = "images/ipa-manifest.json"     // written by the ironic-python-agent package
)

// The budget of doc/image.md: the compressed initramfs and the root
// filesystem unpacked in RAM.
const (
	InitramfsBudget = 60_000_000
	RootfsBudget    = 250_000_000
)

// ErrNotBuilt is returned for an output directory without Buildroot's file
// list: nothing was built there (yet).
var ErrNotBuilt = errors.New("not built")

// Report is everything the page and --json show about one build.
type Report struct {
	Output    string      `json:"output"`
	Rootfs    Rootfs      `json:"rootfs"`
	Images    Images      `json:"images"`
	Budget    Budget      `json:"budget"`
	BuildTime BuildTime   `json:"build_time"`
	IPA       *Manifest   `json:"ipa,omitempty"`
	Against   *Comparison `json:"against,omitempty"`
}

// Budget is the size budget in bytes.
type Budget struct {
	Initramfs int64 `json:"initramfs"`
	Rootfs    int64 `json:"rootfs"`
}

// Images are the boot files in <output>/images.
type Images struct {
	Initramfs *ImageFile `json:"initramfs,omitempty"`
	Kernel    *ImageFile `json:"kernel,omitempty"`
}

// ImageFile is one file in <output>/images.
type ImageFile struct {
	File string `json:"file"`
	Size int64  `json:"size"`
}

// Build reads the build in dir. ErrNotBuilt (wrapped) means dir has no
// file list.
func Build(dir string) (*Report, error) {
	rootfs, err := ReadRootfs(dir)
	if err != nil {
		return nil, err
	}
	r := &Report{Output: dir, Rootfs: *rootfs, Budget: Budget{Initramfs: InitramfsBudget, Rootfs: RootfsBudget}}
	times, err := ReadBuildTime(filepath.Join(dir, BuildTimeFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if times != nil {
		r.BuildTime = *times
	}
	images := filepath.Join(dir, "images")
	// The board's post-image script names them ipa.*; a plain Buildroot
	// build has Buildroot's names.
	r.Images.Initramfs = firstFile(images, "ipa.initramfs", "rootfs.cpio.xz", "rootfs.cpio.zst", "rootfs.cpio.gz",
		"rootfs.cpio.lz4", "rootfs.cpio.lzma", "rootfs.cpio.lzo", "rootfs.cpio.bz2", "rootfs.cpio")
	r.Images.Kernel = firstFile(images, "ipa.kernel", "bzImage")
	if r.IPA, err = ReadManifest(filepath.Join(dir, ManifestFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return r, nil
}

func firstFile(dir string, names ...string) *ImageFile {
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return &ImageFile{File: n, Size: fi.Size()}
		}
	}
	return nil
}

// Manifest is images/ipa-manifest.json: what install-wheels.py installed.
type Manifest struct {
	Series   string          `json:"series"`
	Python   string          `json:"python"`
	Packages []ManifestWheel `json:"packages"`
}

// ManifestWheel is one installed wheel.
type ManifestWheel struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Wheel   string `json:"wheel"`
	SHA256  string `json:"sha256"`
	License string `json:"license"`
}

// ReadManifest reads an IPA manifest.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}

// AgentVersion is the version of the ironic-python-agent wheel.
func (m *Manifest) AgentVersion() string {
	for _, p := range m.Packages {
		if normalizeDist(p.Name) == AgentPackage {
			return p.Version
		}
	}
	return ""
}

// Licenses counts the wheels per license, most common first.
func (m *Manifest) Licenses() []LicenseCount {
	n := map[string]int{}
	for _, p := range m.Packages {
		n[p.License]++
	}
	var out []LicenseCount
	for l, c := range n {
		out = append(out, LicenseCount{License: l, Wheels: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Wheels != out[j].Wheels {
			return out[i].Wheels > out[j].Wheels
		}
		return out[i].License < out[j].License
	})
	return out
}

// LicenseCount is how many wheels carry one license.
type LicenseCount struct {
	License string `json:"license"`
	Wheels  int    `json:"wheels"`
}
