package report

import (
	"cmp"
	"sort"
)

// Comparison is this build against another: the difference per package
// in root filesystem size and in build time, biggest change first.
type Comparison struct {
	Output    string           `json:"output"`
	Size      []Delta[int64]   `json:"size"`
	SizeTotal Delta[int64]     `json:"size_total"`
	Time      []Delta[float64] `json:"time"`
	TimeTotal Delta[float64]   `json:"time_total"`
	Initramfs *Delta[int64]    `json:"initramfs,omitempty"`
}

// Delta is one package in both builds, or added or removed.
type Delta[T int64 | float64] struct {
	Package string `json:"package"`
	// Change is "added", "removed" or "" (in both).
	Change string `json:"change,omitempty"`
	Old    T      `json:"old"`
	New    T      `json:"new"`
	Diff   T      `json:"diff"`
}

// Compare compares r (the new build) with old, per package as Buildroot's
// utils/size-stats-compare does: the difference of each package in both,
// a package only in r as added, one only in old as removed. Unchanged
// packages are left out; the totals cover every package.
func Compare(r, old *Report) *Comparison {
	c := &Comparison{Output: old.Output}
	c.Size, c.SizeTotal = deltas(old.Rootfs.Sizes(), r.Rootfs.Sizes())
	c.Time, c.TimeTotal = deltas(old.BuildTime.Seconds(), r.BuildTime.Seconds())
	if r.Images.Initramfs != nil && old.Images.Initramfs != nil {
		o, n := old.Images.Initramfs.Size, r.Images.Initramfs.Size
		c.Initramfs = &Delta[int64]{Package: r.Images.Initramfs.File, Old: o, New: n, Diff: n - o}
	}
	return c
}

func deltas[T int64 | float64](old, new map[string]T) ([]Delta[T], Delta[T]) {
	var out []Delta[T]
	total := Delta[T]{Package: "TOTAL"}
	for name, n := range new {
		total.New += n
		o, ok := old[name]
		d := Delta[T]{Package: name, Old: o, New: n, Diff: n - o}
		if !ok {
			d.Change = "added"
		}
		if d.Diff != 0 || !ok {
			out = append(out, d)
		}
	}
	for name, o := range old {
		total.Old += o
		if _, ok := new[name]; !ok {
			out = append(out, Delta[T]{Package: name, Change: "removed", Old: o, Diff: -o})
		}
	}
	total.Diff = total.New - total.Old
	sort.Slice(out, func(i, j int) bool {
		if c := cmp.Compare(abs(out[j].Diff), abs(out[i].Diff)); c != 0 {
			return c < 0
		}
		return out[i].Package < out[j].Package
	})
	return out, total
}

func abs[T int64 | float64](v T) T {
	if v < 0 {
		return -v
	}
	return v
}
