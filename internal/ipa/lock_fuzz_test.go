package ipa

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzReadLock: the lock files in the external tree are edited by people and
// merged by git, so ReadLock meets anything. It must not panic, and a lock it
// accepts names a URL for every wheel; a lock ipabr wrote reads back whole.
func FuzzReadLock(f *testing.F) {
	l := &Lock{
		Series: "2026.1", Created: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Target: Target{Python: "3.14", Glibc: "2.42"}, Index: "https://pypi.example/simple", IPAVersion: "11.1.0",
		Wheels: []Wheel{
			{Name: "ironic-python-agent", Version: "11.1.0", Filename: "ironic_python_agent-11.1.0-py3-none-any.whl",
				URL: "https://files.example/ironic_python_agent-11.1.0-py3-none-any.whl", SHA256: "ab12", Size: 100, License: "Apache-2.0"},
			{Name: "pbr", Version: "6.1.1", Filename: "pbr-6.1.1-py2.py3-none-any.whl",
				URL: "https://files.example/pbr-6.1.1-py2.py3-none-any.whl", SHA256: "cd34", Size: 50, License: "Apache-2.0"},
		},
	}
	mk, hash, manifest := l.Render()
	f.Add(mk, hash, manifest)
	f.Add([]byte("IRONIC_PYTHON_AGENT_LOCK_SERIES = 2026.1\n"), []byte(""), []byte("# empty\n"))
	f.Add([]byte("IRONIC_PYTHON_AGENT_LOCK_SERIES = 2026.1\nIRONIC_PYTHON_AGENT_EXTRA_DOWNLOADS = \\\n  x/a.whl \\\n"), []byte("sha256 00 a.whl\n"), []byte("a 1 a.whl 00 1 MIT\n"))
	external := f.TempDir()
	dir := LockDir(external, "2026.1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			f.Fatal(err)
		}
	}
	// The round trip holds for the lock ipabr itself writes.
	write(LockFile, mk)
	write(HashFile, hash)
	write(ManifestFile, manifest)
	back, err := ReadLock(external, "2026.1")
	if err != nil {
		f.Fatalf("reading a rendered lock: %v", err)
	}
	mk2, hash2, manifest2 := back.Render()
	if !reflect.DeepEqual([][]byte{mk, hash, manifest}, [][]byte{mk2, hash2, manifest2}) {
		f.Fatalf("a rendered lock does not read back the same:\n%s\n%s", manifest, manifest2)
	}
	f.Fuzz(func(t *testing.T, mk, hash, manifest []byte) {
		write(LockFile, mk)
		write(HashFile, hash)
		write(ManifestFile, manifest)
		l, err := ReadLock(external, "2026.1")
		if err != nil {
			return
		}
		for _, w := range l.Wheels {
			if w.URL == "" || w.Filename == "" {
				t.Fatalf("accepted a wheel without URL or file name: %+v", w)
			}
		}
	})
}
