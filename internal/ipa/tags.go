package ipa

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// Compatible reports whether a wheel file name's tags fit the target the
// way pip (run with --abi for it) decides: one of its interpreter, ABI and
// platform combinations is among the tags pip accepts.
func (t Target) Compatible(filename string) bool {
	name := strings.TrimSuffix(filename, ".whl")
	parts := strings.Split(name, "-")
	if len(parts) < 5 {
		return false
	}
	py, abi, plat := parts[len(parts)-3], parts[len(parts)-2], parts[len(parts)-1]
	minor := 0
	if _, m, ok := strings.Cut(t.Python, "."); ok {
		minor, _ = strconv.Atoi(m)
	}
	platforms := map[string]bool{}
	for _, p := range t.Platforms() {
		platforms[p] = true
	}
	for _, p := range strings.Split(py, ".") {
		for _, a := range strings.Split(abi, ".") {
			for _, pl := range strings.Split(plat, ".") {
				if tagFits(p, a, pl, minor, platforms) {
					return true
				}
			}
		}
	}
	return false
}

var pyTagRE = lazyregexp.New(`^(py|cp)3([0-9]*)$`)

// tagFits is one tag against pip's list for CPython 3.minor: the
// interpreter's own ABI and abi3 (cp3.2 onwards) on the platforms; no ABI
// on the platforms or "any" for py3, py3X up to the target's and the
// interpreter itself (cp3X-none, never an older cp3Y-none).
func tagFits(py, abi, plat string, minor int, platforms map[string]bool) bool {
	m := pyTagRE.FindStringSubmatch(py)
	if m == nil {
		return false
	}
	v := -1 // "py3": any 3.x
	if m[2] != "" {
		v, _ = strconv.Atoi(m[2])
	}
	cp := m[1] == "cp"
	switch {
	case abi == "none":
		if plat != "any" && !platforms[plat] {
			return false
		}
		if cp {
			return v == minor
		}
		return v <= minor
	case !platforms[plat] || !cp:
		return false
	case abi == "abi3":
		return v >= 2 && v <= minor
	default: // cp314 and friends: exactly this interpreter
		return v == minor && abi == py
	}
}

var hrefRE = lazyregexp.New(`href="([^"#]+\.whl)(#[^"]*)?"`)

// wheelsOnIndex lists the wheel file names the index offers for a project.
func wheelsOnIndex(ctx context.Context, c *http.Client, index, project string) ([]string, error) {
	data, status, err := httpGet(ctx, client(c), strings.TrimRight(index, "/")+"/"+normalize(project)+"/")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", status)
	}
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(string(data), -1) {
		out = append(out, m[1][strings.LastIndexByte(m[1], '/')+1:])
	}
	return out, nil
}

var pinCauseRE = lazyregexp.New(`^upper-constraints pins ([A-Za-z0-9._-]+)===(\S+)$`)

// wheelless turns a conflict whose constraint pins a version without a
// wheel for the image into the NoWheelError it really is: pip reports both
// the same way.
func wheelless(ctx context.Context, c *http.Client, ce *ConflictError, r *PipRequest) error {
	for _, cause := range ce.Causes {
		m := pinCauseRE.FindStringSubmatch(cause)
		if m == nil {
			continue
		}
		files, err := wheelsOnIndex(ctx, c, r.IndexURL, m[1])
		if err != nil {
			continue
		}
		pinned := false
		var usable []string
		seen := map[string]bool{}
		for _, f := range files {
			parts := strings.Split(f, "-")
			if len(parts) < 5 {
				continue
			}
			if !r.Target.Compatible(f) {
				continue
			}
			if parts[1] == m[2] {
				pinned = true
			}
			if !seen[parts[1]] {
				seen[parts[1]] = true
				usable = append(usable, parts[1])
			}
		}
		if !pinned {
			sort.Strings(usable)
			found := "none"
			if len(usable) > 0 {
				found = strings.Join(usable, ", ") + " (not the pinned " + m[2] + ")"
			}
			return &NoWheelError{Requirement: m[1] + "==" + m[2], Found: found, Target: r.Target, Index: r.IndexURL}
		}
	}
	return ce
}
