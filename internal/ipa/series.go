// Package ipa turns an OpenStack release into a lock for the image's
// ironic-python-agent package: IPA's requirements and the release's
// upper-constraints, resolved with pip for the target's Python and platform,
// written as a Buildroot make fragment (each wheel's URL), a Buildroot hash
// file (each wheel's sha256) and a manifest (doc/ipa.md).
//
// Nothing here prints; progress goes through callbacks.
package ipa

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// Package is the Buildroot package name, and the lock's directory.
const Package = "ironic-python-agent"

// DefaultSeries is the series the package uses when the tree has no lock.
const DefaultSeries = "2026.1"

// Master is the development series: IPA's and requirements' master branch.
const Master = "master"

// Files of a lock directory, <external>/package/ironic-python-agent/<series>/.
const (
	LockFile     = Package + ".lock.mk" // the make fragment: wheel URLs
	HashFile     = Package + ".hash"    // Buildroot's hash file: wheel sha256
	ManifestFile = "manifest.txt"       // human-readable: name, version, size, sha256, license
	WheelsDir    = "wheels"             // wheels that are not on the index (built from git, local files)
)

var seriesRE = lazyregexp.New(`^[a-z0-9][a-z0-9.-]{0,31}$`)

// ValidateSeries rejects names that are not an OpenStack series: only
// lowercase letters, digits, dots and dashes, so that a series is safe in
// a path, a git ref, a make variable and a shell command.
func ValidateSeries(s string) error {
	if s == "" {
		return errs.BadInputf("the series is empty; name an OpenStack series such as %s or %s", DefaultSeries, Master)
	}
	if !seriesRE.MatchString(s) || strings.Contains(s, "..") {
		shown := strconv.Quote(s)
		if strings.HasPrefix(s, "stable/") {
			return errs.BadInputf("%s is a branch, not a series: use %s", shown, strings.TrimPrefix(s, "stable/"))
		}
		return errs.BadInputf("%s is not an OpenStack series name (lowercase letters, digits, '.' and '-' only, such as %s or %s)", shown, DefaultSeries, Master)
	}
	return nil
}

// Branch is the git branch of a series in the OpenStack repositories.
func Branch(series string) string {
	if series == Master {
		return Master
	}
	return "stable/" + series
}

// PackageDir is the package's directory in the external tree.
func PackageDir(external string) string {
	return filepath.Join(external, "package", Package)
}

// LockDir is where the lock of a series lives.
func LockDir(external, series string) string {
	return filepath.Join(PackageDir(external), series)
}

// HasLock reports whether the series has a lock in the external tree.
func HasLock(external, series string) bool {
	st, err := os.Stat(filepath.Join(LockDir(external, series), LockFile))
	return err == nil && st.Mode().IsRegular()
}

// Locks lists the series that have a lock in the external tree, oldest
// first (master last).
func Locks(external string) []string {
	entries, _ := os.ReadDir(PackageDir(external))
	var out []string
	for _, e := range entries {
		if e.IsDir() && ValidateSeries(e.Name()) == nil && HasLock(external, e.Name()) {
			out = append(out, e.Name())
		}
	}
	SortSeries(out)
	return out
}

// SortSeries orders series by release: year.N numerically, then other
// names alphabetically, master last.
func SortSeries(s []string) {
	sort.SliceStable(s, func(i, j int) bool { return seriesLess(s[i], s[j]) })
}

func seriesLess(a, b string) bool {
	ka, kb := seriesKey(a), seriesKey(b)
	if ka.rank != kb.rank {
		return ka.rank < kb.rank
	}
	if ka.year != kb.year {
		return ka.year < kb.year
	}
	if ka.half != kb.half {
		return ka.half < kb.half
	}
	return a < b
}

type key struct{ rank, year, half int }

func seriesKey(s string) key {
	if s == Master {
		return key{rank: 2}
	}
	y, h, ok := strings.Cut(s, ".")
	if ok {
		yi, err1 := strconv.Atoi(y)
		hi, err2 := strconv.Atoi(h)
		if err1 == nil && err2 == nil {
			return key{rank: 1, year: yi, half: hi}
		}
	}
	return key{rank: 0} // the old named series (zed, yoga, ...)
}

// NewestRelease is the newest numbered series of a list (master and the
// old named series are not releases the default should follow), or "".
func NewestRelease(series []string) string {
	best := ""
	for _, s := range series {
		if seriesKey(s).rank == 1 && (best == "" || seriesLess(best, s)) {
			best = s
		}
	}
	return best
}
