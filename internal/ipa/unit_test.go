package ipa

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/testenv"
)

func TestReadTarget(t *testing.T) {
	br := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(br, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ext := external(t)
	if _, err := ReadPython(br); err == nil {
		t.Error("ReadPython of an empty directory succeeded")
	}
	if _, err := ReadGlibc(br, ext, nil); err == nil {
		t.Error("ReadGlibc of an empty directory succeeded")
	}
	write("package/python3/python3.mk", "# header\nPYTHON3_VERSION_MAJOR = 3.14\nPYTHON3_VERSION = $(PYTHON3_VERSION_MAJOR).5\n")
	write("package/glibc/glibc.mk", "GLIBC_VERSION = 2.42-67-g4ebd33dd77eabe8d4c45232bed4b42a31d2f9edc\n")
	py, err := ReadPython(br)
	if err != nil || py != "3.14" {
		t.Fatalf("ReadPython = %q, %v", py, err)
	}
	internal := map[string]string{"BR2_TOOLCHAIN_BUILDROOT": "y", "BR2_TOOLCHAIN_BUILDROOT_GLIBC": "y"}
	for _, cfg := range []map[string]string{nil, internal} {
		if gl, err := ReadGlibc(br, ext, cfg); err != nil || gl != "2.42" {
			t.Errorf("Buildroot's own glibc (config %v) = %q, %v", cfg, gl, err)
		}
	}
	tg := Target{Python: py, Glibc: "2.42"}
	p := tg.Platforms()
	if p[0] != "manylinux_2_42_x86_64" || p[len(p)-1] != "manylinux1_x86_64" {
		t.Errorf("platforms run %s .. %s", p[0], p[len(p)-1])
	}
	for _, want := range []string{"manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_5_x86_64"} {
		if !contains(p, want) {
			t.Errorf("platforms lack %s", want)
		}
	}
	if contains(p, "manylinux_2_43_x86_64") || contains(p, "linux_x86_64") {
		t.Errorf("platforms beyond the target's glibc or non-portable: %q", p)
	}

	// A Bootlin toolchain: its release from Buildroot, its glibc from the
	// package's table (the real one, copied by external()).
	write("toolchain/toolchain-external/toolchain-external-bootlin/toolchain-external-bootlin.mk",
		"ifeq ($(BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_GLIBC_BLEEDING_EDGE),y)\nTOOLCHAIN_EXTERNAL_BOOTLIN_VERSION = 2025.08-1\nendif\n\n"+
			"ifeq ($(BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_GLIBC_STABLE),y)\nTOOLCHAIN_EXTERNAL_BOOTLIN_VERSION = 2025.08-1\nendif\n\n"+
			"ifeq ($(BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_MUSL_STABLE),y)\nTOOLCHAIN_EXTERNAL_BOOTLIN_VERSION = 2031.02-1\nendif\n")
	bootlin := func(variant string) map[string]string {
		return map[string]string{"BR2_TOOLCHAIN_EXTERNAL": "y", "BR2_TOOLCHAIN_EXTERNAL_BOOTLIN": "y", "BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_ARCH_SUPPORTS": "y", variant: "y"}
	}
	if gl, err := ReadGlibc(br, ext, bootlin("BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_GLIBC_STABLE")); err != nil || gl != "2.41" {
		t.Errorf("Bootlin stable 2025.08-1: %q, %v", gl, err)
	}
	for cfg, why := range map[string]map[string]string{
		"a release the table lacks": bootlin("BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_MUSL_STABLE"),
		"a custom toolchain":        {"BR2_TOOLCHAIN_EXTERNAL": "y", "BR2_TOOLCHAIN_EXTERNAL_CUSTOM": "y"},
	} {
		if _, err := ReadGlibc(br, ext, why); err == nil || !strings.Contains(err.Error(), "--glibc-version") {
			t.Errorf("%s: %v, want the advice to pass --glibc-version", cfg, err)
		}
	}
	if !GlibcNewer("2.42", "2.41") || GlibcNewer("2.41", "2.41") || GlibcNewer("2.9", "2.41") || GlibcNewer("x", "2.1") {
		t.Error("GlibcNewer compares wrongly")
	}
	write("package/python3/python3.mk", "PYTHON3_VERSION_MAJOR = 3.x\n")
	if _, err := ReadPython(br); err == nil {
		t.Error("a malformed Python version was accepted")
	}
}

// The real Buildroot at the pin builds Python 3.14 with glibc 2.42; its
// Bootlin x86-64 glibc toolchains are release 2025.08-1, glibc 2.41.
func TestReadTargetUpstream(t *testing.T) {
	br := testenv.UpstreamCheckout(t)
	py, err := ReadPython(br)
	if err != nil || py != "3.14" {
		t.Errorf("Buildroot 2026.02's Python is %q (%v), want 3.14", py, err)
	}
	ext := external(t)
	if gl, err := ReadGlibc(br, ext, nil); err != nil || gl != "2.42" {
		t.Errorf("Buildroot 2026.02's glibc is %q (%v), want 2.42", gl, err)
	}
	for _, variant := range []string{"BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_GLIBC_STABLE", "BR2_TOOLCHAIN_EXTERNAL_BOOTLIN_X86_64_GLIBC_BLEEDING_EDGE"} {
		cfg := map[string]string{"BR2_TOOLCHAIN_EXTERNAL": "y", "BR2_TOOLCHAIN_EXTERNAL_BOOTLIN": "y", variant: "y"}
		if gl, err := ReadGlibc(br, ext, cfg); err != nil || gl != "2.41" {
			t.Errorf("%s: glibc %q (%v), want 2.41", variant, gl, err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestPipCommand(t *testing.T) {
	r := &PipRequest{Python: "python3", Target: Target{Python: "3.14", Glibc: "2.42"}, IndexURL: "http://127.0.0.1:1/simple",
		Args: []string{"ironic-python-agent==11.0.1"}, Extras: []string{"my-hwm>=1"}, Dir: "/w"}
	c := r.Cmd()
	if c.Name != "python3" || c.Args[0] != "-c" || c.Args[2] != "3.14" {
		t.Fatalf("not the shim with the target's Python: %q %q", c.Name, c.Args[:3])
	}
	line := strings.Join(c.Args[3:], " ")
	for _, want := range []string{
		"install --dry-run", "--report /w/report.json", "--only-binary=:all:", "--implementation cp",
		"--python-version 3.14 --abi cp314", "--platform manylinux_2_42_x86_64", "--platform manylinux2014_x86_64",
		"--index-url http://127.0.0.1:1/simple", "--isolated", "--ignore-installed",
		"-c /w/upper-constraints.txt -r /w/requirements.txt ironic-python-agent==11.0.1 my-hwm>=1",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("pip command lacks %q:\n%s", want, line)
		}
	}
	if !strings.Contains(pipShim, "markers.default_environment = _target") {
		t.Error("the shim does not replace the marker environment")
	}
}

// pip's own words, as pip 23 prints them.
const conflictOutput = `Looking in indexes: http://127.0.0.1:8765/simple
Collecting ironic-python-agent==11.0.1

The conflict is caused by:
    The user requested pbr>=8
    The user requested (constraint) pbr===7.0.3
    oslo-log 8.1.0 depends on pbr>=3.1.1

To fix this you could try to:
1. loosen the range of package versions you've specified

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
`

const noWheelOutput = `Looking in indexes: http://127.0.0.1:8765/simple
ERROR: Could not find a version that satisfies the requirement netifaces==0.11.0 (from versions: none)
ERROR: No matching distribution found for netifaces==0.11.0
`

func TestClassifyPip(t *testing.T) {
	r := &PipRequest{Python: "python3", Target: Target{Python: "3.14", Glibc: "2.42"}, IndexURL: "http://idx/simple", Extras: []string{"pbr>=8"}}
	err := classifyPip(conflictOutput, r)
	ce, ok := err.(*ConflictError)
	if !ok {
		t.Fatalf("conflict: %T %v", err, err)
	}
	want := []string{"--extra pbr>=8", "upper-constraints pins pbr===7.0.3", "oslo-log 8.1.0 depends on pbr>=3.1.1"}
	if !reflect.DeepEqual(ce.Causes, want) {
		t.Errorf("causes = %q, want %q", ce.Causes, want)
	}
	r.Extras = nil
	if err := classifyPip(conflictOutput, r); !strings.Contains(err.Error(), "requirement pbr>=8 (IPA's requirements.txt") {
		t.Errorf("without --extra the side is IPA's: %v", err)
	}
	// A version the previous lock keeps is named as such.
	kept := strings.Replace(conflictOutput, "(constraint) pbr===7.0.3", "(constraint) certifi==2025.11.12", 1)
	r.Keep = []string{"certifi==2025.11.12"}
	if err := classifyPip(kept, r); !strings.Contains(err.Error(), "the previous lock keeps certifi==2025.11.12 (upper-constraints does not pin it; --upgrade-unpinned lets it move)") {
		t.Errorf("a kept version: %v", err)
	}
	r.Keep = nil
	err = classifyPip(noWheelOutput, r)
	nw, ok := err.(*NoWheelError)
	if !ok || nw.Requirement != "netifaces==0.11.0" || nw.Found != "none" {
		t.Fatalf("no wheel: %T %+v", err, err)
	}
	for _, want := range []string{"netifaces==0.11.0", "--extra", "pure-Python", "CPython 3.14", "http://idx/simple"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no-wheel message lacks %q: %v", want, err)
		}
	}
	err = classifyPip("Traceback...\nKeyError: boom\n", r)
	if pe, ok := err.(*PipError); !ok || !strings.Contains(pe.Output, "KeyError: boom") {
		t.Errorf("other failures keep pip's last lines: %T %v", err, err)
	}
	if err := classifyPip("Traceback\n"+shimFailure+"\n", r); err == nil || !strings.Contains(err.Error(), "resolved for the host's Python") {
		t.Errorf("the shim's own check: %v", err)
	}
	// Requires-Python unmet: for the host's Python (pip before 24.2), or the image's.
	err = classifyPip("ERROR: Package 'ironic-python-agent' requires a different Python: 3.9.18 not in '>=3.10'\n", r)
	if rp, ok := err.(*RequiresPythonError); !ok || !rp.HostOnly || !strings.Contains(err.Error(), "against the host's Python 3.9.18 instead of the image's 3.14") {
		t.Errorf("host's Requires-Python: %T %v", err, err)
	}
	err = classifyPip("ERROR: Package 'x' requires a different Python: 3.14.0 not in '<3.12'\n", r)
	if rp, ok := err.(*RequiresPythonError); !ok || rp.HostOnly || !strings.Contains(err.Error(), "x requires Python <3.12; the image has Python 3.14") {
		t.Errorf("image's Requires-Python: %T %v", err, err)
	}
	// The interpreter is named, with the path Python gives.
	r.Python = ""
	err = classifyPip("/usr/bin/python3: No module named pip\n", r)
	if np, ok := err.(*NoPipError); !ok || !strings.Contains(err.Error(), "pip is not installed for python3 (/usr/bin/python3)") || !strings.Contains(err.Error(), "--python") {
		t.Errorf("missing pip: %T %v", np, err)
	}
}

func TestParseReport(t *testing.T) {
	report := `{"version": "1", "pip_version": "23.0.1", "environment": {"python_version": "3.14"}, "install": [
	 {"download_info": {"url": "https://files.example/p/pbr-7.0.3-py3-none-any.whl", "archive_info": {"hash": "sha256=` + strings.Repeat("a", 64) + `"}},
	  "requested": false, "metadata": {"name": "pbr", "version": "7.0.3", "license": "Apache-2.0"}},
	 {"download_info": {"url": "https://files.example/p/psutil-7.2.2-cp36-abi3-manylinux2014_x86_64.whl", "archive_info": {"hashes": {"sha256": "` + strings.Repeat("b", 64) + `"}}},
	  "requested": true, "metadata": {"name": "psutil", "version": "7.2.2", "license": "", "classifier": ["License :: OSI Approved :: BSD License", "Topic :: System"]}},
	 {"download_info": {"url": "https://files.example/p/x-1-py3-none-any.whl", "archive_info": {}},
	  "requested": true, "metadata": {"name": "x", "version": "1"}}
	]}`
	got, err := ParseReport([]byte(report), "3.14")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].SHA256 != strings.Repeat("a", 64) || got[1].SHA256 != strings.Repeat("b", 64) || got[2].SHA256 != "" {
		t.Errorf("hashes: %+v", got)
	}
	if got[0].License != "Apache-2.0" || got[1].License != "BSD License" || got[2].License != "unknown" {
		t.Errorf("licenses: %q %q %q", got[0].License, got[1].License, got[2].License)
	}
	// pip 22.2 and 22.3 write version 0 of the same format.
	v0 := strings.Replace(report, `"version": "1"`, `"version": "0"`, 1)
	if got, err := ParseReport([]byte(v0), "3.14"); err != nil || len(got) != 3 {
		t.Errorf("a version 0 report: %d entries, %v", len(got), err)
	}
	if _, err := ParseReport([]byte(`{"version": "2", "environment": {"python_version": "3.14"}, "install": []}`), "3.14"); err == nil {
		t.Error("a report of another version was accepted")
	}
	// A resolution with the host's markers is not the image's.
	_, err = ParseReport([]byte(strings.Replace(report, `"python_version": "3.14"`, `"python_version": "3.11"`, 1)), "3.14")
	if err == nil || !strings.Contains(err.Error(), `Python "3.11", not the image's 3.14`) {
		t.Errorf("a report for the host's Python: %v", err)
	}
	if _, err := ParseReport([]byte(`not json`), "3.14"); err == nil {
		t.Error("garbage was accepted")
	}
}

func TestLicenseRule(t *testing.T) {
	cases := []struct {
		expr, field string
		cls         []string
		want        string
	}{
		{"Apache-2.0", "whatever", nil, "Apache-2.0"},
		{"", "BSD-3-Clause", nil, "BSD-3-Clause"},
		{"", "UNKNOWN", []string{"License :: OSI Approved :: Apache Software License"}, "Apache Software License"},
		{"", strings.Repeat("long text ", 10), []string{"License :: OSI Approved :: MIT License"}, "MIT License"},
		{"", "MIT\n  License", nil, "MIT License"},
		{"", "", []string{"License :: OSI Approved", "Topic :: X"}, "unknown"},
		{"", "", []string{"License :: OSI Approved :: MIT License", "License :: OSI Approved :: Apache Software License"}, "MIT License, Apache Software License"},
	}
	for _, c := range cases {
		if got := License(c.expr, c.field, c.cls); got != c.want {
			t.Errorf("License(%q, %q, %q) = %q, want %q", c.expr, c.field, c.cls, got, c.want)
		}
	}
}

func TestWheelFilename(t *testing.T) {
	good := map[string]string{
		"https://files.pythonhosted.org/packages/ab/cd/ef/pbr-7.0.3-py3-none-any.whl":     "pbr-7.0.3-py3-none-any.whl",
		"http://127.0.0.1:8000/files/oslo_config-10.3.0-py3-none-any.whl#sha256=abc":      "oslo_config-10.3.0-py3-none-any.whl",
		"https://x/psutil-7.2.2-cp36-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": "psutil-7.2.2-cp36-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"https://mirror.example.com/pypi/packages/Werkzeug-3.1.6-py3-none-any.whl?x":      "",
		"https://x/a+b/pbr-7.0.3-py3-none-any.whl":                                        "",
		"https://x/$(shell id)/pbr-7.0.3-py3-none-any.whl":                                "",
		"https://x/p p/pbr-7.0.3-py3-none-any.whl":                                        "",
		"https://x/pbr-7.0.3+local-py3-none-any.whl":                                      "",
		"https://x/pbr-7.0.3.tar.gz":                                                      "",
		"https://x/%24/pbr-7.0.3-py3-none-any.whl":                                        "pbr-7.0.3-py3-none-any.whl",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl'":                                  "",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl\"":                                 "",
		"https://x/packages/" + strings.Repeat("a", 3) + "%2Bb-1-py3-none-any.whl":        "",
		"https://user@x/packages/pbr-7.0.3-py3-none-any.whl":                              "pbr-7.0.3-py3-none-any.whl",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl#md5=1":                             "pbr-7.0.3-py3-none-any.whl",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl\n":                                 "",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl\\":                                 "",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl;":                                  "",
		"ftp://x/pbr-7.0.3-py3-none-any.whl":                                              "",
		"https://x/packages/%0A-py3-none-any.whl":                                         "",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl/":                                  "",
		"https://x/packages/" + "pbr-7.0.3-py3-none-any.whl":                              "pbr-7.0.3-py3-none-any.whl",
		"https://x/packages/pbr-7.0.3-py3-none-any.whl#":                                  "pbr-7.0.3-py3-none-any.whl",
		"https://x/packages/Pint-0.24.4-py3-none-any.whl":                                 "Pint-0.24.4-py3-none-any.whl",
		"https://x/packages/backports.strenum-1.3.1-py3-none-any.whl":                     "backports.strenum-1.3.1-py3-none-any.whl",
		"http://127.0.0.1:1/files/zeroconf-0.148.0-cp314-cp314-manylinux_2_36_x86_64.whl": "zeroconf-0.148.0-cp314-cp314-manylinux_2_36_x86_64.whl",
	}
	for u, want := range good {
		got, err := WheelFilename(u)
		if want == "" && err == nil {
			t.Errorf("WheelFilename(%q) = %q, want an error", u, got)
		}
		if want != "" && (err != nil || got != want) {
			t.Errorf("WheelFilename(%q) = %q, %v; want %q", u, got, err, want)
		}
	}
}

func TestValidateExtraAndSource(t *testing.T) {
	for _, ok := range []string{"my-hardware-manager", "my_hwm>=1.0,<2", "hwm;sys_platform!=win32", "hwm[extra]==1.0", "./dist/hwm-1.0-py3-none-any.whl"} {
		if err := ValidateExtra(ok); err != nil {
			t.Errorf("ValidateExtra(%q) = %v", ok, err)
		}
	}
	// A double quote does not survive Buildroot's qstrip.
	for _, bad := range []string{"", "hwm >= 1", "hwm#x", `hwm;python_version>="3.12"`, "$(shell id)", "hwm'", "`id`", "a\\b", "-r/etc/passwd", "--index-url=http://evil"} {
		if err := ValidateExtra(bad); err == nil {
			t.Errorf("ValidateExtra(%q) accepted it", bad)
		}
	}
	for in, want := range map[string][2]string{
		"https://opendev.org/openstack/ironic-python-agent@master":                          {"https://opendev.org/openstack/ironic-python-agent", "master"},
		"git@github.com:me/ipa.git@my-branch":                                               {"git@github.com:me/ipa.git", "my-branch"},
		"https://review.opendev.org/openstack/ironic-python-agent@refs/changes/45/123445/3": {"https://review.opendev.org/openstack/ironic-python-agent", "refs/changes/45/123445/3"},
	} {
		u, r, err := ParseSource(in)
		if err != nil || u != want[0] || r != want[1] {
			t.Errorf("ParseSource(%q) = %q, %q, %v", in, u, r, err)
		}
	}
	for _, bad := range []string{"https://opendev.org/openstack/ironic-python-agent", "git@github.com:me/ipa.git", "url@", "@ref", "u@r'x", "u@$(x)"} {
		if _, _, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) accepted it", bad)
		}
	}
}

