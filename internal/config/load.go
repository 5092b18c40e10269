package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/project"
)

// Settings are the resolved configuration a command works with.
type Settings struct {
	Project      *project.Project
	BuildrootURL string // empty: the URL in .gitmodules
	Defconfig    string
	Color        string
	ConfigFile   string // the ipabr.yaml that was read, or ""
	Verbose      bool
	Quiet        bool
	Farm         Farm
	IPA          IPASources
	// Warnings are what the user should hear about how the settings were
	// resolved (a stale environment overruled by the working directory).
	Warnings []string

	origins map[string]errs.Origin
}

// Origin is where a key's value came from (zero for a default).
func (s *Settings) Origin(key string) errs.Origin { return s.origins[key] }

// Farm are the shared-cache and mirror keys (doc/farm.md).
type Farm struct {
	// CCacheRemoteStorage goes into $BR2_CCACHE_DIR/ccache.conf as
	// remote_storage; "" leaves that file alone.
	CCacheRemoteStorage string
	// PrimarySite becomes BR2_PRIMARY_SITE at configure time; "" keeps the
	// defconfig's value.
	PrimarySite     string
	PrimarySiteOnly bool // BR2_PRIMARY_SITE_ONLY (with PrimarySite)
}

// IPASources are the ipa.* keys: where a lock's inputs come from, and the
// host Python whose pip resolves them.
type IPASources struct {
	RequirementsURL string
	ConstraintsURL  string
	IndexURL        string
	Python          string
}

// Loader reads the settings of one invocation: its global flags, the
// process environment and the project's ipabr.yaml.
type Loader struct {
	Flags *pflag.FlagSet
	Cwd   string
	// Ctx, when set, interrupts a read that waits (a FIFO given as the
	// configuration file with nothing writing to it).
	Ctx context.Context
}

// source is one read of the layers: viper with every key bound, and the
// file's key lines.
type source struct {
	v     *viper.Viper
	file  string // shown in origins
	lines map[string]int
	flags *pflag.FlagSet
	// skipEnv: environment variables ignored as stale (see Loader.Load).
	skipEnv map[string]bool
}

func (l *Loader) flagValue(name string) (string, bool) {
	f := l.Flags.Lookup(name)
	if f == nil || !f.Changed {
		return "", false
	}
	return f.Value.String(), true
}

func env(names ...string) (value, name string) {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v, n
		}
	}
	return "", ""
}

// Load resolves every key. Outside a project, with a malformed file or a
// bad value it fails with bad input naming where the value came from.
func (l *Loader) Load(verbose, quiet bool) (*Settings, error) {
	root, stale, err := l.findRoot()
	if err != nil {
		return nil, errs.As(errs.BadInput, err)
	}
	src, used, err := l.read(root)
	if err != nil {
		return nil, err
	}
	s := &Settings{ConfigFile: used, Verbose: verbose, Quiet: quiet, origins: map[string]errs.Origin{}}
	if stale != nil {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s names the project %s, but the working directory is in the project %s: using %s (--repo chooses; eval \"$(ipabr env)\" here updates the environment)",
			stale.name, stale.root, root, root))
		// The path variables that same `ipabr env` exported point into
		// the other project too: they would redirect output, clean and all.
		src.skipEnv = map[string]bool{}
		for _, st := range Table {
			for _, name := range st.Envs {
				if v := os.Getenv(name); st.Path && v != "" && within(l.absolute(v), stale.root) && !within(l.absolute(v), root) {
					src.skipEnv[name] = true
					s.Warnings = append(s.Warnings, fmt.Sprintf("ignoring %s=%s: it is in the project %s names", name, v, stale.name))
				}
			}
		}
	}
	values := map[string]string{}
	for _, st := range Table {
		val, origin := src.get(st)
		if st.Check != nil {
			if err := st.Check(val); err != nil {
				return nil, keyError(originOrKey(origin, st.Key), err)
			}
		}
		if st.Path {
			val = l.resolvePath(root, val, origin)
		}
		values[st.Key] = val
		s.origins[st.Key] = origin
	}
	s.Project = &project.Project{
		Root:      root,
		Output:    values["output"],
		Buildroot: values["buildroot.path"],
		External:  values["external"],
		DL:        values["dl_dir"],
		CCache:    values["ccache_dir"],
	}
	if err := project.CheckDirPath("output directory", s.Project.Output); err != nil {
		return nil, errs.At(s.origins["output"], err)
	}
	s.BuildrootURL = values["buildroot.url"]
	s.Defconfig = values["defconfig"]
	s.Color = values["color"]
	s.Farm.CCacheRemoteStorage = values["ccache.remote_storage"]
	s.Farm.PrimarySite = values["download.primary_site"]
	s.Farm.PrimarySiteOnly, _ = parseBool(values["download.primary_site_only"])
	if s.Farm.PrimarySiteOnly && s.Farm.PrimarySite == "" {
		return nil, errs.At(originOrKey(s.origins["download.primary_site_only"], "download.primary_site_only"),
			errors.New("is true but download.primary_site is not set: Buildroot would have nowhere to download from"))
	}
	s.IPA = IPASources{
		RequirementsURL: values["ipa.requirements_url"],
		ConstraintsURL:  values["ipa.constraints_url"],
		IndexURL:        values["ipa.index_url"],
		Python:          values["ipa.python"],
	}
	return s, nil
}

