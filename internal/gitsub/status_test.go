package gitsub

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/ipabr/ipabr/internal/testenv"
)

// statusRepo is a repository made and committed by real git, with a few
// files in nested directories, a symlink and an executable.
func statusRepo(t testing.TB) string {
	t.Helper()
	// git and ipabr read the same (empty) user configuration.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	dir := t.TempDir()
	files := map[string]string{
		"Makefile":              "all:\n\ttrue\n",
		"README":                "readme\n",
		"package/a/a.mk":        "A_VERSION = 1\n",
		"package/a/Config.in":   "config BR2_PACKAGE_A\n",
		"package/b/b.mk":        "B_VERSION = 2\n",
		"support/scripts/run":   "#!/bin/sh\n",
		"docs/manual/intro.txt": "intro\n",
		".gitignore":            "/output/\n*.o\n",
		"package/.gitignore":    "*.orig\n",
	}
	for name, content := range files {
		testenv.WriteFile(t, filepath.Join(dir, name), content)
	}
	if err := os.Chmod(filepath.Join(dir, "support/scripts/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("scripts/run", filepath.Join(dir, "support/run-link")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-qm", "base"}} {
		gitT(t, dir, args...)
	}
	return dir
}

// relink makes path a symlink to target, whatever it was.
func relink(t *testing.T, target, path string) {
	t.Helper()
	os.Remove(path)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func gitT(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := testenv.Git(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// agree checks that git lists want in dir, and ipabr the same.
func agree(t *testing.T, dir string, want []string) {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := localChanges(context.Background(), r, dir)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := testenv.GitStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(theirs, want) {
		t.Fatalf("the test's expectation is wrong: git says %q, want %q", theirs, want)
	}
	if !slices.Equal(ours, theirs) {
		t.Errorf("ipabr says %q, git says %q", ours, theirs)
	}
}

// TestLocalChangesAgreeWithGit: for each kind of change, the list equals
// what `git status --porcelain` prints on the same repository.
func TestLocalChangesAgreeWithGit(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   []string
	}{
		{"clean", func(*testing.T, string) {}, nil},
		{"touched but unchanged", func(t *testing.T, dir string) {
			later := time.Now().Add(time.Hour)
			for _, f := range []string{"Makefile", "package/a/a.mk", "support/scripts/run"} {
				if err := os.Chtimes(filepath.Join(dir, f), later, later); err != nil {
					t.Fatal(err)
				}
			}
		}, nil},
		{"rewritten with the same content", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "README"), "readme\n")
		}, nil},
		{"modified, other size", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "package/a/a.mk"), "A_VERSION = 10\n")
		}, []string{" M package/a/a.mk"}},
		{"modified, same size", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "package/b/b.mk"), "B_VERSION = 3\n")
		}, []string{" M package/b/b.mk"}},
		{"executable bit", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "Makefile"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{" M Makefile"}},
		{"deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "docs/manual/intro.txt")); err != nil {
				t.Fatal(err)
			}
		}, []string{" D docs/manual/intro.txt"}},
		{"directory deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "package/a")); err != nil {
				t.Fatal(err)
			}
		}, []string{" D package/a/Config.in", " D package/a/a.mk"}},
		{"file became a symlink", func(t *testing.T, dir string) {
			relink(t, "Makefile", filepath.Join(dir, "README"))
		}, []string{" T README"}},
		{"symlink retargeted", func(t *testing.T, dir string) {
			relink(t, "scripts/RUN", filepath.Join(dir, "support/run-link"))
		}, []string{" M support/run-link"}},
		{"file became a directory", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "README"))
			testenv.WriteFile(t, filepath.Join(dir, "README/inside"), "x\n")
		}, []string{" D README"}},
		{"directory became a file", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "package/a"))
			testenv.WriteFile(t, filepath.Join(dir, "package/a"), "x\n")
		}, []string{" D package/a/Config.in", " D package/a/a.mk", "?? package/a"}},
		{"directory became a symlink", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "package/a"))
			relink(t, "b", filepath.Join(dir, "package/a"))
		}, []string{" D package/a/Config.in", " D package/a/a.mk", "?? package/a"}},
		{"a directory above the files became a file", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "package"))
			testenv.WriteFile(t, filepath.Join(dir, "package"), "x\n")
		}, []string{" D package/.gitignore", " D package/a/Config.in", " D package/a/a.mk", " D package/b/b.mk", "?? package"}},
		{"a directory above the files became a symlink to a copy", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "docs"), filepath.Join(dir, "docs-copy")); err != nil {
				t.Fatal(err)
			}
			relink(t, "docs-copy", filepath.Join(dir, "docs"))
		}, []string{" D docs/manual/intro.txt", "?? docs", "?? docs-copy/"}},
		{"untracked file", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "package/a/new.patch"), "x\n")
		}, []string{"?? package/a/new.patch"}},
		{"untracked directory", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "package/c/sub/c.mk"), "x\n")
		}, []string{"?? package/c/"}},
		{"untracked empty directory", func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "package/empty/deeper"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"ignored files and directories", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "output/build/x"), "x\n")
			testenv.WriteFile(t, filepath.Join(dir, "support/x.o"), "x\n")
			testenv.WriteFile(t, filepath.Join(dir, "package/a/a.mk.orig"), "x\n")
			testenv.WriteFile(t, filepath.Join(dir, "package/d/only.o"), "x\n")
		}, nil},
		{"excluded by info/exclude and the user's ignore file", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, ".git/info/exclude"), "*.local\n")
			testenv.WriteFile(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git/ignore"), "*.swp\n")
			testenv.WriteFile(t, filepath.Join(dir, "Makefile.local"), "x\n")
			testenv.WriteFile(t, filepath.Join(dir, "package/b/.b.mk.swp"), "x\n")
			testenv.WriteFile(t, filepath.Join(dir, "package/b/kept"), "x\n")
		}, []string{"?? package/b/kept"}},
		{"untracked repository", func(t *testing.T, dir string) {
			gitT(t, filepath.Join(dir, "docs"), "init", "-q", "nested")
		}, []string{"?? docs/nested/"}},
		{"staged modification, then modified again", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "package/a/a.mk"), "A_VERSION = 10\n")
			gitT(t, dir, "add", "package/a/a.mk")
			testenv.WriteFile(t, filepath.Join(dir, "package/a/a.mk"), "A_VERSION = 11\n")
			testenv.WriteFile(t, filepath.Join(dir, "README"), "changed readme\n")
			gitT(t, dir, "add", "README")
		}, []string{"M  README", "MM package/a/a.mk"}},
		{"staged addition and removal", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "package/e/e.mk"), "x\n")
			gitT(t, dir, "add", "package/e/e.mk")
			gitT(t, dir, "rm", "-q", "--cached", "package/b/b.mk")
		}, []string{"D  package/b/b.mk", "A  package/e/e.mk", "?? package/b/"}},
		{"staged mode change", func(t *testing.T, dir string) {
			gitT(t, dir, "update-index", "--chmod=-x", "support/scripts/run")
		}, []string{"MM support/scripts/run"}},
		{"intent to add", func(t *testing.T, dir string) {
			testenv.WriteFile(t, filepath.Join(dir, "NEWS"), "news\n")
			gitT(t, dir, "add", "-N", "NEWS")
		}, []string{" A NEWS"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := statusRepo(t)
			c.change(t, dir)
			agree(t, dir, c.want)
		})
	}
}

