package ipa

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// Lock is the resolved set of wheels for one series.
type Lock struct {
	Series string
	// Created is when the lock got its content; only the manifest's header
	// says it, so locking the same inputs again changes no file.
	Created    time.Time
	Target     Target
	Index      string
	IPAVersion string // the version of ironic-python-agent in the lock
	// IPARequested is the --ipa-version the lock was made with ("": the
	// newest release of the series, or pbr's version of a git source).
	IPARequested string
	// Unpinned names the wheels upper-constraints does not pin (certifi,
	// setuptools, extras): locking again keeps their versions.
	Unpinned []string
	// GitURL and GitRef are set when IPA was built from git (--ipa-source);
	// GitCommit is the commit the ref named.
	GitURL, GitRef, GitCommit string
	Extras                    []string
	Wheels                    []Wheel
}

// Wheel is one locked wheel.
type Wheel struct {
	Name     string
	Version  string
	Filename string
	// URL is where Buildroot downloads it: the index's URL, or for a wheel
	// kept in the lock's wheels/ directory a file+file:// URL inside the
	// external tree.
	URL     string
	SHA256  string
	Size    int64
	License string
	// Local is the content of a wheel kept in the lock's wheels/
	// directory (built from git, or an --extra file).
	Local []byte `json:"-"`
}

// TotalSize is the sum of the wheels' sizes.
func (l *Lock) TotalSize() int64 {
	var n int64
	for _, w := range l.Wheels {
		n += w.Size
	}
	return n
}

// IPASource describes where IPA comes from, for messages.
func (l *Lock) IPASource() string {
	if l.GitURL != "" {
		c := l.GitCommit
		if len(c) > 12 {
			c = c[:12]
		}
		return fmt.Sprintf("%s built from %s@%s (commit %s)", l.IPAVersion, l.GitURL, l.GitRef, c)
	}
	return fmt.Sprintf("%s from %s", l.IPAVersion, l.Index)
}

// Command is the ipabr command line that makes this lock again.
func (l *Lock) Command() string {
	return ConfiguredLockCommand(l.Series, l.GitURL, l.GitRef, nil, l)
}

// LockCommand is `ipabr ipa lock` for a series with its git source and
// extra requirements. The series and a release version need no quotes (their
// characters are checked); the source and the requirements are quoted
// whole, as the package's make code writes them (IRONIC_PYTHON_AGENT_LOCK_CMD
// in ironic-python-agent.mk; rules_test.go checks that both agree).
func LockCommand(series, gitURL, gitRef string, extras []string) string {
	parts := []string{"ipabr", "ipa", "lock", "--release", series}
	if gitURL != "" {
		parts = append(parts, "--ipa-source", "'"+gitURL+"@"+gitRef+"'")
	}
	for _, e := range extras {
		parts = append(parts, "--extra", "'"+e+"'")
	}
	return strings.Join(parts, " ")
}

// ConfiguredLockCommand is the command that makes the lock a configuration
// asks for, given the series' current lock (nil when it has none): the
// configuration's extras and then the lock's others, and the lock's
// requested IPA release.
func ConfiguredLockCommand(series, gitURL, gitRef string, extras []string, current *Lock) string {
	all := append([]string(nil), extras...)
	version := ""
	if current != nil {
		for _, e := range current.Extras {
			if !slices.Contains(all, e) {
				all = append(all, e)
			}
		}
		version = current.IPARequested
	}
	cmd := LockCommand(series, gitURL, gitRef, all)
	if version != "" {
		cmd += " --ipa-version " + version
	}
	return cmd
}

