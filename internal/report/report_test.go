package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A squarified layout covers the rectangle exactly, each tile's area in
// proportion to its value, without overlaps, and keeps tiles squarish.
func TestSquarify(t *testing.T) {
	values := []float64{600, 300, 120, 90, 60, 30, 12, 6, 3, 1}
	r := Rect{10, 20, 400, 250}
	rects := squarify(values, r)
	var total float64
	for _, v := range values {
		total += v
	}
	for i, a := range rects {
		if want := values[i] / total * r.W * r.H; math.Abs(a.W*a.H-want) > 1e-6*want {
			t.Errorf("tile %d: area %.3f, want %.3f", i, a.W*a.H, want)
		}
		if a.X < r.X-1e-9 || a.Y < r.Y-1e-9 || a.X+a.W > r.X+r.W+1e-9 || a.Y+a.H > r.Y+r.H+1e-9 {
			t.Errorf("tile %d %+v outside %+v", i, a, r)
		}
		for j, b := range rects[:i] {
			ox := math.Min(a.X+a.W, b.X+b.W) - math.Max(a.X, b.X)
			oy := math.Min(a.Y+a.H, b.Y+b.H) - math.Max(a.Y, b.Y)
			if ox > 1e-9 && oy > 1e-9 {
				t.Errorf("tiles %d and %d overlap: %+v %+v", j, i, b, a)
			}
		}
	}
	// The biggest tile is not a sliver.
	if ratio := math.Max(rects[0].W/rects[0].H, rects[0].H/rects[0].W); ratio > 2 {
		t.Errorf("first tile aspect ratio %.2f", ratio)
	}
	if got := squarify([]float64{1}, Rect{0, 0, 0, 5}); got[0] != (Rect{}) {
		t.Errorf("empty rectangle: %+v", got)
	}
}

