// Package config is ipabr's settings: one table of keys drives loading
// (viper: flags over IPABR_* over the original ipa-buildroot README's BR2_*
// environment over ipabr.yaml over defaults), `ipabr help environment` and
// the generated reference. Settings carry where each value came from, so
// an error about a value names its flag, variable or file line.
package config

import (
	"strconv"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/ccache"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/term"
)

// Setting is one configuration key: its ipabr.yaml name, the environment
// variables that set it (IPABR_* first, then the original README's BR2_*),
// the global flag if any, its default and its documentation.
type Setting struct {
	Key  string
	Envs []string
	Flag string // a global flag's name, without dashes
	// Path: relative values resolve against the project root (file,
	// default) or the working directory (flag, environment).
	Path    bool
	Default string // the value when nothing sets it (a path relative to the root)
	Shown   string // the default as the documentation shows it
	Help    string
	// Check refuses a value that cannot be used; the caller names its origin.
	Check func(string) error
}

// Table is every key.
var Table = []Setting{
	{Key: "output", Envs: []string{"IPABR_OUTPUT", "BR2_OUTPUT_DIR"}, Flag: "output", Path: true, Default: "output",
		Help: "Buildroot output directory (O=)", Shown: "$BR2_IPA_REPO/output"},
	{Key: "buildroot.path", Envs: []string{"IPABR_BUILDROOT_PATH", "BR2_UPSTREAM"}, Path: true, Default: "buildroot",
		Help: "the Buildroot checkout (make -C)", Shown: "$BR2_IPA_REPO/buildroot"},
	{Key: "buildroot.url", Envs: []string{"IPABR_BUILDROOT_URL"},
		Help: "where `ipabr init` fetches Buildroot from (a mirror)", Shown: "the url in .gitmodules"},
	{Key: "external", Envs: []string{"IPABR_EXTERNAL", "BR2_EXTERNAL"}, Path: true, Default: "buildroot-ipa",
		Help: "the BR2_EXTERNAL tree", Shown: "$BR2_IPA_REPO/buildroot-ipa"},
	{Key: "dl_dir", Envs: []string{"IPABR_DL_DIR", "BR2_DL_DIR"}, Path: true, Default: "dl",
		Help: "download cache (BR2_DL_DIR)", Shown: "$BR2_IPA_REPO/dl"},
	{Key: "ccache_dir", Envs: []string{"IPABR_CCACHE_DIR", "BR2_CCACHE_DIR"}, Path: true, Default: "ccache",
		Help: "compiler cache (BR2_CCACHE_DIR)", Shown: "$BR2_IPA_REPO/ccache"},
	{Key: "defconfig", Envs: []string{"IPABR_DEFCONFIG"}, Default: "openstack_ipa_defconfig",
		Help: "defconfig `ipabr configure` loads"},
	{Key: "color", Envs: []string{"IPABR_COLOR"}, Flag: "color", Default: term.ColorAuto,
		Help: "colour on stderr: auto, always or never (NO_COLOR wins)", Check: CheckColor},
	{Key: "ccache.remote_storage", Envs: []string{"IPABR_CCACHE_REMOTE_STORAGE"}, Shown: "none",
		Help:  "shared compiler cache (redis://HOST:PORT, http://HOST/PATH/) written to $BR2_CCACHE_DIR/ccache.conf; enables BR2_CCACHE",
		Check: ccache.ValidateRemoteStorage},
	{Key: "download.primary_site", Envs: []string{"IPABR_DOWNLOAD_PRIMARY_SITE"}, Shown: "none",
		Help:  "download mirror tried first (BR2_PRIMARY_SITE, set at configure time)",
		Check: buildroot.ValidatePrimarySite},
	{Key: "download.primary_site_only", Envs: []string{"IPABR_DOWNLOAD_PRIMARY_SITE_ONLY"}, Default: "false",
		Help: "download only from the primary site (BR2_PRIMARY_SITE_ONLY): true or false", Check: checkBool},
	{Key: "ipa.requirements_url", Envs: []string{"IPABR_IPA_REQUIREMENTS_URL"}, Default: ipa.DefaultRequirementsURL,
		Help: "IPA's git repository (`ipabr ipa lock`; a URL with {series} or {branch} is a plain file)", Check: checkNotEmpty},
	{Key: "ipa.constraints_url", Envs: []string{"IPABR_IPA_CONSTRAINTS_URL"}, Default: ipa.DefaultConstraintsURL,
		Help: "openstack/requirements, for upper-constraints.txt (git, or a file URL as above)", Check: checkNotEmpty},
	{Key: "ipa.index_url", Envs: []string{"IPABR_IPA_INDEX_URL"}, Default: ipa.DefaultIndexURL,
		Help: "the Python package index (PEP 503) `ipabr ipa lock` resolves with", Check: checkNotEmpty},
	{Key: "ipa.python", Envs: []string{"IPABR_IPA_PYTHON"}, Default: ipa.DefaultPython,
		Help: "the host Python whose pip (22.2 or newer) `ipabr ipa lock` runs: a name on PATH or a path, such as a virtual environment's bin/python"},
}

// Variable is an environment variable read outside the key table.
type Variable struct {
	Names string
	Help  string
}

// OtherEnv are the variables read outside the key table.
var OtherEnv = []Variable{
	{"IPABR_REPO, BR2_IPA_REPO", "the project root when the working directory is in none; inside a project that project wins, with a warning when they differ, and the BR2_* paths into the other project are ignored (--repo wins over both)"},
	{"IPABR_CONFIG", "the configuration file (like --config); default: $BR2_IPA_REPO/ipabr.yaml"},
	{"NO_COLOR", "when set to anything, no colour at all"},
	{"IPABR_PREFAULT", "0: do not map the binary's code and the first MiB of heap in two system calls at start (Linux 5.14 or newer; on a cold page cache the code is left to fault in as it runs)"},
}

// Lookup finds a key of the table.
func Lookup(key string) (Setting, bool) {
	for _, s := range Table {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// shown is the default as the documentation shows it.
func (s Setting) shown() string {
	if s.Shown != "" {
		return s.Shown
	}
	return s.Default
}

// CheckColor accepts the colour modes.
func CheckColor(v string) error {
	if v == term.ColorAuto || v == term.ColorAlways || v == term.ColorNever {
		return nil
	}
	return errs.BadInputf("must be auto, always or never, not %q", v)
}

func checkBool(v string) error {
	if _, err := parseBool(v); err != nil {
		return err
	}
	return nil
}

func parseBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.BadInputf("must be true or false, not %q", v)
	}
	return b, nil
}

func checkNotEmpty(v string) error {
	if v == "" {
		return errs.BadInputf("is empty")
	}
	return nil
}

// keyError is a bad value of a key, named by where it came from.
func keyError(origin errs.Origin, err error) error { return errs.At(origin, err) }
