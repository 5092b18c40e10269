// Package ipatest builds what the ipa tests resolve against: small real
// wheels (metadata, dependencies, console scripts), a PEP 503 simple index
// served on 127.0.0.1, and git repositories standing in for
// openstack/ironic-python-agent and openstack/requirements with the real
// fixture files. Tests only; nothing here reaches the network.
package ipatest

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// WheelSpec describes a wheel to build.
type WheelSpec struct {
	Name    string
	Version string
	// Tag is the wheel's compatibility tag; default py3-none-any.
	Tag      string
	Requires []string          // Requires-Dist lines
	Scripts  map[string]string // console_scripts: name -> module:function
	// EntryPoints adds other entry point groups: group -> name -> target.
	EntryPoints       map[string]map[string]string
	License           string
	LicenseExpression string
	Classifiers       []string
	// Files are more files, by path inside the wheel.
	Files map[string]string
}

var distRE = regexp.MustCompile(`[-_.]+`)

// DistName is a project name as wheel file names spell it.
func DistName(name string) string { return distRE.ReplaceAllString(name, "_") }

// Normalize is PEP 503's name normalization.
func Normalize(name string) string { return strings.ToLower(distRE.ReplaceAllString(name, "-")) }

// Filename is the wheel's file name.
func (w WheelSpec) Filename() string {
	tag := w.Tag
	if tag == "" {
		tag = "py3-none-any"
	}
	return fmt.Sprintf("%s-%s-%s.whl", DistName(w.Name), w.Version, tag)
}

// Module is the wheel's top-level package name.
func (w WheelSpec) Module() string { return strings.ToLower(DistName(w.Name)) }

// BuildWheel writes the wheel into dir and returns its path. The archive
// has fixed timestamps, so the same spec gives the same bytes.
func BuildWheel(dir string, w WheelSpec) (string, error) {
	mod := w.Module()
	distInfo := fmt.Sprintf("%s-%s.dist-info", DistName(w.Name), w.Version)
	files := map[string]string{
		mod + "/__init__.py": fmt.Sprintf("__version__ = %q\n\n\ndef main():\n    print(%q)\n", w.Version, w.Name+" "+w.Version),
	}
	for p, c := range w.Files {
		files[p] = c
	}
	var md strings.Builder
	mdVersion := "2.1"
	if w.LicenseExpression != "" {
		mdVersion = "2.4"
	}
	fmt.Fprintf(&md, "Metadata-Version: %s\nName: %s\nVersion: %s\nSummary: ipabr test wheel\n", mdVersion, w.Name, w.Version)
	if w.LicenseExpression != "" {
		fmt.Fprintf(&md, "License-Expression: %s\n", w.LicenseExpression)
	}
	if w.License != "" {
		// Multi-line fields continue with indented lines.
		fmt.Fprintf(&md, "License: %s\n", strings.ReplaceAll(w.License, "\n", "\n        "))
	}
	for _, c := range w.Classifiers {
		fmt.Fprintf(&md, "Classifier: %s\n", c)
	}
	for _, r := range w.Requires {
		fmt.Fprintf(&md, "Requires-Dist: %s\n", r)
	}
	tag := w.Tag
	if tag == "" {
		tag = "py3-none-any"
	}
	purelib := strings.HasSuffix(tag, "-none-any")
	files[distInfo+"/METADATA"] = md.String()
	files[distInfo+"/WHEEL"] = fmt.Sprintf("Wheel-Version: 1.0\nGenerator: ipabr-test\nRoot-Is-Purelib: %t\nTag: %s\n", purelib, tag)
	groups := map[string]map[string]string{}
	for g, eps := range w.EntryPoints {
		groups[g] = eps
	}
	if len(w.Scripts) > 0 {
		groups["console_scripts"] = w.Scripts
	}
	if len(groups) > 0 {
		var ep strings.Builder
		for _, g := range sortedKeys(groups) {
			fmt.Fprintf(&ep, "[%s]\n", g)
			for _, name := range sortedKeys(groups[g]) {
				fmt.Fprintf(&ep, "%s = %s\n", name, groups[g][name])
			}
		}
		files[distInfo+"/entry_points.txt"] = ep.String()
	}
	var record strings.Builder
	for _, p := range sortedKeys(files) {
		sum := sha256.Sum256([]byte(files[p]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", p, base64.RawURLEncoding.EncodeToString(sum[:]), len(files[p]))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", distInfo)
	files[distInfo+"/RECORD"] = record.String()

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, w.Filename())
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	zw := zip.NewWriter(f)
	stamp := time.Date(2026, 6, 16, 21, 0, 0, 0, time.UTC)
	// RECORD last, as wheels have it.
	names := sortedKeys(files)
	sort.SliceStable(names, func(i, j int) bool {
		return !strings.HasSuffix(names[i], "/RECORD") && strings.HasSuffix(names[j], "/RECORD")
	})
	for _, p := range names {
		hw, err := zw.CreateHeader(&zip.FileHeader{Name: p, Method: zip.Deflate, Modified: stamp})
		if err != nil {
			f.Close()
			return "", err
		}
		if _, err := hw.Write([]byte(files[p])); err != nil {
			f.Close()
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