func sampleLock() *Lock {
	return &Lock{
		Series:     "2026.1",
		Created:    time.Date(2026, 8, 22, 10, 0, 0, 0, time.UTC),
		Target:     Target{Python: "3.14", Glibc: "2.42"},
		Index:      "https://pypi.org/simple",
		IPAVersion: "11.0.1",
		Extras:     []string{"my-hardware-manager>=1.0"},
		Wheels: []Wheel{
			{Name: "ironic-python-agent", Version: "11.0.1", Filename: "ironic_python_agent-11.0.1-py3-none-any.whl",
				URL: "https://files.example/ironic_python_agent-11.0.1-py3-none-any.whl", SHA256: strings.Repeat("1", 64), Size: 1000, License: "Apache Software License"},
			{Name: "my-hardware-manager", Version: "1.0", Filename: "my_hardware_manager-1.0-py3-none-any.whl",
				URL: LocalURL("2026.1", "my_hardware_manager-1.0-py3-none-any.whl"), SHA256: strings.Repeat("2", 64), Size: 20, License: "MIT", Local: []byte("wheel bytes")},
			{Name: "psutil", Version: "7.2.2", Filename: "psutil-7.2.2-cp36-abi3-manylinux2014_x86_64.whl",
				URL: "https://files.example/psutil-7.2.2-cp36-abi3-manylinux2014_x86_64.whl", SHA256: strings.Repeat("3", 64), Size: 300, License: "BSD License"},
		},
	}
}

