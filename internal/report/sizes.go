package report

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// AgentPackage is the Buildroot package whose size is split by wheel.
const AgentPackage = "ironic-python-agent"

// Unknown is the name of the files no package installed (the overlays,
// post-build scripts), as support/scripts/size-stats calls them.
const Unknown = "unknown"

// Rootfs is the target directory's size by package, biggest first.
type Rootfs struct {
	Total    int64         `json:"total"`
	Packages []PackageSize `json:"packages"`
}

// PackageSize is what one package puts into the root filesystem.
type PackageSize struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Files int    `json:"files"`
	// Parts splits the agent's package by wheel, biggest first.
	Parts []PartSize `json:"parts,omitempty"`
}

// PartSize is one wheel's share of the agent's package; Version is empty
// for the files no wheel lists.
type PartSize struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Size    int64  `json:"size"`
	Files   int    `json:"files"`
}

// OtherPart names the agent package's files that no wheel's RECORD lists.
const OtherPart = "(not in a wheel)"

// Sizes is package name → bytes.
func (r *Rootfs) Sizes() map[string]int64 {
	m := map[string]int64{}
	for _, p := range r.Packages {
		m[p.Name] = p.Size
	}
	return m
}

// ReadFileList reads build/packages-file-list.txt ("package,./path" lines,
// later lines winning) into target path → package, keeping the files that
// exist in target and are not symlinks. A listed x.py also claims x.pyc,
// which Buildroot compiles after the list is made. This is size-stats'
// reading of the list.
func ReadFileList(listPath, target string) (map[string]string, error) {
	f, err := os.Open(listPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	owner := map[string]string{}
	claim := func(rel, pkg string) {
		if fi, err := os.Lstat(filepath.Join(target, rel)); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			owner[rel] = pkg
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		pkg, path, ok := strings.Cut(line, ",")
		path = strings.TrimSpace(path)
		if !ok || pkg == "" || !strings.HasPrefix(path, "./") {
			return nil, fmt.Errorf("%s:%d: %q is not \"package,./path\"", listPath, n, line)
		}
		rel := path[2:]
		if strings.HasSuffix(rel, ".py") {
			claim(rel+"c", pkg)
		}
		claim(rel, pkg)
	}
	return owner, sc.Err()
}

// ReadRootfs measures <dir>/target by package: every file that is not a
// symlink, each inode once, files no package listed as Unknown.
func ReadRootfs(dir string) (*Rootfs, error) {
	target := filepath.Join(dir, "target")
	owner, err := ReadFileList(filepath.Join(dir, FileListFile), target)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: %w", dir, FileListFile, ErrNotBuilt)
	}
	if err != nil {
		return nil, err
	}
	sizes := map[string]*PackageSize{}
	var agentFiles []fileSize
	seen := map[uint64]bool{}
	err = filepath.WalkDir(target, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil // another name of a file already counted
			}
			seen[st.Ino] = true
		}
		rel, _ := filepath.Rel(target, path)
		pkg, ok := owner[rel]
		if !ok {
			pkg = Unknown
		}
		p := sizes[pkg]
		if p == nil {
			p = &PackageSize{Name: pkg}
			sizes[pkg] = p
		}
		p.Size += fi.Size()
		p.Files++
		if pkg == AgentPackage {
			agentFiles = append(agentFiles, fileSize{rel, fi.Size()})
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no target directory: %w", dir, ErrNotBuilt)
	}
	if err != nil {
		return nil, err
	}
	r := &Rootfs{}
	for _, p := range sizes {
		r.Total += p.Size
		r.Packages = append(r.Packages, *p)
	}
	sortSizes(r.Packages, func(p PackageSize) (int64, string) { return p.Size, p.Name })
	for i := range r.Packages {
		if r.Packages[i].Name == AgentPackage {
			parts, err := splitByWheel(target, agentFiles)
			if err != nil {
				return nil, err
			}
			r.Packages[i].Parts = parts
		}
	}
	return r, nil
}

type fileSize struct {
	rel  string
	size int64
}

// sortSizes orders biggest first, then by name.
func sortSizes[T any](s []T, key func(T) (int64, string)) {
	sort.Slice(s, func(i, j int) bool {
		si, ni := key(s[i])
		sj, nj := key(s[j])
		if si != sj {
			return si > sj
		}
		return ni < nj
	})
}
