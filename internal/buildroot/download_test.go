package buildroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const showInfoSample = `{
  "busybox": {"type": "target", "name": "busybox", "virtual": false, "version": "1.37.0",
    "dl_dir": "busybox",
    "downloads": [{"source": "busybox-1.37.0.tar.bz2", "uris": ["https+https://www.busybox.net/downloads"]}]},
  "host-busybox": {"type": "host", "virtual": false, "dl_dir": "busybox",
    "downloads": [{"source": "busybox-1.37.0.tar.bz2", "uris": []}]},
  "ironic-python-agent": {"type": "target", "virtual": false, "dl_dir": "ironic-python-agent",
    "downloads": [{"source": "ironic_python_agent-11.0.0-py3-none-any.whl", "uris": ["https+https://files.example/p"]},
                  {"source": "pbr-6.1.1-py2.py3-none-any.whl", "uris": []}]},
  "toolchain": {"type": "target", "virtual": true},
  "rootfs-cpio": {"type": "rootfs", "image_name": "rootfs.cpio"}
}`

func TestParseDownloads(t *testing.T) {
	ds, err := ParseDownloads([]byte(showInfoSample))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.DLDir+"/"+d.Source)
	}
	want := "busybox/busybox-1.37.0.tar.bz2 ironic-python-agent/ironic_python_agent-11.0.0-py3-none-any.whl ironic-python-agent/pbr-6.1.1-py2.py3-none-any.whl"
	if strings.Join(got, " ") != want {
		t.Fatalf("downloads %v", got)
	}
	dl := t.TempDir()
	os.MkdirAll(filepath.Join(dl, "busybox"), 0o755)
	os.WriteFile(filepath.Join(dl, "busybox", "busybox-1.37.0.tar.bz2"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dl, "ironic-python-agent"), 0o755)
	os.WriteFile(filepath.Join(dl, "ironic-python-agent", "pbr-6.1.1-py2.py3-none-any.whl"), nil, 0o644) // empty: an interrupted download
	missing := MissingDownloads(dl, ds)
	if len(missing) != 2 || missing[0].Package != "ironic-python-agent" || missing[1].Source != "pbr-6.1.1-py2.py3-none-any.whl" {
		t.Fatalf("missing %+v", missing)
	}
	for _, bad := range []string{
		`{"x": {"dl_dir": "..", "downloads": [{"source": "a"}]}}`,
		`{"x": {"dl_dir": "x", "downloads": [{"source": "../../etc/passwd"}]}}`,
		`{"x": {"dl_dir": "/abs", "downloads": [{"source": "a"}]}}`,
		`not json`,
	} {
		if _, err := ParseDownloads([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestValidatePrimarySite(t *testing.T) {
	for _, ok := range []string{"", "http://mirror/br", "https://m.example:8443/dl/", "ftp://m/pub", "file:///srv/dl", "scp://me@host:/srv/dl", "scp://host:dl"} {
		if err := ValidatePrimarySite(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"mirror/br", "http://", "file://relative/dl", "file:dl", "http://m/a b", "http://m/$(x)", "gopher://m", "http://m/\"x", "scp://host/dl", "scp://me@:dl"} {
		if err := ValidatePrimarySite(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseDownloads: show-info comes from a Buildroot tree and its
// packages; whatever it says, the files ipabr checks stay inside dl/.
func FuzzParseDownloads(f *testing.F) {
	f.Add([]byte(showInfoSample))
	f.Add([]byte(`{"a": {"downloads": [{"source": "x.tar.gz"}]}}`))
	f.Add([]byte(`{"a": {"dl_dir": "a/../..", "downloads": [{"source": "."}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := ParseDownloads(data)
		if err != nil {
			return
		}
		dl := "/dl"
		seen := map[string]bool{}
		for _, d := range ds {
			p := d.Path(dl)
			if filepath.Dir(filepath.Dir(p)) != dl || filepath.Base(p) != d.Source || filepath.Base(filepath.Dir(p)) != d.DLDir {
				t.Fatalf("%+v resolves to %s, outside %s/<dir>/<file>", d, p, dl)
			}
			if seen[p] {
				t.Fatalf("%s listed twice", p)
			}
			seen[p] = true
		}
	})
}
