package ipa

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		// Stored, not deflated: the test's big files stay big.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// filesOf is installedFiles of a wheel in memory.
func filesOf(t *testing.T, wheel []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(wheel), int64(len(wheel)))
	if err != nil {
		t.Fatal(err)
	}
	files, err := installedFiles(zr)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestInstalledFiles(t *testing.T) {
	data := zipOf(t, map[string]string{
		"acme/__init__.py":                     "pkgutil",
		"acme/tests/test_x.py":                 "dropped",
		"acme/__pycache__/x.cpython-314.pyc":   "dropped",
		"acme/old.pyc":                         "dropped",
		"acme/testing.py":                      "kept",
		"acme-1.0.data/purelib/acme/extra.py":  "purelib",
		"acme-1.0.data/platlib/acme/_c.so":     "platlib",
		"acme-1.0.data/scripts/acme-tool":      "#!python",
		"acme-1.0.data/headers/acme.h":         "header",
		"acme-1.0.data/data/share/acme/x.conf": "data",
		"acme-1.0.dist-info/METADATA":          "Name: acme",
		"acme-1.0.dist-info/entry_points.txt":  "[console_scripts]\nacme = acme.cli:main\n\n[gui_scripts]\nacme-gui=acme.gui:run\n[acme.plugins]\nx = y:z\n",
		"acme-1.0.dist-info/RECORD":            "",
		"acme/empty_dir/":                      "",
	})
	got := filesOf(t, data)
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	want := []string{
		"bin/acme", "bin/acme-gui", "bin/acme-tool", "data/share/acme/x.conf", "include/acme.h",
		"site-packages/acme-1.0.dist-info/METADATA", "site-packages/acme-1.0.dist-info/RECORD",
		"site-packages/acme-1.0.dist-info/entry_points.txt", "site-packages/acme/__init__.py",
		"site-packages/acme/_c.so", "site-packages/acme/extra.py", "site-packages/acme/testing.py",
	}
	sort.Strings(paths)
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("installed files:\n%q\nwant\n%q", paths, want)
	}
	if got["bin/acme"] != "script acme.cli:main" || got["bin/acme-gui"] != "script acme.gui:run" {
		t.Errorf("scripts: %q %q", got["bin/acme"], got["bin/acme-gui"])
	}
}

// serveWheel serves data at /w.whl on 127.0.0.1, with byte ranges or
// (ranges false) always whole, and counts the requests.
func serveWheel(t *testing.T, data []byte, ranges bool) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if ranges {
			http.ServeContent(w, r, "w.whl", time.Time{}, bytes.NewReader(data))
			return
		}
		_, _ = w.Write(data)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/w.whl", &n
}

// TestOpenWheelByRanges: a big remote wheel is listed from its end in a
// few requests; a server without ranges gives the whole file instead.
func TestOpenWheelByRanges(t *testing.T) {
	files := map[string]string{"acme-1.0.dist-info/entry_points.txt": "[console_scripts]\nacme = acme:main\n"}
	for i := 0; i < 400; i++ {
		files[fmt.Sprintf("acme/mod%03d.py", i)] = fmt.Sprintf("X = %d\n", i)
	}
	files["acme/blob.bin"] = strings.Repeat("large ", 512<<10)
	data := zipOf(t, files)
	want := filesOf(t, data)
	for _, ranges := range []bool{true, false} {
		u, requests := serveWheel(t, data, ranges)
		zr, err := openWheel(context.Background(), nil, &Wheel{URL: u, Size: int64(len(data))})
		if err != nil {
			t.Fatalf("ranges %v: %v", ranges, err)
		}
		got, err := installedFiles(zr)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ranges %v: %d files, %v", ranges, len(got), err)
		}
		if ranges && requests.Load() > 4 {
			t.Errorf("%d range requests for a wheel's directory and one entry", requests.Load())
		}
		t.Logf("ranges %v: %d requests for %d bytes", ranges, requests.Load(), len(data))
	}
}

func TestCheckOverlaps(t *testing.T) {
	ns := "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
	wheel := func(name string, files map[string]string) Wheel {
		return Wheel{Filename: name + "-1.0-py3-none-any.whl", Local: zipOf(t, files)}
	}
	raid := wheel("acme_raid", map[string]string{"acme/__init__.py": ns, "acme/raid/__init__.py": ""})
	nic := wheel("acme_nic", map[string]string{"acme/__init__.py": ns, "acme/nic/__init__.py": ""})
	if err := checkOverlaps(context.Background(), nil, []Wheel{raid, nic}); err != nil {
		t.Errorf("identical namespace files: %v", err)
	}
	other := wheel("acme_bmc", map[string]string{"acme/__init__.py": "VERSION = 2\n", "acme/bmc/__init__.py": ""})
	err := checkOverlaps(context.Background(), nil, []Wheel{raid, nic, other})
	var oe *OverlapError
	if !errors.As(err, &oe) || oe.Path != "site-packages/acme/__init__.py" || oe.First != raid.Filename || oe.Second != other.Filename {
		t.Errorf("different files: %v", err)
	}
	tool := wheel("acme_tool", map[string]string{"acme_tool.py": "", "acme_tool-1.0.dist-info/entry_points.txt": "[console_scripts]\nacme = acme_tool:main\n"})
	cli := wheel("acme_cli", map[string]string{"acme_cli.py": "", "acme_cli-1.0.dist-info/entry_points.txt": "[console_scripts]\nacme = acme_cli:main\n"})
	if err := checkOverlaps(context.Background(), nil, []Wheel{tool, cli}); !errors.As(err, &oe) || oe.Path != "bin/acme" {
		t.Errorf("two scripts of one name: %v", err)
	}
	// Tests directories are removed after each wheel: no conflict there.
	t1 := wheel("a", map[string]string{"tests/__init__.py": "a"})
	t2 := wheel("b", map[string]string{"tests/__init__.py": "b"})
	if err := checkOverlaps(context.Background(), nil, []Wheel{t1, t2}); err != nil {
		t.Errorf("tests directories: %v", err)
	}
}
