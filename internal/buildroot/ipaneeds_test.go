package buildroot_test

// What the Ironic Python Agent needs from the image (doc/image.md, "What
// IPA needs, and what the image provides"). board/openstack/ipa/ipa-needs.py
// reads IPA's source and lists the programs it runs, the modules it loads,
// the file systems it mounts and the paths it uses; ipa-needs.table beside
// it says what provides each. Four tiers check them:
//
//   - hermetic: the extractor on a made-up package (testdata/ipa-needs/),
//     the table's own consistency with this tree (kernel fragment,
//     overlay, what post-build.sh makes), and doc/image.md showing every
//     line of it;
//   - upstream (IPABR_TEST_BUILDROOT): every package and option the table
//     names is in the configuration real Buildroot makes of the defconfig;
//   - kernel (IPABR_TEST_LINUX_SRC): the x86_64_defconfig symbols the table
//     relies on survive the merge with the fragment;
//   - ipa-source (IPABR_TEST_IPA_SOURCE): everything IPA master and
//     stable/2026.1 need has a line in the table.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/testenv"
)

// ipaBranches are the IPA branches the ipa-source tier reads when
// IPABR_TEST_IPA_SOURCE is a git repository.
var ipaBranches = []string{"master", "stable/2026.1"}

// needItem is one entry of ipa-needs.py's output.
type needItem struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Expr     string `json:"expr"`
	Use      string `json:"use"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Function string `json:"function"`
	Call     string `json:"call"`
	Via      string `json:"via"`
	Reason   string `json:"reason"`
}

// key is what the table matches: the name, or for a call the extractor
// could not work out, FILE:EXPRESSION.
func (i needItem) key() string {
	if i.Expr != "" {
		return "unresolved " + i.File + ":" + i.Expr
	}
	return i.Kind + " " + i.Name
}

func (i needItem) String() string {
	return fmt.Sprintf("%s:%d (%s, %s)", i.File, i.Line, i.Function, i.Via)
}

type needsReport struct {
	Files       []string   `json:"files"`
	Programs    []needItem `json:"programs"`
	Modules     []needItem `json:"modules"`
	Filesystems []needItem `json:"filesystems"`
	Paths       []needItem `json:"paths"`
	Unresolved  []needItem `json:"unresolved"`
}

func (r *needsReport) all() []needItem {
	var out []needItem
	for _, list := range [][]needItem{r.Programs, r.Modules, r.Filesystems, r.Paths} {
		out = append(out, list...)
	}
	return append(out, r.Unresolved...)
}

// distinct counts the different names of a list.
func distinct(items []needItem) int {
	seen := map[string]bool{}
	for _, i := range items {
		seen[i.key()] = true
	}
	return len(seen)
}

// runIPANeeds runs the extractor with the host's Python on a source tree.
func runIPANeeds(t *testing.T, tier, source string, args ...string) *needsReport {
	t.Helper()
	python := testenv.Program(t, tier, "python3")
	script := filepath.Join(boardDir(t), "ipa-needs.py")
	// Read here, not only by Python, so that go test's cache sees a change.
	readFile(t, script)
	argv := append([]string{script}, args...)
	cmd := exec.Command(python, append(argv, source)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ipa-needs.py %s: %v\n%s", source, err, stderr.String())
	}
	var r needsReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("ipa-needs.py printed no JSON: %v\n%.2000s", err, stdout.String())
	}
	return &r
}

// ---------------------------------------------------------------------------
// The table.

// tableEntry is one line of ipa-needs.table.
type tableEntry struct {
	line                  int
	kind, name            string
	providers             []string
	feature, note         string
	unsupported, unneeded bool
}

func (e tableEntry) key() string { return e.kind + " " + e.name }

var (
	tableKinds    = map[string]bool{"program": true, "module": true, "filesystem": true, "path": true, "unresolved": true}
	tableFeatures = map[string]bool{
		"agent": true, "deploy": true, "cleaning": true, "erase": true, "raid": true, "rescue": true,
		"inspection": true, "bmc": true, "multipath": true, "iscsi": true, "time": true, "logs": true,
		"firmware": true, "burnin": true, "container": true,
	}
	packageName    = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*$`)
	br2Symbol      = regexp.MustCompile(`^BR2_[A-Z0-9_]+$`)
	kernelSymbol   = regexp.MustCompile(`^CONFIG_[A-Z0-9_]+$`)
	programName    = regexp.MustCompile(`^[A-Za-z0-9_./+-]+$`)
	providerPrefix = []string{"default:", "busybox:", "overlay:", "post-build:", "skeleton:"}
)