var (
	// urlRE is what a wheel URL may hold in a make variable and through
	// Buildroot's download wrapper (no '+', '$', '#', quotes or spaces).
	urlRE      = lazyregexp.New(`^(https?|file)://[A-Za-z0-9._~%/:@=,;!*()-]+$`)
	filenameRE = lazyregexp.New(`^[A-Za-z0-9._-]+\.whl$`)
	sha256RE   = lazyregexp.New(`^[0-9a-f]{64}$`)
	// extraRE is a requirement as the lock, Kconfig and make carry it: no
	// double quote either, which Buildroot's qstrip removes from a value
	// (rules_test.go found it gone from the make code's lock command).
	extraRE = lazyregexp.New(`^[A-Za-z0-9][A-Za-z0-9._\-\[\],<>=!~;:()@/]*$`)
)

// ValidateExtra checks an --extra requirement: one PEP 508 requirement
// without spaces (Kconfig keeps them space-separated) or make/shell
// metacharacters.
func ValidateExtra(e string) error {
	if strings.HasSuffix(e, ".whl") {
		return nil // a wheel file, checked when read
	}
	if !extraRE.MatchString(e) {
		return errs.BadInputf("%q is not one requirement: write it without spaces, '#', '$', quotes or backslashes (such as my-hardware-manager>=1.0)", e)
	}
	return nil
}

// WheelFilename is the file name a wheel URL ends in, checked for what
// Buildroot's download machinery can carry.
func WheelFilename(url string) (string, error) {
	if i := strings.IndexByte(url, '#'); i >= 0 {
		url = url[:i]
	}
	if !urlRE.MatchString(url) {
		return "", fmt.Errorf("wheel URL %q has characters Buildroot's downloads cannot carry (such as '+', '$' or spaces)", url)
	}
	name := url[strings.LastIndexByte(url, '/')+1:]
	if !filenameRE.MatchString(name) {
		return "", fmt.Errorf("%q does not end in a plain wheel file name", url)
	}
	return name, nil
}

// The manifest's note on the wheels upper-constraints does not pin.
const (
	unpinnedNote = "# not pinned by upper-constraints: "
	unpinnedWhy  = "(locking again keeps their versions; --upgrade-unpinned takes the newest)"
)

var lockedRE = lazyregexp.New(`^# ironic-python-agent for OpenStack .*, locked (\S+)$`)