// Value is one key's value and origin as far as it can be known: from the
// flags and environment, and from ipabr.yaml when the project and a valid
// file are found (commands that also run outside a project use it).
func (l *Loader) Value(key string) (string, errs.Origin) {
	st, _ := Lookup(key)
	src := &source{v: viper.New(), flags: l.Flags}
	if root, _, err := l.findRoot(); err == nil {
		if s, _, err := l.read(root); err == nil {
			src = s
		}
	}
	return src.get(st)
}

// read binds every key to its flag and variables and reads the file.
func (l *Loader) read(root string) (*source, string, error) {
	cfgPath, explicit := l.flagValue("config")
	if !explicit {
		if v, _ := env("IPABR_CONFIG"); v != "" {
			cfgPath, explicit = v, true
		}
	}
	if !explicit {
		cfgPath = filepath.Join(root, project.ConfigFile)
	} else if !filepath.IsAbs(cfgPath) {
		cfgPath = filepath.Join(l.Cwd, cfgPath)
	}
	src := &source{v: viper.New(), flags: l.Flags, file: cfgPath}
	src.v.SetConfigType("yaml")
	used := ""
	data, err := readFile(l.Ctx, cfgPath)
	var kinded errs.Kinded
	switch {
	case errors.As(err, &kinded):
		return nil, "", err
	case err == nil:
		if src.lines, err = validateYAML(cfgPath, data); err != nil {
			return nil, "", err
		}
		if err := src.v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, "", errs.BadInputf("%s: %v", cfgPath, err)
		}
		used = cfgPath
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No file: defaults apply.
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", errs.BadInputf("configuration file %s does not exist", cfgPath)
	default:
		return nil, "", errs.BadInputf("reading %s: %v", cfgPath, err)
	}
	return src, used, nil
}

// get is a key's value by viper's precedence (flag, environment in the
// order of st.Envs, file, default) and where it came from.
func (src *source) get(st Setting) (string, errs.Origin) {
	v := src.v
	var envs []string
	for _, name := range st.Envs {
		if !src.skipEnv[name] {
			envs = append(envs, name)
		}
	}
	_ = v.BindEnv(append([]string{st.Key}, envs...)...)
	var flag *pflag.Flag
	if st.Flag != "" && src.flags != nil {
		if flag = src.flags.Lookup(st.Flag); flag != nil {
			_ = v.BindPFlag(st.Key, flag)
		}
	}
	v.SetDefault(st.Key, st.Default)
	val := v.GetString(st.Key)
	switch _, name := env(envs...); {
	case flag != nil && flag.Changed:
		return val, errs.Flag("--" + st.Flag)
	case name != "":
		return val, errs.Env(name)
	case v.InConfig(st.Key):
		return val, errs.FileKey(src.file, src.lines[st.Key], st.Key)
	}
	return val, errs.Origin{}
}

// resolvePath makes a path absolute: relative to the project root when it
// came from the file or the defaults, to the working directory otherwise.
func (l *Loader) resolvePath(root, val string, origin errs.Origin) string {
	if val == "" || filepath.IsAbs(val) {
		return filepath.Clean(val)
	}
	if origin.Flag != "" || origin.Env != "" {
		return filepath.Join(l.Cwd, val)
	}
	return filepath.Join(root, val)
}

// staleRoot is a project root the environment names that the working
// directory's project overrules.
type staleRoot struct {
	name string // the variable
	root string
}

// findRoot is --repo, else the project the working directory is in, else
// IPABR_REPO or BR2_IPA_REPO. The working directory wins over the
// environment because `eval "$(ipabr env)"` outlives a cd into another
// project; stale is that environment's root when it differs.
func (l *Loader) findRoot() (root string, stale *staleRoot, err error) {
	if dir, ok := l.flagValue("repo"); ok {
		root, err := project.CheckRoot(dir, l.Cwd)
		return root, nil, err
	}
	here, hereErr := project.Find(l.Cwd)
	dir, name := env("IPABR_REPO", "BR2_IPA_REPO")
	if dir == "" {
		return here, nil, hereErr
	}
	named, err := project.CheckRoot(dir, l.Cwd)
	if hereErr == nil {
		if err != nil || !sameDir(here, named) {
			return here, &staleRoot{name: name, root: l.absolute(dir)}, nil
		}
		return here, nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	return named, nil, nil
}

// absolute is path relative to the working directory, made absolute.
func (l *Loader) absolute(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(l.Cwd, path)
}

// sameDir reports whether a and b are the same directory.
func sameDir(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// within reports whether path is dir or lies inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// originOrKey names a default value's key when nothing set it.
func originOrKey(o errs.Origin, key string) errs.Origin {
	if o.IsZero() {
		return errs.Origin{Key: key}
	}
	return o
}
