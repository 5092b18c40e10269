package report

import (
	"bufio"
	"encoding/csv"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// distRE is what PEP 503 folds into one "-" in a distribution name.
var distRE = lazyregexp.New(`[-_.]+`)

func normalizeDist(name string) string { return strings.ToLower(distRE.ReplaceAllString(name, "-")) }

// wheel is one installed distribution: its name, version and the target
// paths its RECORD lists.
type wheel struct {
	name, version string
	files         map[string]bool
}

// installedWheels reads every *.dist-info of the target's Python
// site-packages directories.
func installedWheels(target string) ([]wheel, error) {
	infos, err := filepath.Glob(filepath.Join(target, "usr", "lib", "python*", "site-packages", "*.dist-info"))
	if err != nil {
		return nil, err
	}
	var out []wheel
	for _, info := range infos {
		name, version := readMetadata(filepath.Join(info, "METADATA"))
		if name == "" {
			// <name>-<version>.dist-info
			base := strings.TrimSuffix(filepath.Base(info), ".dist-info")
			name, version, _ = strings.Cut(base, "-")
		}
		files, err := readRecord(filepath.Join(info, "RECORD"), filepath.Dir(info), target)
		if err != nil {
			return nil, err
		}
		out = append(out, wheel{name: name, version: version, files: files})
	}
	return out, nil
}

func readMetadata(path string) (name, version string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	h, _ := textproto.NewReader(bufio.NewReader(f)).ReadMIMEHeader()
	return h.Get("Name"), h.Get("Version")
}

// readRecord lists the target paths (relative to target) of a RECORD whose
// paths are relative to site. A missing RECORD lists nothing.
func readRecord(path, site, target string) (map[string]bool, error) {
	files := map[string]bool{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return files, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 0 || rec[0] == "" {
			continue
		}
		rel, err := filepath.Rel(target, filepath.Join(site, rec[0]))
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		files[rel] = true
	}
	return files, nil
}

// splitByWheel attributes the agent package's files to the wheels whose
// RECORD lists them (x.pyc to the wheel of x.py), the rest to OtherPart.
func splitByWheel(target string, files []fileSize) ([]PartSize, error) {
	wheels, err := installedWheels(target)
	if err != nil {
		return nil, err
	}
	byPath := map[string]*wheel{}
	for i := range wheels {
		for f := range wheels[i].files {
			byPath[f] = &wheels[i]
		}
	}
	parts := map[string]*PartSize{}
	for _, f := range files {
		w := byPath[f.rel]
		if w == nil && strings.HasSuffix(f.rel, ".pyc") {
			w = byPath[strings.TrimSuffix(f.rel, "c")]
		}
		name, version := OtherPart, ""
		if w != nil {
			name, version = w.name, w.version
		}
		p := parts[name]
		if p == nil {
			p = &PartSize{Name: name, Version: version}
			parts[name] = p
		}
		p.Size += f.size
		p.Files++
	}
	var out []PartSize
	for _, p := range parts {
		out = append(out, *p)
	}
	sortSizes(out, func(p PartSize) (int64, string) { return p.Size, p.Name })
	return out, nil
}