// Render returns the lock's files: the make fragment, the hash file and
// the manifest.
func (l *Lock) Render() (mk, hash, manifest []byte) {
	var b bytes.Buffer
	line := strings.Repeat("#", 80)
	fmt.Fprintf(&b, "%s\n#\n# %s\n#\n%s\n\n", line, Package, line)
	fmt.Fprintf(&b, "# The lock of OpenStack series %s, written by \"ipabr ipa lock\" (do not\n", l.Series)
	fmt.Fprintf(&b, "# edit; run it again to change it):\n#   %s\n", l.Command())
	fmt.Fprintf(&b, "# Each wheel's sha256 is in %s beside this file.\n\n", HashFile)
	v := func(name, value string) {
		fmt.Fprintf(&b, "%s\n", strings.TrimRight("IRONIC_PYTHON_AGENT_"+name+" = "+value, " "))
	}
	v("LOCK_SERIES", l.Series)
	v("LOCK_IPA_VERSION", l.IPAVersion)
	v("LOCK_IPA_REQUESTED", l.IPARequested)
	v("LOCK_GIT_URL", l.GitURL)
	v("LOCK_GIT_REF", l.GitRef)
	v("LOCK_GIT_COMMIT", l.GitCommit)
	v("LOCK_EXTRA", strings.Join(l.Extras, " "))
	v("LOCK_PYTHON", l.Target.Python)
	v("LOCK_GLIBC", l.Target.Glibc)
	v("LOCK_INDEX", l.Index)
	v("LICENSE", makeLicenses(l.Wheels))
	b.WriteString("IRONIC_PYTHON_AGENT_EXTRA_DOWNLOADS =")
	for i, w := range l.Wheels {
		b.WriteString(" \\\n\t" + w.URL)
		if i == len(l.Wheels)-1 {
			b.WriteString("\n")
		}
	}
	if len(l.Wheels) == 0 {
		b.WriteString("\n")
	}
	mk = b.Bytes()

	var h bytes.Buffer
	fmt.Fprintf(&h, "# Locally computed by ipabr ipa lock for OpenStack %s: the wheels'\n", l.Series)
	fmt.Fprintf(&h, "# sha256 as %s published them (or as built from git)\n", l.Index)
	for _, w := range l.Wheels {
		fmt.Fprintf(&h, "sha256  %s  %s\n", w.SHA256, w.Filename)
	}
	hash = h.Bytes()

	var m bytes.Buffer
	fmt.Fprintf(&m, "# ironic-python-agent for OpenStack %s: %d wheels, %d bytes, locked %s\n",
		l.Series, len(l.Wheels), l.TotalSize(), l.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(&m, "# IPA %s; for %s\n", l.IPASource(), l.Target)
	if len(l.Extras) > 0 {
		fmt.Fprintf(&m, "# extra requirements: %s\n", strings.Join(l.Extras, " "))
	}
	if len(l.Unpinned) > 0 {
		fmt.Fprintf(&m, "%s%s %s\n", unpinnedNote, strings.Join(l.Unpinned, ", "), unpinnedWhy)
	}
	tw := tabwriter.NewWriter(&m, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "# name\tversion\tsize\tsha256\tlicense")
	for _, w := range l.Wheels {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", w.Name, w.Version, w.Size, w.SHA256, oneSpace(w.License))
	}
	_ = tw.Flush()
	// tabwriter pads the last column too; keep the lines clean.
	manifest = trimLines(m.Bytes())
	return mk, hash, manifest
}

func trimLines(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return []byte(strings.Join(lines, "\n"))
}

// makeLicenses is the package's license list for Buildroot (legal-info):
// each distinct license once, with characters make cannot carry dropped.
func makeLicenses(ws []Wheel) string {
	seen := map[string]bool{}
	var out []string
	clean := regexp.MustCompile(`[^A-Za-z0-9 .+()/_-]`)
	for _, w := range ws {
		l := strings.TrimSpace(clean.ReplaceAllString(oneSpace(w.License), ""))
		if l == "" {
			l = "unknown"
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Check validates a lock before it is written.
func (l *Lock) Check() error {
	if err := ValidateSeries(l.Series); err != nil {
		return err
	}
	if len(l.Wheels) == 0 {
		return errors.New("the lock has no wheels")
	}
	seen := map[string]bool{}
	for _, w := range l.Wheels {
		if !sha256RE.MatchString(w.SHA256) {
			return fmt.Errorf("%s: %q is not a sha256", w.Filename, w.SHA256)
		}
		if !filenameRE.MatchString(w.Filename) {
			return fmt.Errorf("%q is not a plain wheel file name", w.Filename)
		}
		if seen[w.Filename] {
			return fmt.Errorf("%s is locked twice", w.Filename)
		}
		seen[w.Filename] = true
		if strings.ContainsAny(w.Name+w.Version, " \t\n#$") {
			return fmt.Errorf("%s: odd name or version %q %q", w.Filename, w.Name, w.Version)
		}
	}
	for _, e := range l.Extras {
		if err := ValidateExtra(e); err != nil {
			return err
		}
	}
	return nil
}

// LocalURL is the download URL of a wheel kept in the lock's wheels/
// directory, as the package's .mk expands it.
func LocalURL(series, filename string) string {
	return "file+file://$(IRONIC_PYTHON_AGENT_PKGDIR)/" + series + "/" + WheelsDir + "/" + filename
}

// Write puts the lock into <external>/package/ironic-python-agent/<series>/:
// all files are written into a new directory beside it, which then
// replaces the old one, so a failure leaves the previous lock untouched.
func (l *Lock) Write(external string) error {
	if err := l.Check(); err != nil {
		return err
	}
	parent := PackageDir(external)
	tmp, err := os.MkdirTemp(parent, "."+l.Series+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone after the rename; cleans up on failure
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	mk, hash, manifest := l.Render()
	for name, data := range map[string][]byte{LockFile: mk, HashFile: hash, ManifestFile: manifest} {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return err
		}
	}
	for _, w := range l.Wheels {
		if w.Local == nil {
			continue
		}
		dst := filepath.Join(tmp, WheelsDir, w.Filename)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, w.Local, 0o644); err != nil {
			return err
		}
	}
	final := LockDir(external, l.Series)
	if _, err := os.Stat(final); err == nil {
		old := filepath.Join(parent, fmt.Sprintf(".%s.old-%d", l.Series, time.Now().UnixNano()))
		if err := os.Rename(final, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			_ = os.Rename(old, final)
			return err
		}
		return os.RemoveAll(old)
	}
	return os.Rename(tmp, final)
}

// ReadLock reads the lock of a series back from the external tree.
func ReadLock(external, series string) (*Lock, error) {
	if err := ValidateSeries(series); err != nil {
		return nil, err
	}
	dir := LockDir(external, series)
	vars, err := readMakeVars(filepath.Join(dir, LockFile))
	if err != nil {
		return nil, err
	}
	l := &Lock{
		Series:       vars["IRONIC_PYTHON_AGENT_LOCK_SERIES"],
		IPAVersion:   vars["IRONIC_PYTHON_AGENT_LOCK_IPA_VERSION"],
		IPARequested: vars["IRONIC_PYTHON_AGENT_LOCK_IPA_REQUESTED"],
		GitURL:       vars["IRONIC_PYTHON_AGENT_LOCK_GIT_URL"],
		GitRef:       vars["IRONIC_PYTHON_AGENT_LOCK_GIT_REF"],
		GitCommit:    vars["IRONIC_PYTHON_AGENT_LOCK_GIT_COMMIT"],
		Extras:       strings.Fields(vars["IRONIC_PYTHON_AGENT_LOCK_EXTRA"]),
		Target:       Target{Python: vars["IRONIC_PYTHON_AGENT_LOCK_PYTHON"], Glibc: vars["IRONIC_PYTHON_AGENT_LOCK_GLIBC"]},
		Index:        vars["IRONIC_PYTHON_AGENT_LOCK_INDEX"],
	}
	if l.Series != series {
		return nil, fmt.Errorf("%s: the lock says series %q, its directory %q", dir, l.Series, series)
	}
	urls := map[string]string{}
	for _, u := range strings.Fields(vars["IRONIC_PYTHON_AGENT_EXTRA_DOWNLOADS"]) {
		urls[path.Base(u)] = u
	}
	f, err := os.Open(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := lockedRE.FindStringSubmatch(line); m != nil {
			if t, err := time.Parse(time.RFC3339, m[1]); err == nil {
				l.Created = t
			}
		}
		if names, ok := strings.CutPrefix(line, unpinnedNote); ok {
			names, _, _ = strings.Cut(names, " (")
			l.Unpinned = strings.Split(names, ", ")
		}
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 5 {
			return nil, fmt.Errorf("%s: malformed line %q", ManifestFile, line)
		}
		size, _ := strconv.ParseInt(fs[2], 10, 64)
		w := Wheel{Name: fs[0], Version: fs[1], Size: size, SHA256: fs[3], License: strings.Join(fs[4:], " ")}
		l.Wheels = append(l.Wheels, w)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// Wheels and URLs pair up through the hash file (sha256 → file name).
	hashes, err := ReadHashFile(filepath.Join(dir, HashFile))
	if err != nil {
		return nil, err
	}
	bySum := map[string]string{}
	for file, sum := range hashes {
		bySum[sum] = file
	}
	for i := range l.Wheels {
		w := &l.Wheels[i]
		w.Filename = bySum[w.SHA256]
		w.URL = urls[w.Filename]
		if w.Filename == "" || w.URL == "" {
			return nil, fmt.Errorf("%s: %s %s has no URL or hash in the lock", dir, w.Name, w.Version)
		}
	}
	if len(l.Wheels) != len(urls) {
		return nil, fmt.Errorf("%s: %d wheels in %s but %d URLs in %s", dir, len(l.Wheels), ManifestFile, len(urls), LockFile)
	}
	return l, nil
}

// ReadHashFile reads a Buildroot hash file's sha256 lines: file → sum.
func ReadHashFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 3 && fs[0] == "sha256" {
			out[fs[2]] = fs[1]
		}
	}
	return out, nil
}

// readMakeVars reads NAME = value assignments (with backslash
// continuations) from a make fragment.
func readMakeVars(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	vars := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(k), ":"))
		if k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		vars[k] = oneSpace(v)
	}
	return vars, nil
}

