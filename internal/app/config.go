package app

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/project"
)

// setting is one configuration key: its ipabr.yaml name, the environment
// variables that set it (IPABR_* first, then the seed's BR2_*), the global
// flag if any, and its documentation. The table drives loading, validation,
// `ipabr help environment` and the README.
type setting struct {
	Key   string
	Envs  []string
	Flag  string
	Path  bool // a path: relative values resolve against the project root (file) or cwd (flag, env)
	Help  string
	Deflt string
}

var settingsTable = []setting{
	{Key: "output", Envs: []string{"IPABR_OUTPUT", "BR2_OUTPUT_DIR"}, Flag: "output", Path: true,
		Help: "Buildroot output directory (O=)", Deflt: "$BR2_IPA_REPO/output"},
	{Key: "buildroot.path", Envs: []string{"IPABR_BUILDROOT_PATH", "BR2_UPSTREAM"}, Path: true,
		Help: "the Buildroot checkout (make -C)", Deflt: "$BR2_IPA_REPO/buildroot"},
	{Key: "buildroot.url", Envs: []string{"IPABR_BUILDROOT_URL"},
		Help: "where `ipabr init` fetches Buildroot from (a mirror)", Deflt: "the url in .gitmodules"},
	{Key: "external", Envs: []string{"IPABR_EXTERNAL", "BR2_EXTERNAL"}, Path: true,
		Help: "the BR2_EXTERNAL tree", Deflt: "$BR2_IPA_REPO/buildroot-ipa"},
	{Key: "dl_dir", Envs: []string{"IPABR_DL_DIR", "BR2_DL_DIR"}, Path: true,
		Help: "download cache (BR2_DL_DIR)", Deflt: "$BR2_IPA_REPO/dl"},
	{Key: "ccache_dir", Envs: []string{"IPABR_CCACHE_DIR", "BR2_CCACHE_DIR"}, Path: true,
		Help: "compiler cache (BR2_CCACHE_DIR)", Deflt: "$BR2_IPA_REPO/ccache"},
	{Key: "defconfig", Envs: []string{"IPABR_DEFCONFIG"},
		Help: "defconfig `ipabr configure` loads", Deflt: "openstack_ipa_defconfig"},
	{Key: "color", Envs: []string{"IPABR_COLOR"}, Flag: "color",
		Help: "colour on stderr: auto, always or never (NO_COLOR wins)", Deflt: "auto"},
	{Key: "ccache.remote_storage", Envs: []string{"IPABR_CCACHE_REMOTE_STORAGE"},
		Help: "shared compiler cache (redis://HOST:PORT, http://HOST/PATH/) written to $BR2_CCACHE_DIR/ccache.conf; enables BR2_CCACHE", Deflt: "none"},
	{Key: "download.primary_site", Envs: []string{"IPABR_DOWNLOAD_PRIMARY_SITE"},
		Help: "download mirror tried first (BR2_PRIMARY_SITE, set at configure time)", Deflt: "none"},
	{Key: "download.primary_site_only", Envs: []string{"IPABR_DOWNLOAD_PRIMARY_SITE_ONLY"},
		Help: "download only from the primary site (BR2_PRIMARY_SITE_ONLY): true or false", Deflt: "false"},
	{Key: "ipa.requirements_url", Envs: []string{"IPABR_IPA_REQUIREMENTS_URL"},
		Help: "IPA's git repository (`ipabr ipa lock`; a URL with {series} or {branch} is a plain file)", Deflt: "https://opendev.org/openstack/ironic-python-agent.git"},
	{Key: "ipa.constraints_url", Envs: []string{"IPABR_IPA_CONSTRAINTS_URL"},
		Help: "openstack/requirements, for upper-constraints.txt (git, or a file URL as above)", Deflt: "https://opendev.org/openstack/requirements.git"},
	{Key: "ipa.index_url", Envs: []string{"IPABR_IPA_INDEX_URL"},
		Help: "the Python package index (PEP 503) `ipabr ipa lock` resolves with", Deflt: "https://pypi.org/simple"},
	{Key: "ipa.python", Envs: []string{"IPABR_IPA_PYTHON"},
		Help: "the host Python whose pip (22.2 or newer) `ipabr ipa lock` runs: a name on PATH or a path, such as a virtual environment's bin/python", Deflt: "python3"},
}

// Variables read outside the key table.
var otherEnv = [][2]string{
	{"IPABR_REPO, BR2_IPA_REPO", "the project root (like --repo); default: found by walking up from the working directory"},
	{"IPABR_CONFIG", "the configuration file (like --config); default: $BR2_IPA_REPO/ipabr.yaml"},
	{"NO_COLOR", "when set to anything, no colour at all"},
}

func lookupSetting(key string) (setting, bool) {
	for _, s := range settingsTable {
		if s.Key == key {
			return s, true
		}
	}
	return setting{}, false
}

// configLoader layers flags → IPABR_* → BR2_* → ipabr.yaml → defaults
// with one local viper instance.
type configLoader struct {
	flags  *pflag.FlagSet
	getenv func(string) string
	cwd    string
}

func (l *configLoader) env(names ...string) (string, string) {
	for _, n := range names {
		if v := l.getenv(n); v != "" {
			return v, n
		}
	}
	return "", ""
}

func (l *configLoader) flagValue(name string) (string, bool) {
	f := l.flags.Lookup(name)
	if f == nil || !f.Changed {
		return "", false
	}
	return f.Value.String(), true
}