// TestRacyGit: a file changed without changing size, mtime, ctime or inode
// (what a rewrite within one timestamp tick of the index looks like) is
// caught when its mtime is not older than the index's, and trusted when it
// is, as git does. The index entry is forged to hold the new stat data
// with the old content's id.
func TestRacyGit(t *testing.T) {
	for _, c := range []struct {
		name        string
		indexOffset time.Duration // index mtime relative to the file's
		want        []string
	}{
		{"index as new as the file", 0, []string{" M package/b/b.mk"}},
		{"index older than the file", -time.Second, []string{" M package/b/b.mk"}},
		{"index newer than the file", time.Second, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := statusRepo(t)
			name := "package/b/b.mk"
			path := filepath.Join(dir, name)
			testenv.WriteFile(t, path, "B_VERSION = 3\n") // the committed one says 2
			r, err := git.PlainOpen(dir)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := r.Storer.Index()
			if err != nil {
				t.Fatal(err)
			}
			e, err := idx.Entry(name)
			if err != nil {
				t.Fatal(err)
			}
			st, err := lstatPath(path)
			if err != nil {
				t.Fatal(err)
			}
			*e = *statEntry(st, name, filemode.Regular, e.Hash)
			if err := r.Storer.SetIndex(idx); err != nil {
				t.Fatal(err)
			}
			at := st.mtime.Add(c.indexOffset)
			if err := os.Chtimes(filepath.Join(dir, ".git", "index"), at, at); err != nil {
				t.Fatal(err)
			}
			agree(t, dir, c.want)
		})
	}
}

// TestWriteTreesMatchesGit: the tree ids computed from the index are the
// ones `git write-tree` writes, names that sort around '/' included.
func TestWriteTreesMatchesGit(t *testing.T) {
	dir := statusRepo(t)
	for _, f := range []string{"a-b", "a.c", "a/x", "a0", "a/b/c", "ab/c"} {
		testenv.WriteFile(t, filepath.Join(dir, "sort", f), f+"\n")
	}
	gitT(t, dir, "add", "-A")
	want := gitT(t, dir, "write-tree")
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := r.Storer.Index()
	if err != nil {
		t.Fatal(err)
	}
	trees := map[string]plumbing.Hash{}
	got, n := writeTrees(idx.Entries, "", trees)
	if got.String() != want || n != len(idx.Entries) {
		t.Errorf("writeTrees = %s using %d of %d entries, git write-tree = %s", got, n, len(idx.Entries), want)
	}
	if sub := gitT(t, dir, "rev-parse", want+":sort"); trees["sort"].String() != sub {
		t.Errorf("tree of sort/ = %s, git says %s", trees["sort"], sub)
	}
}