// Age is how long ago the lock was made, for display.
func (l *Lock) Age(now time.Time) time.Duration {
	if l.Created.IsZero() {
		return 0
	}
	return now.Sub(l.Created)
}

// Unchanged reports whether the lock written for l's series in the
// external tree is l apart from when it was made: the same three files and
// the same kept wheels. Then l takes the written lock's time, so that
// nothing needs writing.
func (l *Lock) Unchanged(external string) bool {
	old, err := ReadLock(external, l.Series)
	if err != nil {
		return false
	}
	same := *l
	same.Created = old.Created
	if !same.matchesFiles(LockDir(external, l.Series)) {
		return false
	}
	l.Created = old.Created
	return true
}

func (l *Lock) matchesFiles(dir string) bool {
	mk, hash, manifest := l.Render()
	for name, want := range map[string][]byte{LockFile: mk, HashFile: hash, ManifestFile: manifest} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			return false
		}
	}
	kept := map[string][]byte{}
	for _, w := range l.Wheels {
		if w.Local != nil {
			kept[w.Filename] = w.Local
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, WheelsDir))
	if len(entries) != len(kept) {
		return false
	}
	for _, e := range entries {
		got, err := os.ReadFile(filepath.Join(dir, WheelsDir, e.Name()))
		if err != nil || !bytes.Equal(got, kept[e.Name()]) {
			return false
		}
	}
	return true
}

