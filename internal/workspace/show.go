package workspace

import (
	"fmt"
	"time"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ipa"
)

// LockState is the configured series and its lock (ipabr ipa show --json).
type LockState struct {
	Series     string   `json:"series"`
	From       string   `json:"from"` // the output's .config or the package's default
	Enabled    bool     `json:"enabled"`
	Locked     bool     `json:"locked"`
	LockDir    string   `json:"lock_dir"`
	Created    string   `json:"created,omitempty"`
	AgeSeconds int64    `json:"age_seconds,omitempty"`
	IPAVersion string   `json:"ipa_version,omitempty"`
	IPASource  string   `json:"ipa_source,omitempty"`
	Python     string   `json:"python,omitempty"`
	Glibc      string   `json:"glibc,omitempty"`
	Index      string   `json:"index,omitempty"`
	Extras     []string `json:"extras,omitempty"`
	Packages   int      `json:"packages"`
	Size       int64    `json:"size"`
	LockedAll  []string `json:"locks"`
	Problems   []string `json:"problems,omitempty"`
	Command    string   `json:"lock_command"`
}

// State reads the configured series, its lock, and what no longer
// matches between them, Buildroot and the configuration.
func (l *Locker) State() (*LockState, error) {
	p := l.Settings.Project
	cfg := l.OutputConfig()
	series, from := l.ConfiguredSeries(cfg)
	res := &LockState{
		Series:    series,
		From:      from,
		Enabled:   cfg == nil || cfg.Enabled(ipa.EnableSymbol),
		LockDir:   p.Rel(ipa.LockDir(p.External, series)),
		LockedAll: ipa.Locks(p.External),
	}
	gitURL, gitRef, extras := configuredSource(cfg)
	var lock *ipa.Lock
	if err := ipa.ValidateSeries(series); err != nil {
		res.Problems = append(res.Problems, err.Error())
	} else if ipa.HasLock(p.External, series) {
		var err error
		if lock, err = ipa.ReadLock(p.External, series); err != nil {
			return nil, errs.Failedf("reading the lock of %s: %v", series, err)
		}
		res.Locked = true
		res.Created = lock.Created.Format(time.RFC3339)
		res.AgeSeconds = int64(lock.Age(l.Now()).Seconds())
		res.IPAVersion = lock.IPAVersion
		res.IPASource = lock.IPASource()
		res.Python = lock.Target.Python
		res.Glibc = lock.Target.Glibc
		res.Index = lock.Index
		res.Extras = lock.Extras
		res.Packages = len(lock.Wheels)
		res.Size = lock.TotalSize()
		if py, err := ipa.ReadPython(p.Buildroot); err == nil && py != lock.Target.Python {
			res.Problems = append(res.Problems, fmt.Sprintf("the lock is for Python %s, Buildroot has %s: lock again", lock.Target.Python, py))
		}
		if gl, err := ipa.ReadGlibc(p.Buildroot, p.External, configValues(cfg)); err == nil && ipa.GlibcNewer(lock.Target.Glibc, gl) {
			res.Problems = append(res.Problems, fmt.Sprintf("the lock is for glibc %s, the image's toolchain has %s: lock again", lock.Target.Glibc, gl))
		}
		if gitURL != "" && (gitURL != lock.GitURL || gitRef != lock.GitRef) {
			res.Problems = append(res.Problems, fmt.Sprintf("the configuration asks for IPA from %s@%s, the lock has %s: lock again", gitURL, gitRef, lock.IPASource()))
		}
		have := map[string]bool{}
		for _, e := range lock.Extras {
			have[e] = true
		}
		for _, e := range extras {
			if !have[e] {
				res.Problems = append(res.Problems, fmt.Sprintf("the lock lacks the extra requirement %s: lock again", e))
			}
		}
	}
	res.Command = LockCommand(series, cfg, lock)
	return res, nil
}