func (l *configLoader) load(verbose, quiet bool) (*cmdutil.Settings, error) {
	root, err := l.findRoot()
	if err != nil {
		return nil, cmdutil.AsUsage(err)
	}
	cfgPath, explicit := l.flagValue("config")
	if !explicit {
		if v, _ := l.env("IPABR_CONFIG"); v != "" {
			cfgPath, explicit = v, true
		}
	}
	if !explicit {
		cfgPath = filepath.Join(root, project.ConfigFile)
	} else {
		cfgPath = l.abs(cfgPath)
	}

	v := viper.New()
	v.SetConfigType("yaml")
	usedFile := ""
	data, err := os.ReadFile(cfgPath)
	switch {
	case err == nil:
		if err := validateYAML(cfgPath, data); err != nil {
			return nil, cmdutil.AsUsage(err)
		}
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, cmdutil.UsageError("%s: %v", cfgPath, err)
		}
		usedFile = cfgPath
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No file: defaults apply.
	case errors.Is(err, fs.ErrNotExist):
		return nil, cmdutil.UsageError("configuration file %s does not exist", cfgPath)
	default:
		return nil, cmdutil.UsageError("reading %s: %v", cfgPath, err)
	}

	get := func(key string) (string, error) {
		s, _ := lookupSetting(key)
		_ = v.BindEnv(append([]string{key}, s.Envs...)...)
		if s.Flag != "" {
			_ = v.BindPFlag(key, l.flags.Lookup(s.Flag))
		}
		val := v.GetString(key)
		if !s.Path || val == "" {
			return val, nil
		}
		// Relative paths in the file are relative to the project root;
		// on the command line or in the environment, to the working directory.
		_, fromFlag := l.flagValue(s.Flag)
		envVal, _ := l.env(s.Envs...)
		if !fromFlag && envVal == "" && v.InConfig(key) {
			if !filepath.IsAbs(val) {
				val = filepath.Join(root, val)
			}
			return filepath.Clean(val), nil
		}
		return l.abs(val), nil
	}
	p := &project.Project{Root: root}
	paths := []struct {
		key, deflt string
		dst        *string
	}{
		{"output", "output", &p.Output},
		{"buildroot.path", "buildroot", &p.Buildroot},
		{"external", "buildroot-ipa", &p.External},
		{"dl_dir", "dl", &p.DL},
		{"ccache_dir", "ccache", &p.CCache},
	}
	for _, e := range paths {
		val, err := get(e.key)
		if err != nil {
			return nil, err
		}
		if val == "" {
			val = filepath.Join(root, e.deflt)
		}
		*e.dst = val
	}
	if err := project.CheckDirPath("output directory", p.Output); err != nil {
		return nil, cmdutil.AsUsage(err)
	}
	url, _ := get("buildroot.url")
	defconfig, _ := get("defconfig")
	if defconfig == "" {
		defconfig = "openstack_ipa_defconfig"
	}
	farm, err := l.farmSettings(get)
	if err != nil {
		return nil, err
	}
	return &cmdutil.Settings{
		Farm:         farm,
		Project:      p,
		BuildrootURL: url,
		Defconfig:    defconfig,
		ConfigFile:   usedFile,
		Verbose:      verbose,
		Quiet:        quiet,
	}, nil
}

func (l *configLoader) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.cwd, p)
}

func (l *configLoader) findRoot() (string, error) {
	if dir, ok := l.flagValue("repo"); ok {
		return project.CheckRoot(dir, l.cwd)
	}
	if dir, name := l.env("IPABR_REPO", "BR2_IPA_REPO"); dir != "" {
		root, err := project.CheckRoot(dir, l.cwd)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return root, nil
	}
	return project.Find(l.cwd)
}

// validateYAML rejects malformed files and unknown keys, naming the line.
func validateYAML(path string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s is not valid YAML: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the file must be a mapping of keys to values", path, top.Line)
	}
	return validateMapping(path, "", top)
}

func validateMapping(path, prefix string, m *yaml.Node) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, val := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if line, dup := seen[k.Value]; dup {
			return fmt.Errorf("%s:%d: %q is already set at line %d", path, k.Line, key, line)
		}
		seen[k.Value] = k.Line
		if val.Kind == yaml.MappingNode {
			if !isSection(key) {
				return fmt.Errorf("%s:%d: unknown section %q (known keys: %s)", path, k.Line, key, knownKeys())
			}
			if err := validateMapping(path, key+".", val); err != nil {
				return err
			}
			continue
		}
		if _, ok := lookupSetting(key); !ok {
			return fmt.Errorf("%s:%d: unknown key %q (known keys: %s)", path, k.Line, key, knownKeys())
		}
		if val.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s:%d: key %q needs a single value", path, k.Line, key)
		}
		if key == "color" && !validColor(val.Value) {
			return fmt.Errorf("%s:%d: color must be auto, always or never, not %q", path, k.Line, val.Value)
		}
		if err := validateFarmValue(key, val.Value); err != nil {
			return fmt.Errorf("%s:%d: %v", path, k.Line, err)
		}
	}
	return nil
}

func isSection(name string) bool {
	for _, s := range settingsTable {
		if strings.HasPrefix(s.Key, name+".") {
			return true
		}
	}
	return false
}

func knownKeys() string {
	var keys []string
	for _, s := range settingsTable {
		keys = append(keys, s.Key)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
