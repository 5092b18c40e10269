package ipa

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipabr/ipabr/internal/lazyregexp"
	"github.com/ipabr/ipabr/internal/project"
)

// SeriesSymbol is the Kconfig option that names the series.
const SeriesSymbol = "BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES"

// The package's other Kconfig options.
const (
	EnableSymbol = "BR2_PACKAGE_IRONIC_PYTHON_AGENT"
	ExtraSymbol  = "BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS"
	GitURLSymbol = "BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_URL"
	GitRefSymbol = "BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_REF"
)

var defaultLineRE = lazyregexp.New(`^(\s*default\s+)"([^"]*)"(.*)$`)

// DefaultSeriesIn reads the series option's default from the package's
// Config.in.
func DefaultSeriesIn(external string) (string, error) {
	_, idx, lines, err := seriesDefault(external)
	if err != nil {
		return "", err
	}
	return defaultLineRE.FindStringSubmatch(lines[idx])[2], nil
}

func seriesDefault(external string) (path string, idx int, lines []string, err error) {
	path = filepath.Join(PackageDir(external), "Config.in")
	data, err := os.ReadFile(path)
	if err != nil {
		return path, 0, nil, err
	}
	lines = strings.Split(string(data), "\n")
	in := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "config ") {
			in = t == "config "+SeriesSymbol
			continue
		}
		if in && defaultLineRE.MatchString(l) {
			return path, i, lines, nil
		}
	}
	return path, 0, nil, fmt.Errorf("%s: no default line for %s", path, SeriesSymbol)
}

// UpdateDefaultSeries makes the series option's default the newest
// numbered series with a lock in the tree, else DefaultSeries, and reports
// the default and whether it changed.
func UpdateDefaultSeries(external string) (string, bool, error) {
	want := NewestRelease(Locks(external))
	if want == "" {
		want = DefaultSeries
	}
	path, idx, lines, err := seriesDefault(external)
	if err != nil {
		return "", false, err
	}
	m := defaultLineRE.FindStringSubmatch(lines[idx])
	if m[2] == want {
		return want, false, nil
	}
	lines[idx] = m[1] + `"` + want + `"` + m[3]
	if err := project.WriteFileAtomic(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return "", false, err
	}
	return want, true, nil
}
