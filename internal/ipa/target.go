package ipa

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ipabr/ipabr/internal/errs"
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
		return errs.BadInputf("%q is not a Python 3 version as major.minor (such as 3.14)", v)
	}
	return nil
}

// ReadPython reads the image's Python version, PYTHON3_VERSION_MAJOR in
// package/python3/python3.mk of a Buildroot checkout.
func ReadPython(buildroot string) (string, error) {
	py, err := makeVar(filepath.Join(buildroot, "package", "python3", "python3.mk"), "PYTHON3_VERSION_MAJOR")
	if err != nil {
		return "", err
	}
	if err := ValidatePython(py); err != nil {
		return "", fmt.Errorf("package/python3/python3.mk: %v", err)
	}
	return py, nil
}

// ValidateGlibc checks a glibc version as major.minor.
func ValidateGlibc(v string) error {
	if !glibcVersionRE.MatchString(v) {
		return errs.BadInputf("%q is not a glibc version as major.minor (such as 2.41)", v)
	}
	return nil
}

// GlibcNewer reports whether glibc version a (2.X) is newer than b.
func GlibcNewer(a, b string) bool {
	return ValidateGlibc(a) == nil && ValidateGlibc(b) == nil && VersionLess(b, a)
}

// BootlinGlibcVar prefixes the package's make variables that name the
// glibc of each Bootlin toolchain release (Buildroot itself names it only
// in the commit that moves to a release).
const BootlinGlibcVar = "IRONIC_PYTHON_AGENT_BOOTLIN_GLIBC_"

// ReadGlibc reads the glibc of the image's toolchain for a configuration's
// values (nil: not configured yet, which is the defconfig's internal
// toolchain): Buildroot's own glibc (GLIBC_VERSION in
// package/glibc/glibc.mk), or the glibc of the Bootlin toolchain release
// the configuration selects, from the table in the package's .mk in the
// external tree. Other external toolchains do not say.
func ReadGlibc(buildroot, external string, config map[string]string) (string, error) {
	if config != nil && config["BR2_TOOLCHAIN_EXTERNAL"] == "y" {
		if config["BR2_TOOLCHAIN_EXTERNAL_BOOTLIN"] != "y" {
			return "", errs.BadInputf("the configuration's external toolchain does not say which glibc it has; pass --glibc-version (major.minor, such as 2.41)")
		}
		return bootlinGlibc(buildroot, external, config)
	}
	gl, err := makeVar(filepath.Join(buildroot, "package", "glibc", "glibc.mk"), "GLIBC_VERSION")
	if err != nil {
		return "", err
	}
	// 2.42-67-g4ebd33dd77... : the release is the part before the first dash.
	gl, _, _ = strings.Cut(gl, "-")
	if ValidateGlibc(gl) != nil {
		return "", fmt.Errorf("package/glibc/glibc.mk: GLIBC_VERSION %q is not a glibc 2.x version", gl)
	}
	return gl, nil
}

// bootlinGlibc finds the configuration's Bootlin toolchain, its release
// in toolchain-external-bootlin.mk, and that release's glibc.
func bootlinGlibc(buildroot, external string, config map[string]string) (string, error) {
	var variant string
	for sym, v := range config {
		if v == "y" && strings.HasPrefix(sym, "BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_") && sym != "BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_ARCH_SUPPORTS" {
			variant = sym
		}
	}
	if variant == "" {
		return "", errors.New("the configuration selects no Bootlin toolchain variant")
	}
	mk := filepath.Join(buildroot, "toolchain", "toolchain-external", "toolchain-external-bootlin", "toolchain-external-bootlin.mk")
	data, err := os.ReadFile(mk)
	if err != nil {
		return "", fmt.Errorf("cannot read the Bootlin toolchain's release from Buildroot: %v", err)
	}
	re := regexp.MustCompile(`(?m)^ifeq \(\$\(` + regexp.QuoteMeta(variant) + `\),y\)\s*\nTOOLCHAIN_EXTERNAL_BOOTLIN_VERSION\s*=\s*(\S+)`)
	m := re.FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("%s names no release for %s", mk, variant)
	}
	release := string(m[1])
	gl, err := makeVar(filepath.Join(PackageDir(external), Package+".mk"), BootlinGlibcVar+release)
	if err != nil || ValidateGlibc(gl) != nil {
		return "", fmt.Errorf("ipabr does not know the glibc of Bootlin's toolchain release %s (%s of %s.mk); pass --glibc-version (major.minor, such as 2.41)", release, BootlinGlibcVar+release, Package)
	}
	return gl, nil
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

// ABI is the CPython ABI tag of the target's Python: cp314 for 3.14.
func (t Target) ABI() string { return "cp" + strings.Replace(t.Python, ".", "", 1) }

// String describes the target for messages.
func (t Target) String() string {
	return fmt.Sprintf("CPython %s on x86_64 with glibc %s", t.Python, t.Glibc)
}
