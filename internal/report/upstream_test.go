package report_test

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/report"
	"github.com/ipabr/ipabr/internal/testenv"
)

// matplotlibPython is a python3 that can run Buildroot's size-stats (it
// exits without matplotlib, even for its CSV files) and size-stats-compare
// (which needs six).
func matplotlibPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import matplotlib, six").Run() == nil {
			return py
		}
	}
	testenv.Skip(t, "upstream", "no python3 with matplotlib and six for Buildroot's size-stats (apt-get install python3-matplotlib python3-six)")
	return ""
}

// copyOutput copies what size-stats reads of an output directory.
func copyOutput(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"target", "build"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join(from, sub))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

// Buildroot's own size-stats, at the pin, on the fixture build's target
// made harder (a hard link, a symlink, x.py with x.pyc, a file two
// packages install, files no package installed), agrees with ipabr's
// counting file by file and package by package; and utils/size-stats-compare
// on two such builds agrees with report.Compare.
func TestSizeStatsAgrees(t *testing.T) {
	top := testenv.UpstreamCheckout(t)
	py := matplotlibPython(t)
	out := copyOutput(t, testenv.FakeImage(t))
	target := filepath.Join(out, "target")
	write := func(rel, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(target, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(target, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/lib/python3.14/json/__init__.py", strings.Repeat("j", 700))
	write("usr/lib/python3.14/json/__init__.pyc", strings.Repeat("c", 333))
	write("etc/shared.conf", "x=1\n")
	write("etc/overlay-only", strings.Repeat("o", 99))
	if err := os.Link(filepath.Join(target, "usr/lib/fake/busybox.so"), filepath.Join(target, "usr/lib/fake/busybox-again.so")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("python3.so", filepath.Join(target, "usr/lib/fake/python3-link.so")); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(out, report.FileListFile)
	f, err := os.OpenFile(list, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("python3,./usr/lib/python3.14/json/__init__.py\nbusybox,./etc/shared.conf\nsystemd,./etc/shared.conf\n" +
		"busybox,./usr/lib/fake/busybox-again.so\npython3,./usr/lib/fake/python3-link.so\n")
	f.Close()

	sizeStats := func(dir string) (files, pkgs string) {
		t.Helper()
		files, pkgs = filepath.Join(dir, "file-size-stats.csv"), filepath.Join(dir, "package-size-stats.csv")
		cmd := exec.Command(py, filepath.Join(top, "support", "scripts", "size-stats"), "--builddir", dir, "--file-size-csv", files, "--package-size-csv", pkgs)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("size-stats: %v\n%s", err, o)
		}
		return files, pkgs
	}
	filesCSV, pkgsCSV := sizeStats(out)

	fs, err := report.ReadRootfs(out)
	if err != nil {
		t.Fatal(err)
	}
	ours := fs.Sizes()
	theirs := map[string]int64{}
	for _, row := range readCSV(t, pkgsCSV) {
		n, _ := strconv.ParseInt(row[1], 10, 64)
		theirs[row[0]] = n
	}
	if len(ours) != len(theirs) {
		t.Errorf("packages: ipabr %v, size-stats %v", ours, theirs)
	}
	for pkg, n := range theirs {
		if ours[pkg] != n {
			t.Errorf("%s: ipabr %d bytes, size-stats %d", pkg, ours[pkg], n)
		}
	}
	if theirs["systemd"] == 0 || theirs[report.Unknown] == 0 || theirs["python3"] != 1536<<10+int64(len("python3 3.14.5\n"))+700+333 {
		t.Errorf("the hard cases did not count as expected: %v", theirs)
	}
	owner, err := report.ReadFileList(list, target)
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, filesCSV)
	for _, row := range rows {
		if owner[row[0]] != row[1] {
			t.Errorf("%s: ipabr says %q, size-stats %q", row[0], owner[row[0]], row[1])
		}
	}
	if len(rows) != len(owner) {
		t.Errorf("size-stats lists %d files, ipabr %d", len(rows), len(owner))
	}

	// A second build: python3 grew, busybox is gone, a new package.
	newer := copyOutput(t, out)
	if err := os.WriteFile(filepath.Join(newer, "target/usr/lib/fake/python3.so"), make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(newer, report.FileListFile))
	data = regexp.MustCompile(`(?m)^busybox,.*\n`).ReplaceAll(data, nil)
	data = append(data, "dmidecode,./usr/sbin/dmidecode\n"...)
	if err := os.WriteFile(filepath.Join(newer, report.FileListFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(newer, "target/usr/sbin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(newer, "target/usr/sbin/dmidecode"), make([]byte, 12345), 0o644); err != nil {
		t.Fatal(err)
	}
	newFiles, _ := sizeStats(newer)
	cmp, err := exec.Command(py, filepath.Join(top, "utils", "size-stats-compare"), filesCSV, newFiles).CombinedOutput()
	if err != nil {
		t.Fatalf("size-stats-compare: %v\n%s", err, cmp)
	}
	oldR, err := report.Build(out)
	if err != nil {
		t.Fatal(err)
	}
	newR, err := report.Build(newer)
	if err != nil {
		t.Fatal(err)
	}
	c := report.Compare(newR, oldR)
	got := map[string]string{}
	for _, d := range c.Size {
		got[d.Package] = strconv.FormatInt(d.Diff, 10) + " " + d.Change
	}
	// "<diff> <added|removed|> <package>", then the TOTAL line.
	lineRE := regexp.MustCompile(`^\s*(-?\d+) (added  |removed|       ) (\S+)$`)
	n := 0
	for _, line := range strings.Split(string(cmp), "\n") {
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[3] == "TOTAL" {
			// size-stats-compare's total leaves out unknown files (they are in
			// no package's rows of its CSV); ipabr's counts them.
			unknown := oldR.Rootfs.Sizes()[report.Unknown]
			if want := c.SizeTotal.Diff - (newR.Rootfs.Sizes()[report.Unknown] - unknown); strconv.FormatInt(want, 10) != m[1] {
				t.Errorf("TOTAL: size-stats-compare %s, ipabr %d", m[1], want)
			}
			continue
		}
		if m[1] == "0" {
			continue // ipabr leaves unchanged packages out
		}
		n++
		if want := m[1] + " " + strings.TrimSpace(m[2]); got[m[3]] != want {
			t.Errorf("%s: size-stats-compare %q, ipabr %q", m[3], want, got[m[3]])
		}
	}
	// busybox's files stayed in the target unlisted: ipabr shows them as
	// unknown growth, which size-stats-compare leaves out.
	if n != 3 || len(got) != 4 || got[report.Unknown] == "" {
		t.Errorf("size-stats-compare found %d changes, ipabr %v:\n%s", n, got, cmp)
	}
}