// writeTree makes an output directory: target files (path → content;
// "->x" is a symlink to x, "=x" a hard link to x) and the lines of
// build/packages-file-list.txt.
func writeTree(t *testing.T, files map[string]string, list string) string {
	t.Helper()
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	for _, pass := range []int{0, 1} { // links after their targets
		for p, c := range files {
			full := filepath.Join(target, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			link := strings.HasPrefix(c, "->") || strings.HasPrefix(c, "=")
			if link != (pass == 1) {
				continue
			}
			var err error
			switch {
			case strings.HasPrefix(c, "->"):
				err = os.Symlink(c[2:], full)
			case strings.HasPrefix(c, "="):
				err = os.Link(filepath.Join(target, c[1:]), full)
			default:
				err = os.WriteFile(full, []byte(c), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileListFile), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Sizes are counted as size-stats counts them: symlinks never, each inode
// once, x.pyc with x.py, the last package to list a file owns it, and
// files no package lists are unknown.
func TestReadRootfs(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"bin/busybox":            strings.Repeat("b", 1000),
		"bin/sh":                 "->busybox",
		"bin/ls.hard":            "=bin/busybox",
		"usr/lib/python3/os.py":  strings.Repeat("p", 100),
		"usr/lib/python3/os.pyc": strings.Repeat("c", 50),
		"etc/shared.conf":        strings.Repeat("s", 10),
		"etc/motd":               "hi",
	}, "busybox,./bin/busybox\nbusybox,./bin/sh\nbusybox,./bin/ls.hard\npython3,./usr/lib/python3/os.py\n"+
		"busybox,./etc/shared.conf\nsystemd,./etc/shared.conf\ngone,./usr/bin/removed\n")
	fs, err := ReadRootfs(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := fs.Sizes()
	want := map[string]int64{"busybox": 1000, "python3": 150, "systemd": 10, Unknown: 2}
	if len(got) != len(want) {
		t.Errorf("sizes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d bytes, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if fs.Total != 1162 || fs.Packages[0].Name != "busybox" || fs.Packages[len(fs.Packages)-1].Name != Unknown {
		t.Errorf("total %d, order %v", fs.Total, fs.Packages)
	}

	if _, err := ReadRootfs(t.TempDir()); err == nil || !strings.Contains(err.Error(), FileListFile) {
		t.Errorf("no file list: %v", err)
	}
	bad := writeTree(t, map[string]string{}, "busybox ./bin/busybox\n")
	if _, err := ReadRootfs(bad); err == nil || !strings.Contains(err.Error(), `packages-file-list.txt:1: "busybox ./bin/busybox" is not "package,./path"`) {
		t.Errorf("malformed list: %v", err)
	}
}

// The agent's package is split by the RECORD of each installed wheel;
// what no RECORD lists is a part of its own.
func TestAgentSplitByWheel(t *testing.T) {
	site := "usr/lib/python3.14/site-packages/"
	dir := writeTree(t, map[string]string{
		site + "psutil/__init__.py":              strings.Repeat("x", 300),
		site + "psutil/__init__.pyc":             strings.Repeat("x", 200),
		site + "psutil-7.2.2.dist-info/METADATA": "Metadata-Version: 2.1\nName: psutil\nVersion: 7.2.2\n",
		site + "psutil-7.2.2.dist-info/RECORD":   "psutil/__init__.py,sha256=x,300\npsutil-7.2.2.dist-info/METADATA,,\n",
		site + "pbr/version.py":                  strings.Repeat("x", 100),
		site + "pbr-7.0.3.dist-info/RECORD":      "pbr/version.py,,\n../../../bin/pbr,,\n",
		"usr/bin/pbr":                            strings.Repeat("x", 40),
		"usr/share/ipa/notes":                    strings.Repeat("x", 7),
	}, "")
	var list strings.Builder
	for _, p := range []string{site + "psutil/__init__.py", site + "psutil-7.2.2.dist-info/METADATA", site + "psutil-7.2.2.dist-info/RECORD",
		site + "pbr/version.py", site + "pbr-7.0.3.dist-info/RECORD", "usr/bin/pbr", "usr/share/ipa/notes"} {
		list.WriteString(AgentPackage + ",./" + p + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, FileListFile), []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := ReadRootfs(dir)
	if err != nil {
		t.Fatal(err)
	}
	parts := fs.Packages[0].Parts
	got := map[string]PartSize{}
	for _, p := range parts {
		got[p.Name] = p
	}
	meta := int64(len("Metadata-Version: 2.1\nName: psutil\nVersion: 7.2.2\n"))
	if p := got["psutil"]; p.Version != "7.2.2" || p.Size != 500+meta || p.Files != 3 {
		t.Errorf("psutil: %+v", p)
	}
	// pbr has no METADATA: name and version from the directory; its RECORD
	// is not in its RECORD here, so it is not part of it.
	if p := got["pbr"]; p.Version != "7.0.3" || p.Size != 140 || p.Files != 2 {
		t.Errorf("pbr: %+v", p)
	}
	// Both RECORDs (neither lists itself here) and the notes.
	if p := got[OtherPart]; p.Files != 3 || p.Size != int64(len("psutil/__init__.py,sha256=x,300\npsutil-7.2.2.dist-info/METADATA,,\n")+len("pbr/version.py,,\n../../../bin/pbr,,\n")+7) {
		t.Errorf("%s: %+v (all: %+v)", OtherPart, p, parts)
	}
	if parts[0].Name != "psutil" {
		t.Errorf("parts not biggest first: %+v", parts)
	}
}

func TestReadBuildTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build-time.log")
	log := `1000.000000000:start:download            : busybox
1001.500000000:end  :download            : busybox
1001.500000000:start:build               : busybox
1011.500000000:end  :build               : busybox
1012.000000000:start:build               : linux
1112.000000000:end  :build               : linux
1112.000000000:start:install-target      : linux
1114.000000000:end  :install-target      : linux
1200.000000000:start:build               : busybox
1203.000000000:end  :build               : busybox
1300.000000000:start:build               : host-broken
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	bt, err := ReadBuildTime(path)
	if err != nil {
		t.Fatal(err)
	}
	// busybox was rebuilt: its last build counts (3 s), not the first (10 s).
	if len(bt.Packages) != 3 || bt.Packages[0].Name != "linux" || bt.Packages[0].Seconds != 102 ||
		bt.Packages[1].Name != "busybox" || bt.Packages[1].Seconds != 4.5 || bt.Packages[2].Seconds != 0 {
		t.Fatalf("packages %+v", bt.Packages)
	}
	if s := bt.Packages[0].Steps; len(s) != 2 || s[0].Step != "build" || s[1].Step != "install-target" {
		t.Errorf("linux steps %+v", s)
	}
	if bt.TotalSeconds != 106.5 {
		t.Errorf("total %v", bt.TotalSeconds)
	}
	if err := os.WriteFile(path, []byte("1000:begin:build: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBuildTime(path); err == nil || !strings.Contains(err.Error(), "build-time.log:1:") {
		t.Errorf("malformed line: %v", err)
	}
}

// Compare follows utils/size-stats-compare: new minus old per package,
// added and removed packages flagged; biggest change first.
func TestCompare(t *testing.T) {
	old := &Report{Output: "old", Rootfs: Rootfs{Packages: []PackageSize{{Name: "a", Size: 100}, {Name: "b", Size: 50}, {Name: "gone", Size: 30}, {Name: "same", Size: 9}}},
		BuildTime: BuildTime{Packages: []PackageTime{{Name: "a", Seconds: 10}}}, Images: Images{Initramfs: &ImageFile{File: "ipa.initramfs", Size: 1000}}}
	r := &Report{Rootfs: Rootfs{Packages: []PackageSize{{Name: "a", Size: 90}, {Name: "b", Size: 250}, {Name: "new", Size: 20}, {Name: "same", Size: 9}}},
		BuildTime: BuildTime{Packages: []PackageTime{{Name: "a", Seconds: 12.5}}}, Images: Images{Initramfs: &ImageFile{File: "ipa.initramfs", Size: 1500}}}
	c := Compare(r, old)
	var got []string
	for _, d := range c.Size {
		got = append(got, d.Package+" "+d.Change)
	}
	if strings.Join(got, ",") != "b ,gone removed,new added,a " {
		t.Errorf("order %q", got)
	}
	if c.Size[1].Diff != -30 || c.Size[2].Diff != 20 || c.Size[0].Old != 50 || c.Size[0].New != 250 {
		t.Errorf("deltas %+v", c.Size)
	}
	if c.SizeTotal.Diff != 369-189 || c.TimeTotal.Diff != 2.5 || c.Initramfs.Diff != 500 || c.Output != "old" {
		t.Errorf("totals %+v %+v %+v", c.SizeTotal, c.TimeTotal, c.Initramfs)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"60MB": 60_000_000, "60M": 60_000_000, "57.5MiB": 60293120, "800kB": 800_000,
		"1GiB": 1 << 30, "1000": 1000, "12 KiB": 12288, "3B": 3} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "60 TB", "-1MB", "0", "60mb", "1e9"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}

// The page is one file with everything inline: no script, style or image
// fetched from anywhere.
func TestRenderSelfContained(t *testing.T) {
	dir := writeTree(t, map[string]string{"bin/busybox": strings.Repeat("b", 5000), "etc/motd": "<script>alert(1)</script>"},
		"busybox,./bin/busybox\n<b>&x,./etc/motd\n")
	r, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Against = Compare(r, &Report{Output: "other"})
	var b bytes.Buffer
	if err := Render(&b, r, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"src=", "href=", "@import", "url(", "<b>&x", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, want := range []string{`data-package="busybox"`, "&lt;b&gt;&amp;x", "No <code>images/ipa-manifest.json</code>", "Against <code>other</code>", "<svg id=\"treemap\""} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
