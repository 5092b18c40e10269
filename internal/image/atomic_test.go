package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFileAtomic(p, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if readString(t, p) != "one\n" || modeOf(t, p) != 0o600 {
		t.Errorf("first write: %q %04o", readString(t, p), modeOf(t, p))
	}
	os.Chmod(p, 0o666)
	if err := WriteFileAtomic(p, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if readString(t, p) != "two\n" || modeOf(t, p) != 0o644 {
		t.Errorf("replacement: %q %04o", readString(t, p), modeOf(t, p))
	}
	onlyEntries(t, dir, "f")

	// A symbolic link or a directory in the way is refused.
	link := filepath.Join(dir, "link")
	os.Symlink(p, link)
	if err := WriteFileAtomic(link, []byte("x"), 0o600); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("write over a link: %v", err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := WriteFileAtomic(sub, []byte("x"), 0o600); !errs.Is(err, errs.BadInput) {
		t.Errorf("write over a directory: %v", err)
	}
	if readString(t, p) != "two\n" {
		t.Error("a refused write changed the link's target")
	}
	// A missing directory fails without leaving anything.
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Error("write into a missing directory succeeded")
	}
	onlyEntries(t, dir, "f", "link", "sub")
}

func TestEnsureDir(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "a", "b", ".ssh")
	if err := ensureDir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if modeOf(t, d) != 0o700 || modeOf(t, filepath.Dir(d)) != 0o755 {
		t.Errorf("modes %04o %04o", modeOf(t, d), modeOf(t, filepath.Dir(d)))
	}
	os.Chmod(d, 0o777)
	if err := ensureDir(d, 0o700); err != nil || modeOf(t, d) != 0o700 {
		t.Errorf("existing dir: %v %04o", err, modeOf(t, d))
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if err := ensureDir(f, 0o700); !errs.Is(err, errs.BadInput) {
		t.Errorf("ensureDir over a file: %v", err)
	}
	l := filepath.Join(dir, "l")
	os.Symlink(d, l)
	if err := ensureDir(l, 0o700); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("ensureDir over a link: %v", err)
	}
}

func TestBadInputWrapping(t *testing.T) {
	base := errors.New("inner")
	err := badInputf("context: %w", base)
	if !errs.Is(err, errs.BadInput) || !errors.Is(err, base) || err.Error() != "context: inner" {
		t.Errorf("badInputf: %v", err)
	}
	if badInput(nil) != nil {
		t.Error("badInput(nil) != nil")
	}
	if errs.Is(errors.New("other"), errs.BadInput) {
		t.Error("an unrelated error is bad input")
	}
}
