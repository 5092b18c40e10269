package ipa

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValidateSeries(t *testing.T) {
	for _, ok := range []string{"2026.1", "2025.2", "master", "zed", "2026.1-em"} {
		if err := ValidateSeries(ok); err != nil {
			t.Errorf("ValidateSeries(%q) = %v, want nil", ok, err)
		}
	}
	bad := []string{
		"", "..", "../2026.1", "2026.1/..", "a/b", "stable/2026.1", "2026.1;rm -rf /", "$(shell id)",
		"`id`", "2026.1 master", "Master", ".hidden", "-x", "2026..1", "a'b", "a\"b", "a\\b", "a\nb",
		"2026.1#", strings.Repeat("a", 40),
	}
	for _, s := range bad {
		if err := ValidateSeries(s); err == nil {
			t.Errorf("ValidateSeries(%q) accepted it", s)
		}
	}
	if err := ValidateSeries("stable/2026.1"); err == nil || !strings.Contains(err.Error(), "use 2026.1") {
		t.Errorf("a branch name should point at the series: %v", err)
	}
}

func TestSortSeries(t *testing.T) {
	s := []string{"master", "2026.1", "2025.2", "zed", "2025.1", "yoga", "2026.2", "2024.10"}
	SortSeries(s)
	want := []string{"yoga", "zed", "2024.10", "2025.1", "2025.2", "2026.1", "2026.2", "master"}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("SortSeries = %q, want %q", s, want)
	}
	if got := NewestRelease([]string{"master", "2025.2", "2026.1", "zed"}); got != "2026.1" {
		t.Errorf("NewestRelease = %q, want 2026.1 (master and named series are not releases)", got)
	}
	if got := NewestRelease([]string{"master"}); got != "" {
		t.Errorf("NewestRelease(master) = %q, want none", got)
	}
	if Branch("master") != "master" || Branch("2026.1") != "stable/2026.1" {
		t.Errorf("Branch: %q %q", Branch("master"), Branch("2026.1"))
	}
}

// external makes an external tree with the package's real Config.in and
// .mk.
func external(t *testing.T) string {
	t.Helper()
	ext := t.TempDir()
	if err := os.MkdirAll(PackageDir(ext), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Config.in", Package + ".mk"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "buildroot-ipa", "package", Package, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(PackageDir(ext), name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ext
}

func fakeLock(t *testing.T, ext, series string) {
	t.Helper()
	dir := LockDir(ext, series)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, LockFile), []byte("# lock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultSeriesFollowsLocks(t *testing.T) {
	ext := external(t)
	if d, err := DefaultSeriesIn(ext); err != nil || d != DefaultSeries {
		t.Fatalf("the committed default is %q (%v), want %s", d, err, DefaultSeries)
	}
	// master is not a release: the default stays.
	fakeLock(t, ext, "master")
	if d, changed, err := UpdateDefaultSeries(ext); err != nil || changed || d != DefaultSeries {
		t.Errorf("with a master lock: default %q changed=%v err=%v", d, changed, err)
	}
	fakeLock(t, ext, "2026.2")
	fakeLock(t, ext, "2025.2")
	// A directory without a lock file does not count.
	if err := os.MkdirAll(LockDir(ext, "2027.1"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, changed, err := UpdateDefaultSeries(ext)
	if err != nil || !changed || d != "2026.2" {
		t.Fatalf("UpdateDefaultSeries = %q, %v, %v; want 2026.2, changed", d, changed, err)
	}
	text, _ := os.ReadFile(filepath.Join(PackageDir(ext), "Config.in"))
	if !strings.Contains(string(text), "\tdefault \"2026.2\"\n") || strings.Contains(string(text), "default \"2026.1\"") {
		t.Errorf("Config.in not updated:\n%s", text)
	}
	// Only the series option changed: the git ref keeps its default.
	if !strings.Contains(string(text), "default \"master\"") {
		t.Error("the git ref's default was touched")
	}
	if got, _ := DefaultSeriesIn(ext); got != "2026.2" {
		t.Errorf("DefaultSeriesIn after update = %q", got)
	}
	if got := Locks(ext); !reflect.DeepEqual(got, []string{"2025.2", "2026.2", "master"}) {
		t.Errorf("Locks = %q", got)
	}
}