// Differences describes how lock b differs from lock a, for people: the
// target, IPA, the index, the extras, then each wheel added, removed or
// changed.
func Differences(a, b *Lock) []string {
	var out []string
	field := func(what, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s: %s → %s", what, x, y))
		}
	}
	field("target", a.Target.String(), b.Target.String())
	field("IPA", a.IPASource(), b.IPASource())
	field("index", a.Index, b.Index)
	field("extra requirements", strings.Join(a.Extras, " "), strings.Join(b.Extras, " "))
	byName := func(l *Lock) map[string]Wheel {
		m := map[string]Wheel{}
		for _, w := range l.Wheels {
			m[normalize(w.Name)] = w
		}
		return m
	}
	wa, wb := byName(a), byName(b)
	var names []string
	for n := range wa {
		names = append(names, n)
	}
	for n := range wb {
		if _, ok := wa[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		x, inA := wa[n]
		y, inB := wb[n]
		switch {
		case !inB:
			out = append(out, fmt.Sprintf("%s %s goes", x.Name, x.Version))
		case !inA:
			out = append(out, fmt.Sprintf("%s %s comes in", y.Name, y.Version))
		case x.Version != y.Version:
			out = append(out, fmt.Sprintf("%s %s → %s", y.Name, x.Version, y.Version))
		case x.Filename != y.Filename || x.SHA256 != y.SHA256 || x.URL != y.URL:
			out = append(out, fmt.Sprintf("%s %s: another file (%s, sha256 %.12s…)", y.Name, y.Version, y.Filename, y.SHA256))
		}
	}
	return out
}
