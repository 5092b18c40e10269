package report

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// BuildTime is the time each package's steps took, longest package first.
type BuildTime struct {
	TotalSeconds float64       `json:"total_seconds"`
	Packages     []PackageTime `json:"packages"`
}

// PackageTime is one package's steps.
type PackageTime struct {
	Name    string     `json:"name"`
	Seconds float64    `json:"seconds"`
	Steps   []StepTime `json:"steps"`
}

// StepTime is one step of a package.
type StepTime struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// Steps are Buildroot's package steps (package/pkg-generic.mk), in the
// order a build runs them.
var Steps = []string{"download", "actual-download", "extract", "rsync", "patch", "configure", "build",
	"install-host", "install-staging", "install-image", "install-target"}

// Seconds is package name → seconds.
func (b *BuildTime) Seconds() map[string]float64 {
	m := map[string]float64{}
	for _, p := range b.Packages {
		m[p.Name] = p.Seconds
	}
	return m
}

// ReadBuildTime reads build/build-time.log ("time:start|end:step:package"
// lines). A step's time is its last end minus its last start, as
// support/scripts/graph-build-time computes it, so a rebuilt package shows
// its last build.
func ReadBuildTime(path string) (*BuildTime, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type marks struct {
		start, end map[string]float64
		duration   map[string]float64
	}
	var order []string
	pkgs := map[string]*marks{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fields := strings.SplitN(sc.Text(), ":", 4)
		if len(fields) != 4 {
			return nil, fmt.Errorf("%s:%d: %q is not \"time:start|end:step:package\"", path, n, sc.Text())
		}
		t, err := strconv.ParseFloat(strings.TrimSpace(fields[0]), 64)
		state, step, name := strings.TrimSpace(fields[1]), strings.TrimSpace(fields[2]), strings.TrimSpace(fields[3])
		if err != nil || (state != "start" && state != "end") || step == "" || name == "" {
			return nil, fmt.Errorf("%s:%d: %q is not \"time:start|end:step:package\"", path, n, sc.Text())
		}
		m := pkgs[name]
		if m == nil {
			m = &marks{start: map[string]float64{}, end: map[string]float64{}, duration: map[string]float64{}}
			pkgs[name] = m
			order = append(order, name)
		}
		if state == "start" {
			m.start[step] = t
		} else {
			m.end[step] = t
		}
		s, okS := m.start[step]
		e, okE := m.end[step]
		if okS && okE {
			m.duration[step] = e - s
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	bt := &BuildTime{}
	for _, name := range order {
		m := pkgs[name]
		p := PackageTime{Name: name}
		for step, d := range m.duration {
			p.Steps = append(p.Steps, StepTime{Step: step, Seconds: d})
			p.Seconds += d
		}
		sort.Slice(p.Steps, func(i, j int) bool { return stepRank(p.Steps[i].Step) < stepRank(p.Steps[j].Step) })
		bt.TotalSeconds += p.Seconds
		bt.Packages = append(bt.Packages, p)
	}
	sort.SliceStable(bt.Packages, func(i, j int) bool { return bt.Packages[i].Seconds > bt.Packages[j].Seconds })
	return bt, nil
}

// stepRank orders the known steps as Steps does, unknown ones after them
// by name.
func stepRank(step string) string {
	if i := slices.Index(Steps, step); i >= 0 {
		return fmt.Sprintf("%02d", i)
	}
	return "99" + step
}
