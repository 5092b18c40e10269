package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ipa"
)

// newProject is an empty project with ipabr.yaml holding yaml ("" for none),
// every variable of the table unset, and a loader with the global flags
// given as args.
func newProject(t *testing.T, yaml string, args ...string) (*Loader, string) {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "buildroot-ipa"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "buildroot-ipa", "external.desc"), []byte("name: IPA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if yaml != "" {
		if err := os.WriteFile(filepath.Join(root, "ipabr.yaml"), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range Table {
		for _, e := range s.Envs {
			t.Setenv(e, "")
		}
	}
	for _, e := range []string{"IPABR_REPO", "BR2_IPA_REPO", "IPABR_CONFIG"} {
		t.Setenv(e, "")
	}
	fs := pflag.NewFlagSet("ipabr", pflag.ContinueOnError)
	fs.String("repo", "", "")
	fs.StringP("output", "O", "", "")
	fs.String("config", "", "")
	fs.String("color", "auto", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &Loader{Flags: fs, Cwd: filepath.Join(root, "buildroot-ipa")}, root
}

func load(t *testing.T, l *Loader) *Settings {
	t.Helper()
	s, err := l.Load(false, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Viper's precedence: flag, IPABR_*, BR2_*, ipabr.yaml, default; relative
// paths from the file are the root's, from flags and variables the
// working directory's; each value knows where it came from.
func TestPrecedenceAndOrigin(t *testing.T) {
	l, root := newProject(t, "output: from-file\n")
	cwd := l.Cwd
	s := load(t, l)
	if s.Project.Output != filepath.Join(root, "from-file") || s.Origin("output") != errs.FileKey(filepath.Join(root, "ipabr.yaml"), 1, "output") {
		t.Errorf("file: %s from %v", s.Project.Output, s.Origin("output"))
	}
	t.Setenv("BR2_OUTPUT_DIR", "from-br2")
	if s = load(t, l); s.Project.Output != filepath.Join(cwd, "from-br2") || s.Origin("output") != errs.Env("BR2_OUTPUT_DIR") {
		t.Errorf("BR2_*: %s from %v", s.Project.Output, s.Origin("output"))
	}
	t.Setenv("IPABR_OUTPUT", "/abs")
	if s = load(t, l); s.Project.Output != "/abs" || s.Origin("output") != errs.Env("IPABR_OUTPUT") {
		t.Errorf("IPABR_*: %s from %v", s.Project.Output, s.Origin("output"))
	}
	l2, _ := newProject(t, "output: from-file\n", "-O", "flag")
	t.Setenv("IPABR_OUTPUT", "/abs")
	if s = load(t, l2); s.Project.Output != filepath.Join(l2.Cwd, "flag") || s.Origin("output") != errs.Flag("--output") {
		t.Errorf("flag: %s from %v", s.Project.Output, s.Origin("output"))
	}
	// Nothing set: the default, under the root.
	l3, root3 := newProject(t, "")
	if s = load(t, l3); s.Project.Output != filepath.Join(root3, "output") || !s.Origin("output").IsZero() {
		t.Errorf("default: %s from %v", s.Project.Output, s.Origin("output"))
	}
}

// The ipa.* keys layer like the others (ipabr ipa lock's sources).
func TestIPASources(t *testing.T) {
	l, _ := newProject(t, "")
	s := load(t, l)
	if s.IPA != (IPASources{ipa.DefaultRequirementsURL, ipa.DefaultConstraintsURL, ipa.DefaultIndexURL, "python3"}) {
		t.Fatalf("defaults: %+v", s.IPA)
	}
	l, _ = newProject(t, "output: out\nipa:\n  index_url: https://file.example/simple\n  constraints_url: https://file.example/{series}\n  python: /opt/venv/bin/python\n")
	t.Setenv("IPABR_IPA_INDEX_URL", "https://env.example/simple")
	s = load(t, l)
	if s.IPA.IndexURL != "https://env.example/simple" || s.IPA.ConstraintsURL != "https://file.example/{series}" || s.IPA.RequirementsURL != ipa.DefaultRequirementsURL || s.IPA.Python != "/opt/venv/bin/python" {
		t.Errorf("layered: %+v", s.IPA)
	}
	t.Setenv("IPABR_IPA_PYTHON", "python3.12")
	if s = load(t, l); s.IPA.Python != "python3.12" {
		t.Errorf("IPABR_IPA_PYTHON: %+v", s.IPA)
	}
}

// A bad value is named by where it came from, whatever the key.
func TestBadValuesNameTheirOrigin(t *testing.T) {
	l, root := newProject(t, "output: out\ncolor: pink\n")
	_, err := l.Load(false, false)
	if want := filepath.Join(root, "ipabr.yaml") + `:2: color: must be auto, always or never, not "pink"`; err == nil || err.Error() != want || !errs.Is(err, errs.BadInput) {
		t.Errorf("file: %v, want %s", err, want)
	}
	l, _ = newProject(t, "")
	t.Setenv("IPABR_DOWNLOAD_PRIMARY_SITE_ONLY", "sometimes")
	if _, err := l.Load(false, false); err == nil || !strings.HasPrefix(err.Error(), `IPABR_DOWNLOAD_PRIMARY_SITE_ONLY: must be true or false, not "sometimes"`) {
		t.Errorf("environment: %v", err)
	}
	l, _ = newProject(t, "", "--color", "pink")
	if _, origin := l.Value("color"); origin != errs.Flag("--color") {
		t.Errorf("flag origin: %v", origin)
	}
}

// Value knows a key outside a project too: flags and variables only.
func TestValueOutsideAProject(t *testing.T) {
	l, _ := newProject(t, "ipa:\n  python: /from/file\n")
	if v, origin := l.Value("ipa.python"); v != "/from/file" || origin.File == "" {
		t.Errorf("inside: %q from %v", v, origin)
	}
	l.Cwd = t.TempDir()
	if v, _ := l.Value("ipa.python"); v != "python3" {
		t.Errorf("outside, nothing set: %q", v)
	}
	t.Setenv("IPABR_IPA_PYTHON", "/from/env")
	if v, origin := l.Value("ipa.python"); v != "/from/env" || origin != errs.Env("IPABR_IPA_PYTHON") {
		t.Errorf("outside, from the environment: %q from %v", v, origin)
	}
}

// A file that cannot be ipabr.yaml is bad input naming its line and the
// fix: more than one document, a tab in the indentation, a value where a
// section belongs.
func TestMalformedFilesNameLineAndFix(t *testing.T) {
	for name, c := range map[string]struct{ yaml, want string }{
		"two documents": {"color: never\n---\noutput: out\n",
			`ipabr.yaml:2: a second YAML document starts here; the file is one mapping of keys: remove this --- line and merge the keys into one document`},
		"tab": {"ipa:\n\tpython: python3\n",
			`ipabr.yaml:2: a tab in the indentation; YAML indents with spaces only: replace the tab with spaces`},
		"scalar for a section": {"color: never\nbuildroot: https://example.org/buildroot.git\n",
			`ipabr.yaml:2: "buildroot" is a section (keys path, url), not a value: write "buildroot:" on its own line and the key indented below it, as in "buildroot:\n  url: https://example.org/buildroot.git"`},
		"list for a section": {"ipa: [python3]\n",
			`ipabr.yaml:1: "ipa" is a section (keys constraints_url, index_url, python, requirements_url), not a value`},
	} {
		l, root := newProject(t, c.yaml)
		_, err := l.Load(false, false)
		want := root + string(filepath.Separator) + c.want
		if err == nil || !strings.HasPrefix(err.Error(), want) || !errs.Is(err, errs.BadInput) {
			t.Errorf("%s: got %v\nwant %s", name, err, want)
		}
	}
}

// A file over 1 MiB is refused after reading at most 1 MiB of it:
// /dev/zero ends at once instead of filling memory.
func TestOversizedFileIsRefused(t *testing.T) {
	big := strings.Repeat("# a comment line to pad the file out\n", MaxFileSize/36)
	l, root := newProject(t, "color: never\n"+big)
	if _, err := l.Load(false, false); err == nil || !errs.Is(err, errs.BadInput) ||
		err.Error() != "configuration file "+filepath.Join(root, "ipabr.yaml")+" is larger than 1 MiB: it is not an ipabr.yaml (a few key: value lines); check --config or IPABR_CONFIG" {
		t.Errorf("big file: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("SKIP: no /dev/zero")
	}
	l, _ = newProject(t, "", "--config", "/dev/zero")
	if _, err := l.Load(false, false); err == nil || !strings.Contains(err.Error(), "/dev/zero is larger than 1 MiB") {
		t.Errorf("/dev/zero: %v", err)
	}
}

// A FIFO given as the configuration file with nothing writing to it would
// block ipabr in open(2) for ever; Ctrl-C (the loader's context) ends the
// load at once as an interruption.
func TestFIFOReadIsInterruptible(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ipabr.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("SKIP: mkfifo: %v", err)
	}
	l, _ := newProject(t, "", "--config", fifo)
	ctx, cancel := context.WithCancel(context.Background())
	l.Ctx = ctx
	done := make(chan error, 1)
	go func() {
		_, err := l.Load(false, false)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errs.Is(err, errs.Interrupted) || !strings.Contains(err.Error(), "interrupted while reading "+fifo) {
			t.Errorf("load of a FIFO, cancelled: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the load of a FIFO did not end when its context was cancelled")
	}
}