func TestRenderAndReadBack(t *testing.T) {
	ext := external(t)
	l := sampleLock()
	if err := l.Write(ext); err != nil {
		t.Fatal(err)
	}
	dir := LockDir(ext, "2026.1")
	mk, _ := os.ReadFile(filepath.Join(dir, LockFile))
	for _, want := range []string{
		"################################################################################\n#\n# ironic-python-agent\n#\n################################################################################\n\n",
		"#   ipabr ipa lock --release 2026.1 --extra 'my-hardware-manager>=1.0'\n",
		"IRONIC_PYTHON_AGENT_LOCK_SERIES = 2026.1\n",
		"IRONIC_PYTHON_AGENT_LOCK_PYTHON = 3.14\n",
		"IRONIC_PYTHON_AGENT_LOCK_GIT_URL =\n",
		"IRONIC_PYTHON_AGENT_LOCK_EXTRA = my-hardware-manager>=1.0\n",
		"IRONIC_PYTHON_AGENT_LICENSE = Apache Software License, BSD License, MIT\n",
		"IRONIC_PYTHON_AGENT_EXTRA_DOWNLOADS = \\\n\thttps://files.example/ironic_python_agent-11.0.1-py3-none-any.whl \\\n\tfile+file://$(IRONIC_PYTHON_AGENT_PKGDIR)/2026.1/wheels/my_hardware_manager-1.0-py3-none-any.whl \\\n\thttps://files.example/psutil-7.2.2-cp36-abi3-manylinux2014_x86_64.whl\n",
	} {
		if !strings.Contains(string(mk), want) {
			t.Errorf("%s lacks %q:\n%s", LockFile, want, mk)
		}
	}
	hash, _ := os.ReadFile(filepath.Join(dir, HashFile))
	if !strings.Contains(string(hash), "sha256  "+strings.Repeat("3", 64)+"  psutil-7.2.2-cp36-abi3-manylinux2014_x86_64.whl\n") {
		t.Errorf("hash file:\n%s", hash)
	}
	if local, err := os.ReadFile(filepath.Join(dir, WheelsDir, "my_hardware_manager-1.0-py3-none-any.whl")); err != nil || string(local) != "wheel bytes" {
		t.Errorf("the local wheel was not kept: %q %v", local, err)
	}
	man, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if !strings.Contains(string(man), "psutil               7.2.2    300   "+strings.Repeat("3", 64)+"  BSD License\n") {
		t.Errorf("manifest:\n%s", man)
	}
	got, err := ReadLock(ext, "2026.1")
	if err != nil {
		t.Fatal(err)
	}
	want := sampleLock()
	for i := range want.Wheels {
		want.Wheels[i].Local = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadLock = %+v\nwant       %+v", got, want)
	}
	if got.TotalSize() != 1320 {
		t.Errorf("TotalSize = %d", got.TotalSize())
	}
}

