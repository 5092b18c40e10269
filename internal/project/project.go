// Package project finds the ipabr project root and owns every path in it.
package project

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// Marker is the file whose presence makes a directory a project root.
const Marker = "buildroot-ipa/external.desc"

// ConfigFile is the per-project configuration file at the root.
const ConfigFile = "ipabr.yaml"

// ErrNotFound means no project root was found walking up.
var ErrNotFound = errors.New("not inside an ipabr project")

// Project holds the absolute paths of one checkout.
type Project struct {
	Root      string // BR2_IPA_REPO
	Buildroot string // BR2_UPSTREAM
	External  string // BR2_EXTERNAL
	Output    string // BR2_OUTPUT_DIR
	DL        string // BR2_DL_DIR
	CCache    string // BR2_CCACHE_DIR
}

// Overlay is the user's own rootfs overlay.
func (p *Project) Overlay() string { return filepath.Join(p.Root, "overlay") }

// Scripts holds the user's post-build / post-fakeroot / post-image hooks.
func (p *Project) Scripts() string { return filepath.Join(p.Root, "scripts") }

// OutputRoot is where default and --unique output directories live.
func (p *Project) OutputRoot() string { return filepath.Join(p.Root, "output") }

// IsRoot reports whether dir holds the project marker.
func IsRoot(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, Marker))
	return err == nil && st.Mode().IsRegular()
}

// Find walks up from start to the first project root.
func Find(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if IsRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w (no %s in %s or any parent); run ipabr inside a checkout of the project or pass --repo DIR", ErrNotFound, Marker, start)
		}
		dir = parent
	}
}

// CheckRoot validates a root named explicitly (--repo, IPABR_REPO,
// BR2_IPA_REPO); a relative dir is relative to cwd. Messages show dir as given.
func CheckRoot(dir, cwd string) (string, error) {
	abs := dir
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(cwd, dir)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("project directory %s does not exist", dir)
	case err != nil:
		return "", err
	case !st.IsDir():
		return "", fmt.Errorf("project directory %s is a file, not a directory; point --repo at the checkout's top directory", dir)
	case !IsRoot(abs):
		return "", fmt.Errorf("%s is not an ipabr project (no %s); point --repo at the checkout's top directory", dir, Marker)
	}
	return abs, nil
}

// CheckDirPath fails when path exists and is not a directory, so that a
// later mkdir or make cannot trip over a file there.
func CheckDirPath(what, path string) error {
	if filepath.Clean(path) == string(filepath.Separator) {
		return fmt.Errorf("%s %s is the filesystem root; Buildroot needs a directory of its own: choose another path, such as output/NAME", what, path)
	}
	st, err := os.Stat(path)
	if err == nil && !st.IsDir() {
		return fmt.Errorf("%s %s is an existing file, not a directory; remove it or choose another path", what, path)
	}
	return nil
}

// Dirs the project creates on init, each with a README explaining its use.
func (p *Project) Dirs() []string {
	return []string{p.DL, p.CCache, p.OutputRoot(), p.Overlay(), p.Scripts()}
}

var uniqueOutputName = lazyregexp.New(`^[0-9]+-[A-Za-z0-9]{6}$`)

// IsUniqueOutputName reports whether name is one NewUniqueOutput makes.
func IsUniqueOutputName(name string) bool { return uniqueOutputName.MatchString(name) }

// NewUniqueOutput creates output/<unix-time>-XXXXXX, the original
// ipa-buildroot README's recipe for concurrent builds, and returns its
// absolute path.
func (p *Project) NewUniqueOutput(now time.Time) (string, error) {
	if err := os.MkdirAll(p.OutputRoot(), 0o755); err != nil {
		return "", err
	}
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for try := 0; try < 100; try++ {
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		for i := range b {
			b[i] = letters[int(b[i])%len(letters)]
		}
		dir := filepath.Join(p.OutputRoot(), strconv.FormatInt(now.Unix(), 10)+"-"+string(b))
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("could not create a unique directory under %s", p.OutputRoot())
}

// Rel shows path relative to the root when it lies inside it.
func (p *Project) Rel(path string) string {
	r, err := filepath.Rel(p.Root, path)
	if err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return path
	}
	return r
}
