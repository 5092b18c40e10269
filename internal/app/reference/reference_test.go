package reference

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReferenceIsCurrent: the committed command reference (doc/reference,
// doc/man) is what `make docs` generates from today's commands, file for
// file: a flag added, changed or removed without regenerating fails here.
func TestReferenceIsCurrent(t *testing.T) {
	tmp := t.TempDir()
	md, man := filepath.Join(tmp, "reference"), filepath.Join(tmp, "man")
	if err := Generate(md, man); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{md, "../../../doc/reference"}, {man, "../../../doc/man"}} {
		fresh, committed := files(t, pair[0]), files(t, pair[1])
		for name, want := range fresh {
			got, ok := committed[name]
			switch {
			case !ok:
				t.Errorf("%s/%s is missing: run 'make docs' and commit it", pair[1], name)
			case !bytes.Equal(got, want):
				t.Errorf("%s/%s differs from the commands' help: run 'make docs' and commit it", pair[1], name)
			}
		}
		for name := range committed {
			if _, ok := fresh[name]; !ok {
				t.Errorf("%s/%s documents no command: run 'make docs' (it removes stale pages)", pair[1], name)
			}
		}
	}
}

func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}
