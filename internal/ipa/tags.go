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

// Compatible reports whether a wheel file name's tags fit the target: a
// CPython of the target's version (or an older one through abi3), or pure
// Python 3; and a platform pip would accept for it.
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
	platforms := map[string]bool{"any": true}
	for _, p := range t.Platforms() {
		platforms[p] = true
	}
	platOK := false
	for _, p := range strings.Split(plat, ".") {
		platOK = platOK || platforms[p]
	}
	if !platOK {
		return false
	}
	for _, p := range strings.Split(py, ".") {
		for _, a := range strings.Split(abi, ".") {
			if tagFits(p, a, minor) {
				return true
			}
		}
	}
	return false
}

var pyTagRE = lazyregexp.New(`^(py|cp)3([0-9]*)$`)

func tagFits(py, abi string, minor int) bool {
	m := pyTagRE.FindStringSubmatch(py)
	if m == nil {
		return false
	}
	v := -1 // "py3": any 3.x
	if m[2] != "" {
		v, _ = strconv.Atoi(m[2])
	}
	switch {
	case abi == "none":
		return v <= minor
	case abi == "abi3":
		return m[1] == "cp" && v >= 0 && v <= minor
	default: // cp314 and friends: exactly this interpreter
		return m[1] == "cp" && v == minor && abi == py
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