// readNeedsTable parses ipa-needs.table; it fails t for each malformed line.
func readNeedsTable(t *testing.T) []tableEntry {
	t.Helper()
	path := filepath.Join(boardDir(t), "ipa-needs.table")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tableEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 {
			t.Errorf("ipa-needs.table:%d: want KIND NAME PROVIDER FEATURE [NOTE], got %q", n, line)
			continue
		}
		e := tableEntry{line: n, kind: fields[0], name: fields[1], feature: fields[3],
			note: strings.Join(fields[4:], " ")}
		switch fields[2] {
		case "unsupported":
			e.unsupported = true
		case "unneeded":
			e.unneeded = true
		default:
			e.providers = strings.Split(fields[2], ",")
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// providerKind sorts a provider of the table into the check that proves it.
func providerKind(p string) (kind, value string) {
	for _, prefix := range providerPrefix {
		if v, ok := strings.CutPrefix(p, prefix); ok {
			return strings.TrimSuffix(prefix, ":"), v
		}
	}
	switch {
	case br2Symbol.MatchString(p):
		return "br2", p
	case kernelSymbol.MatchString(p):
		return "kernel", p
	case packageName.MatchString(p):
		return "package", p
	}
	return "", p
}

// TestIPANeedsTable checks the table on its own and against this tree:
// the form of each line, the kernel symbols of the fragment, the overlay.
func TestIPANeedsTable(t *testing.T) {
	entries := readNeedsTable(t)
	if len(entries) < 50 {
		t.Fatalf("ipa-needs.table has %d entries; is it the right file?", len(entries))
	}
	fragment, err := buildroot.ReadConfigFile(filepath.Join(boardDir(t), "linux.fragment"))
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(boardDir(t), "rootfs-overlay")
	// What post-build.sh makes: run it, as the hermetic tier does, on a
	// target directory shaped like the image's.
	var built string
	if len(providers(entries, "post-build")) > 0 {
		p := newProject(t)
		built = fakeTarget(t, p, false)
		if r := p.run(t, "post-build.sh", true, built); r.code != 0 {
			t.Fatalf("post-build.sh exit %d: %s", r.code, r.stderr)
		}
	}
	seen := map[string]int{}
	programs := map[string]bool{}
	for _, e := range entries {
		if e.kind == "program" {
			programs[e.name] = true
		}
	}
	for _, e := range entries {
		where := fmt.Sprintf("ipa-needs.table:%d: %s", e.line, e.key())
		if first, dup := seen[e.key()]; dup {
			t.Errorf("%s: already on line %d", where, first)
		}
		seen[e.key()] = e.line
		if !tableKinds[e.kind] {
			t.Errorf("%s: unknown kind %q", where, e.kind)
		}
		if !tableFeatures[e.feature] {
			t.Errorf("%s: unknown feature %q", where, e.feature)
		}
		if (e.unsupported || e.unneeded) && e.note == "" {
			t.Errorf("%s: unsupported and unneeded need a note saying why", where)
		}
		if e.kind == "unresolved" {
			// The programs a reviewer found behind the call: each needs a
			// line of its own, so that it is provided or declared.
			if !strings.Contains(e.name, ".py:") {
				t.Errorf("%s: want FILE.py:EXPRESSION", where)
			}
			for _, p := range e.providers {
				if p != "none" && !programs[p] {
					t.Errorf("%s: program %s has no line of its own", where, p)
				}
			}
			continue
		}
		if e.kind == "program" && !programName.MatchString(e.name) {
			t.Errorf("%s: %q is not a program name", where, e.name)
		}
		if e.kind == "path" && !strings.HasPrefix(e.name, "/") {
			t.Errorf("%s: not an absolute path", where)
		}
		for _, p := range e.providers {
			kind, v := providerKind(p)
			switch kind {
			case "kernel":
				if !fragment.Enabled(v) {
					t.Errorf("%s: %s is not set by linux.fragment (a symbol of x86_64_defconfig is default:%s)", where, v, v)
				}
			case "default":
				if !kernelSymbol.MatchString(v) {
					t.Errorf("%s: %s is not a kernel symbol", where, p)
				} else if _, ok := fragment.Values[v]; ok {
					t.Errorf("%s: linux.fragment sets %s; name it without default:", where, v)
				}
			case "busybox":
				if !kernelSymbol.MatchString(v) {
					t.Errorf("%s: %s is not a BusyBox symbol", where, p)
				}
			case "overlay":
				if _, err := os.Stat(filepath.Join(overlay, filepath.FromSlash(v))); err != nil {
					t.Errorf("%s: %v", where, err)
				}
			case "post-build":
				if _, err := os.Stat(filepath.Join(built, filepath.FromSlash(v))); err != nil {
					t.Errorf("%s: post-build.sh does not make %s: %v", where, v, err)
				}
			case "skeleton", "br2", "package":
			default:
				t.Errorf("%s: provider %q is none of the forms the table's header lists", where, p)
			}
		}
	}
}

// providers lists the table's providers of one check kind, with the lines
// naming them.
func providers(entries []tableEntry, kind string) map[string][]int {
	out := map[string][]int{}
	for _, e := range entries {
		if e.kind == "unresolved" {
			continue
		}
		for _, p := range e.providers {
			if k, v := providerKind(p); k == kind {
				out[v] = append(out[v], e.line)
			}
		}
	}
	return out
}

// TestUpstreamIPANeedsProviders checks every package, option, BusyBox
// applet and skeleton directory of the table against the configuration
// real Buildroot makes of the defconfig.
func TestUpstreamIPANeedsProviders(t *testing.T) {
	u := needUpstream(t)
	entries := readNeedsTable(t)
	info := u.showInfo(t)
	cfg, err := buildroot.ReadConfigFile(filepath.Join(u.out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	for pkg, lines := range providers(entries, "package") {
		if _, ok := info[pkg]; !ok {
			t.Errorf("ipa-needs.table:%v: package %s is not in the configuration (show-info)", lines, pkg)
		}
	}
	for sym, lines := range providers(entries, "br2") {
		if !cfg.Enabled(sym) {
			t.Errorf("ipa-needs.table:%v: %s is not enabled", lines, sym)
		}
	}
	for dir, lines := range providers(entries, "skeleton") {
		if fi, err := os.Stat(filepath.Join(u.src, "system", "skeleton", filepath.FromSlash(dir))); err != nil || !fi.IsDir() {
			t.Errorf("ipa-needs.table:%v: %s is not a directory of Buildroot's skeleton", lines, dir)
		}
	}

	// BusyBox: Buildroot's configuration of it, less what the fragment
	// switches off.
	applets := providers(entries, "busybox")
	if len(applets) > 0 {
		if _, ok := info["busybox"]; !ok {
			t.Fatal("the table relies on BusyBox, which is not in the configuration")
		}
		base, err := buildroot.ReadConfigFile(filepath.Join(u.src, filepath.FromSlash(cfg.Values["BR2_PACKAGE_BUSYBOX_CONFIG"])))
		if err != nil {
			t.Fatal(err)
		}
		frag, err := buildroot.ReadConfigFile(filepath.Join(boardDir(t), "busybox.fragment"))
		if err != nil {
			t.Fatal(err)
		}
		for sym, lines := range applets {
			if !base.Enabled(sym) {
				t.Errorf("ipa-needs.table:%v: %s is off in Buildroot's BusyBox configuration", lines, sym)
			}
			if v, ok := frag.Values[sym]; ok && v == "n" {
				t.Errorf("ipa-needs.table:%v: busybox.fragment switches %s off", lines, sym)
			}
		}
	}
}

// TestKernelIPANeedsDefaults checks the kernel symbols the table takes from
// x86_64_defconfig are set once the fragment is merged.
func TestKernelIPANeedsDefaults(t *testing.T) {
	got := mergedKernelConfig(t)
	defaults := providers(readNeedsTable(t), "default")
	if len(defaults) == 0 {
		t.Skip("the table relies on no x86_64_defconfig symbol")
	}
	for sym, lines := range defaults {
		if !got.Enabled(sym) {
			t.Errorf("ipa-needs.table:%v: %s is not set in x86_64_defconfig merged with linux.fragment", lines, sym)
		}
	}
}

// ---------------------------------------------------------------------------
// The extractor on a made-up package.

// TestIPANeedsExtractor runs ipa-needs.py on testdata/ipa-needs/, where
// each construct it must read has one instance, and compares all it finds.
func TestIPANeedsExtractor(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "ipa-needs"))
	if err != nil {
		t.Fatal(err)
	}
	r := runIPANeeds(t, "hermetic", dir, "--package", "sample_agent")
	wantFiles := []string{
		"sample_agent/__init__.py", "sample_agent/extensions/__init__.py",
		"sample_agent/extensions/rescue.py", "sample_agent/hardware.py", "sample_agent/utils.py",
	}
	if strings.Join(r.Files, " ") != strings.Join(wantFiles, " ") {
		t.Errorf("files read: %q, want %q (tests/ skipped)", r.Files, wantFiles)
	}
	got := map[string]bool{}
	for _, i := range r.all() {
		s := fmt.Sprintf("%s %s:%d", i.key(), i.File, i.Line)
		if i.Use != "" {
			s += " " + i.Use
		}
		got[s] = true
	}
	const hw, ut = "sample_agent/hardware.py", "sample_agent/utils.py"
	want := []string{
		// utils.execute(*cmd) hands its arguments to processutils.execute:
		// its callers' arguments are read. So are try_execute's, which
		// hands them to execute, and output_of's, through a dict loop.
		"program modprobe " + hw + ":14", // try_execute('modprobe', module)
		"program modprobe " + hw + ":15", // modprobe -r: a program, no module
		"program df " + ut + ":23",
		"program cat " + ut + ":24",
		"program journalctl " + ut + ":31", // subprocess.check_call([...])
		"program mkswap " + ut + ":36",     // args = [...]; execute(*args)
		"program mkfs " + ut + ":38",
		// shell=True: /bin/sh and each command of the pipeline; what chroot
		// runs is the deployed image's.
		"program /bin/sh " + hw + ":22", "program ipmitool " + hw + ":22", "program awk " + hw + ":22",
		"program /bin/sh " + hw + ":28", "program chroot " + hw + ":28",
		"program /bin/sh " + hw + ":59", "program sync " + hw + ":59", "program echo " + hw + ":59", // os.system
		"program mount " + hw + ":30",
		"program env " + hw + ":33", "program qemu-img " + hw + ":33", // env VAR=x PROGRAM
		"program podman " + hw + ":19", "program docker " + hw + ":19", // self.RUNNERS
		"program reboot " + hw + ":45",   // self.power('reboot') -> execute(command)
		"program poweroff " + hw + ":69", // the same, from a function nested in a method
		"program sync sample_agent/extensions/rescue.py:5",
		"module ipmi_si " + hw + ":13", "module ipmi_devintf " + hw + ":13",
		"filesystem vfat " + hw + ":30",
		"path /etc/rescue/password " + hw + ":48 write", // open(PASSWORD_FILE, 'w')
		"path /run/sample-agent " + hw + ":50 mkdir",
		"path /etc/.rescued " + hw + ":51 check",
		"path /etc/sample-agent " + hw + ":54 mkdir", "path /etc/sample-agent.d " + hw + ":54 mkdir",
		"path /sys/firmware/efi/fw_platform_size " + hw + ":55 read", // os.path.join
		"path /var/lib/sample-agent/steps.yaml " + hw + ":9 other",   // named, not used
		// What it cannot work out, for a reviewer.
		"unresolved " + hw + ":CONF.container.runner " + hw + ":39",
		"unresolved " + hw + ":utils.execute " + hw + ":62", // handed on
		"unresolved " + hw + ":ext.execute " + hw + ":65",   // an object not followed
		"unresolved " + hw + ":program " + hw + ":74",       // nobody calls run_anything
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing: %s", w)
		}
		delete(got, w)
	}
	var extra []string
	for g := range got {
		extra = append(extra, g)
	}
	sort.Strings(extra)
	for _, e := range extra {
		t.Errorf("unexpected: %s", e)
	}
}

// ---------------------------------------------------------------------------
// ipa-source: IPA's own code against the table.

// ipaSources returns the IPA trees to read, by name: the checkout
// IPABR_TEST_IPA_SOURCE names, or each of ipaBranches exported from the
// git repository it names.
func ipaSources(t *testing.T) map[string]string {
	t.Helper()
	src := testenv.Env(t, "ipa-source", "IPABR_TEST_IPA_SOURCE")
	if fi, err := os.Stat(filepath.Join(src, "ironic_python_agent")); err == nil && fi.IsDir() {
		return map[string]string{"checkout": src}
	}
	testenv.Program(t, "ipa-source", "git")
	out := map[string]string{}
	for _, branch := range ipaBranches {
		dir := filepath.Join(t.TempDir(), "ipa")
		if err := gitExport(src, branch, "ironic_python_agent", dir); err != nil {
			t.Fatalf("IPABR_TEST_IPA_SOURCE=%s is neither a checkout of ironic-python-agent (no ironic_python_agent/) "+
				"nor a git repository of it with branch %s: %v", src, branch, err)
		}
		out[branch] = dir
	}
	return out
}

// gitExport writes the tree of rev's path in repo to dir, with git archive.
func gitExport(repo, rev, path, dir string) error {
	cmd := exec.Command("git", "-C", repo, "archive", "--format=tar", rev, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git archive %s: %v: %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	tr := tar.NewReader(&stdout)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, dir+string(os.PathSeparator)) {
			return fmt.Errorf("git archive: %s leaves the directory", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			err = writeExported(name, tr)
		}
		if err != nil {
			return err
		}
	}
}

func writeExported(name string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// TestIPANeedsSource reads IPA's source and fails for each thing it needs
// that ipa-needs.table does not account for, naming where IPA needs it.
func TestIPANeedsSource(t *testing.T) {
	sources := ipaSources(t)
	entries := readNeedsTable(t)
	table := map[string]tableEntry{}
	for _, e := range entries {
		table[e.key()] = e
	}
	matched := map[string]bool{}
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(strings.ReplaceAll(name, "/", "-"), func(t *testing.T) {
			r := runIPANeeds(t, "ipa-source", sources[name])
			// A reader that finds next to nothing has failed, not IPA.
			if len(r.Files) < 30 || distinct(r.Programs) < 40 || len(r.Modules) == 0 || len(r.Paths) == 0 {
				t.Fatalf("ipa-needs.py read %d files and found %d programs, %d modules, %d paths: too few",
					len(r.Files), distinct(r.Programs), len(r.Modules), len(r.Paths))
			}
			t.Logf("%s: %d files; %d programs (%d places), %d modules, %d file systems, %d paths, %d unresolved",
				name, len(r.Files), distinct(r.Programs), len(r.Programs), distinct(r.Modules),
				distinct(r.Filesystems), distinct(r.Paths), distinct(r.Unresolved))
			missing := map[string][]needItem{}
			for _, i := range r.all() {
				if _, ok := table[i.key()]; ok {
					matched[i.key()] = true
					continue
				}
				missing[i.key()] = append(missing[i.key()], i)
			}
			keys := make([]string, 0, len(missing))
			for k := range missing {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				var at []string
				for _, i := range missing[k] {
					at = append(at, i.String())
				}
				if len(at) > 5 {
					at = append(at[:5], fmt.Sprintf("and %d more places", len(at)-5))
				}
				t.Errorf("IPA %s needs %s at %s; ipa-needs.table has no line for it", name, k, strings.Join(at, ", "))
			}
		})
	}
	// Lines nothing needs any more go, once every branch has been read.
	if len(sources) == len(ipaBranches) && !t.Failed() {
		for _, e := range entries {
			if !matched[e.key()] {
				t.Errorf("ipa-needs.table:%d: neither %s needs %s; remove the line", e.line, strings.Join(ipaBranches, " nor "), e.key())
			}
		}
	}
}

// TestIPANeedsDocumented checks doc/image.md's section on IPA's needs shows
// every line of the table.
func TestIPANeedsDocumented(t *testing.T) {
	doc := readFile(t, filepath.Join(repoRoot(t), "doc", "image.md"))
	const heading = "\n## What IPA needs, and what the image provides\n"
	_, section, ok := strings.Cut(doc, heading)
	if !ok {
		t.Fatalf("doc/image.md has no section %q", strings.TrimSpace(heading))
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	for _, e := range readNeedsTable(t) {
		name := e.name
		if e.kind == "unresolved" {
			_, name, _ = strings.Cut(name, ".py:")
		}
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("ipa-needs.table:%d: doc/image.md's section does not show `%s`", e.line, name)
		}
	}
}
