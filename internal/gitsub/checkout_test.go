package gitsub

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/ipabr/ipabr/internal/testenv"
)

// TestCheckoutFreshMatchesGit: a tree whose objects are spread over two
// packs (with delta chains) and loose objects is written exactly as git
// has it (every file's content hashes to the id in `git ls-tree`, modes
// and symlinks included), and git finds the checkout clean.
func TestCheckoutFreshMatchesGit(t *testing.T) {
	src := statusRepo(t)
	// Similar files, so that the pack holds deltas.
	common := strings.Repeat("# Buildroot package makefile, shared boilerplate line\n", 80)
	for i := range 40 {
		testenv.WriteFile(t, filepath.Join(src, fmt.Sprintf("package/p%02d/p%02d.mk", i, i)), common+fmt.Sprintf("P%02d_VERSION = %d\n", i, i))
	}
	gitT(t, src, "add", "-A")
	gitT(t, src, "commit", "-qm", "packages")
	gitT(t, src, "repack", "-adfq", "--depth=50", "--window=50")
	for i := range 10 {
		testenv.WriteFile(t, filepath.Join(src, fmt.Sprintf("package/p%02d/p%02d.mk", i, i)), common+fmt.Sprintf("P%02d_VERSION = %d.1\n", i, i))
	}
	gitT(t, src, "add", "-A")
	gitT(t, src, "commit", "-qm", "bumps")
	gitT(t, src, "repack", "-dq") // a second pack
	testenv.WriteFile(t, filepath.Join(src, "package/new/new.mk"), "NEW_VERSION = 1\n")
	gitT(t, src, "add", "-A")
	gitT(t, src, "commit", "-qm", "loose") // loose objects
	packs, _ := filepath.Glob(filepath.Join(src, ".git/objects/pack/*.pack"))
	if len(packs) != 2 {
		t.Fatalf("want 2 packs to read from, have %d", len(packs))
	}
	if v := gitT(t, src, append([]string{"verify-pack", "-v"}, packs...)...); !strings.Contains(v, "chain length = 2") {
		t.Fatalf("the packs hold no delta chains:\n%s", v)
	}
	if c := gitT(t, src, "count-objects"); strings.HasPrefix(c, "0 objects") {
		t.Fatalf("no loose objects: %s", c)
	}

	gitDir := filepath.Join(t.TempDir(), "git")
	if out, err := exec.Command("cp", "-a", filepath.Join(src, ".git"), gitDir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	os.Remove(filepath.Join(gitDir, "index"))
	dst := t.TempDir()
	r, err := git.Open(filesystem.NewStorage(osfs.New(gitDir), cache.NewObjectLRUDefault()), osfs.New(dst))
	if err != nil {
		t.Fatal(err)
	}
	head := plumbing.NewHash(gitT(t, src, "rev-parse", "HEAD"))
	if err := checkoutFresh(context.Background(), r, dst, head, nil); err != nil {
		t.Fatal(err)
	}

	tree := gitT(t, src, "ls-tree", "-r", "HEAD")
	lines := strings.Split(tree, "\n")
	for _, line := range lines {
		meta, name, _ := strings.Cut(line, "\t")
		f := strings.Fields(meta) // mode, type, id
		path := filepath.Join(dst, name)
		fi, err := os.Lstat(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := hashFile(path, fileStat{mode: fi.Mode(), size: fi.Size()})
		if err != nil || got.String() != f[2] {
			t.Errorf("%s: content hashes to %s (%v), git has %s", name, got, err, f[2])
		}
		mode := map[string]string{"100644": "-rw-r--r--", "100755": "-rwxr-xr-x", "120000": "Lrwxrwxrwx"}[f[0]]
		if fi.Mode().String() != mode {
			t.Errorf("%s: mode %s, want %s (git %s)", name, fi.Mode(), mode, f[0])
		}
	}
	files, _ := filepath.Glob(filepath.Join(dst, "package/p*/*.mk"))
	if len(files) != 40 || len(lines) < 50 {
		t.Errorf("checked out %d package files, tree has %d files", len(files), len(lines))
	}
	out, err := testenv.GitCommand(dst, "--git-dir="+gitDir, "--work-tree="+dst, "status", "--porcelain").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("git status on the checkout: %v\n%s", err, out)
	}
}
