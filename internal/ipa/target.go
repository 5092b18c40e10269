package ipa

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// Target is what pip resolves for: the image's Python and C library.
type Target struct {
	Python string // major.minor, e.g. 3.14
	Glibc  string // major.minor, e.g. 2.42
}

// minGlibc is the oldest manylinux_2_X platform tag offered to pip
// (manylinux1 is glibc 2.5).
const minGlibcMinor = 5

var (
	pythonVersionRE = lazyregexp.New(`^3\.[0-9]{1,2}$`)
	glibcVersionRE  = lazyregexp.New(`^2\.([0-9]{1,2})$`)
)

// ValidatePython checks a major.minor Python version.
func ValidatePython(v string) error {
	if !pythonVersionRE.MatchString(v) {
		return fmt.Errorf("%q is not a Python 3 version as major.minor (such as 3.14)", v)
	}
	return nil
}

// ReadTarget reads the target's Python version (PYTHON3_VERSION_MAJOR in
// package/python3/python3.mk) and glibc version (GLIBC_VERSION in
// package/glibc/glibc.mk) from a Buildroot checkout.
func ReadTarget(buildroot string) (Target, error) {
	var t Target
	py, err := makeVar(filepath.Join(buildroot, "package", "python3", "python3.mk"), "PYTHON3_VERSION_MAJOR")
	if err != nil {
		return t, err
	}
	if err := ValidatePython(py); err != nil {
		return t, fmt.Errorf("package/python3/python3.mk: %v", err)
	}
	t.Python = py
	gl, err := makeVar(filepath.Join(buildroot, "package", "glibc", "glibc.mk"), "GLIBC_VERSION")
	if err != nil {
		return t, err
	}
	// 2.42-67-g4ebd33dd77... : the release is the part before the first dash.
	gl, _, _ = strings.Cut(gl, "-")
	if !glibcVersionRE.MatchString(gl) {
		return t, fmt.Errorf("package/glibc/glibc.mk: GLIBC_VERSION %q is not a glibc 2.x version", gl)
	}
	t.Glibc = gl
	return t, nil
}

// makeVar returns the value of the first simple assignment to name in a
// makefile.
func makeVar(path, name string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s from Buildroot: %v", name, err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `\s*:?=\s*(\S+)\s*$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			return m[1], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s sets no %s", path, name)
}

// Platforms are the pip --platform tags for an x86_64 glibc target, most
// preferred first: manylinux_2_X for X from the target's glibc down to 2.5,
// then the legacy aliases (manylinux2014 = 2.17, manylinux2010 = 2.12,
// manylinux1 = 2.5). pip adds "any" by itself.
func (t Target) Platforms() []string {
	minor := 17
	if m := glibcVersionRE.FindStringSubmatch(t.Glibc); m != nil {
		minor, _ = strconv.Atoi(m[1])
	}
	var p []string
	for x := minor; x >= minGlibcMinor; x-- {
		p = append(p, fmt.Sprintf("manylinux_2_%d_x86_64", x))
	}
	for _, legacy := range []struct {
		name  string
		glibc int
	}{{"manylinux2014", 17}, {"manylinux2010", 12}, {"manylinux1", 5}} {
		if minor >= legacy.glibc {
			p = append(p, legacy.name+"_x86_64")
		}
	}
	return p
}

// String describes the target for messages.
func (t Target) String() string {
	return fmt.Sprintf("CPython %s on x86_64 with glibc %s", t.Python, t.Glibc)
}