func TestWriteKeepsPreviousLockOnFailure(t *testing.T) {
	ext := external(t)
	if err := sampleLock().Write(ext); err != nil {
		t.Fatal(err)
	}
	dir := LockDir(ext, "2026.1")
	before := snapshot(t, dir)
	bad := sampleLock()
	bad.Wheels[2].SHA256 = "not-a-hash"
	if err := bad.Write(ext); err == nil {
		t.Fatal("a lock with a bad hash was written")
	}
	dup := sampleLock()
	dup.Wheels[1].Filename = dup.Wheels[0].Filename
	if err := dup.Write(ext); err == nil {
		t.Fatal("a lock with a wheel twice was written")
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Error("a failed write changed the previous lock")
	}
	// A good lock replaces it whole: the old wheels/ directory goes.
	next := sampleLock()
	next.Wheels = next.Wheels[2:]
	next.Extras = nil
	if err := next.Write(ext); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, WheelsDir)); !os.IsNotExist(err) {
		t.Error("the replaced lock's wheels/ survived")
	}
	entries, _ := os.ReadDir(PackageDir(ext))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCompatible(t *testing.T) {
	tg := Target{Python: "3.14", Glibc: "2.42"}
	for f, want := range map[string]bool{
		"pbr-7.0.3-py3-none-any.whl":                                            true,
		"six-1.16.0-py2.py3-none-any.whl":                                       true,
		"psutil-7.2.2-cp36-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": true,
		"zeroconf-0.148.0-cp314-cp314-manylinux_2_36_x86_64.whl":                true,
		"zeroconf-0.148.0-cp311-cp311-manylinux_2_17_x86_64.whl":                false,
		"netifaces-0.11.0-cp39-cp39-manylinux1_x86_64.whl":                      false,
		"x-1-cp314-cp314-manylinux_2_43_x86_64.whl":                             false,
		"x-1-cp314-cp314-musllinux_1_2_x86_64.whl":                              false,
		"x-1-cp314-cp314-manylinux_2_17_aarch64.whl":                            false,
		"x-1-cp314-cp314-win_amd64.whl":                                         false,
		"x-1-cp315-abi3-manylinux_2_17_x86_64.whl":                              false,
		"x-1-py2-none-any.whl":                                                  false,
		"x-1-py315-none-any.whl":                                                false,
		"cryptography-43.0.3-cp39-abi3-manylinux_2_28_x86_64.whl":               true,
		// pip offers the interpreter's own cp3X-none, not an older one's.
		"x-1-cp314-none-any.whl":                     true,
		"x-1-cp313-none-any.whl":                     false,
		"x-1-cp313-none-manylinux_2_17_x86_64.whl":   false,
		"x-1-py313-none-manylinux_2_17_x86_64.whl":   true,
		"x-1-cp32-abi3-manylinux_2_17_x86_64.whl":    true,
		"x-1-cp31-abi3-manylinux_2_17_x86_64.whl":    false,
		"x-1-cp314-cp314-any.whl":                    false,
		"x-1-cp39-abi3-any.whl":                      false,
		"x-1-cp314-cp314t-manylinux_2_17_x86_64.whl": false,
	} {
		if got := tg.Compatible(f); got != want {
			t.Errorf("Compatible(%s) = %v, want %v", f, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:s3cret@pypi.example.com/simple": "https://user:xxxxx@pypi.example.com/simple",
		"https://token@pypi.example.com/simple":       "https://token@pypi.example.com/simple",
		"https://pypi.org/simple":                     "https://pypi.org/simple",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCheckPipVersions: the version line of each pip, as pip prints it;
// below 22.2 the message names the version, the need and the fix.
func TestCheckPipVersions(t *testing.T) {
	for line, tooOld := range map[string]bool{
		"pip 21.2.3 from /usr/lib/python3.9/site-packages/pip (python 3.9)":  true,
		"pip 22.0.2 from /usr/lib/python3/dist-packages/pip (python 3.10)":   true,
		"pip 22.2 from /tmp/pip/pip (python 3.11)":                           false,
		"pip 24.1b1 from /x/pip (python 3.12)":                               false,
		"pip 26.3.dev0 from /home/me/src/pip/src/pip (python 3.14)":          false,
		"pip 100.0 from /x/pip (python 3.20)":                                false,
		"pip 9.0.1 from /usr/lib/python2.7/dist-packages (python 2.7)":       true,
		"pip 23.0.1 from /usr/lib/python3/dist-packages/pip (python 3.11)\n": false,
	} {
		stub := processtest.New(t)
		stub.Register(`^python3 -m pip --version$`, func(c process.Cmd) error {
			fmt.Fprintln(c.Stdout, line)
			return nil
		})
		info, err := CheckPip(context.Background(), stub, "")
		if got := stub.Commands(); len(got) != 1 || got[0] != "python3 -m pip --version" {
			t.Errorf("commands %q", got)
		}
		var old *PipTooOldError
		if errors.As(err, &old) != tooOld {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if tooOld {
			msg := err.Error()
			for _, want := range []string{"pip " + info.Version + " of python3 is too old", "needs pip 22.2 or newer", "-m venv", "--python", "ipa.python", "IPABR_IPA_PYTHON", "PYTHONNOUSERSITE=1"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q: the message lacks %q: %s", line, want, msg)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("not one line: %s", msg)
			}
		}
	}
	stub := processtest.New(t)
	stub.Register(`^/opt/py/bin/python3 -m pip --version$`, func(c process.Cmd) error {
		fmt.Fprintln(c.Stdout, "Python 3.11.2")
		return nil
	})
	if _, err := CheckPip(context.Background(), stub, "/opt/py/bin/python3"); err == nil || !strings.Contains(err.Error(), "/opt/py/bin/python3 -m pip --version printed") {
		t.Errorf("an unknown answer: %v", err)
	}
}

// TestLockFilesWithoutDates: only the manifest's first line says when the
// lock was made; Unchanged sees a lock with the same content as the one
// written, whatever its time, and Differences names what moved.
func TestLockFilesWithoutDates(t *testing.T) {
	ext := external(t)
	l := sampleLock()
	l.IPARequested = "11.0.1"
	l.Unpinned = []string{"my-hardware-manager", "psutil"}
	if err := l.Write(ext); err != nil {
		t.Fatal(err)
	}
	later := sampleLock()
	later.IPARequested, later.Unpinned = l.IPARequested, l.Unpinned
	later.Created = l.Created.Add(90 * 24 * time.Hour)
	mk1, hash1, man1 := l.Render()
	mk2, hash2, man2 := later.Render()
	if string(mk1) != string(mk2) || string(hash1) != string(hash2) {
		t.Error("the make fragment or the hash file depends on the lock's time")
	}
	if a, b := strings.SplitN(string(man1), "\n", 2), strings.SplitN(string(man2), "\n", 2); a[0] == b[0] || a[1] != b[1] {
		t.Errorf("the manifest differs beyond its first line:\n%s\n%s", man1, man2)
	}
	if !strings.Contains(string(mk1), "#   ipabr ipa lock --release 2026.1 --extra 'my-hardware-manager>=1.0' --ipa-version 11.0.1\n") {
		t.Errorf("the regenerate command lacks --ipa-version:\n%s", mk1)
	}
	back, err := ReadLock(ext, "2026.1")
	if err != nil || back.IPARequested != "11.0.1" || !reflect.DeepEqual(back.Unpinned, l.Unpinned) || !back.Created.Equal(l.Created) {
		t.Fatalf("ReadLock: %+v %v", back, err)
	}
	if !later.Unchanged(ext) || !later.Created.Equal(l.Created) {
		t.Errorf("the same lock made later is not unchanged (created %s)", later.Created)
	}
	moved := sampleLock()
	moved.IPARequested, moved.Unpinned = l.IPARequested, l.Unpinned
	moved.Wheels[2].Version, moved.Wheels[2].SHA256 = "7.2.3", strings.Repeat("4", 64)
	moved.Wheels[1].Local = []byte("other wheel bytes")
	if moved.Unchanged(ext) {
		t.Error("a lock with another psutil is unchanged")
	}
	got := Differences(l, moved)
	if want := []string{"psutil 7.2.2 → 7.2.3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Differences = %q, want %q", got, want)
	}
	moved = sampleLock()
	moved.IPARequested, moved.Unpinned = l.IPARequested, l.Unpinned
	moved.Wheels[1].Local = []byte("other wheel bytes")
	if moved.Unchanged(ext) {
		t.Error("a lock with another kept wheel is unchanged")
	}
	moved.Wheels = moved.Wheels[:2]
	moved.Target.Glibc = "2.41"
	if got := Differences(l, moved); len(got) != 2 || !strings.Contains(got[0], "glibc 2.42 → CPython 3.14 on x86_64 with glibc 2.41") || got[1] != "psutil 7.2.2 goes" {
		t.Errorf("Differences = %q", got)
	}
}
