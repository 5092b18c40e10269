package gitsub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/testenv"
)

// TestReadFindsThePin: the gitlink is read from the project's own index,
// from a linked worktree's (whose .git is a file), and a directory that is
// not a repository is named with the fix.
func TestReadFindsThePin(t *testing.T) {
	dir, sub := syncProject(t)
	linked := filepath.Join(t.TempDir(), "linked")
	if _, err := testenv.Git(dir, "worktree", "add", "-q", linked); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(linked, ".git")); err != nil || fi.IsDir() {
		t.Fatalf("a linked worktree's .git should be a file: %v", err)
	}
	got, err := Read(linked)
	if err != nil {
		t.Fatal(err)
	}
	if got.Commit != sub.Commit || got.URL != sub.URL {
		t.Errorf("linked worktree: pin %s from %s, want %s from %s", got.Commit, got.URL, sub.Commit, sub.URL)
	}

	// A damaged index is named with the command that writes it again.
	index := filepath.Join(dir, ".git", "index")
	data, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(index, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "checksum mismatch; 'git -C "+dir+" reset' writes it again from HEAD") {
		t.Errorf("a damaged index: %v", err)
	}

	plain := t.TempDir()
	testenv.WriteFile(t, filepath.Join(plain, ".gitmodules"), "[submodule \"buildroot\"]\n\tpath = buildroot\n\turl = x\n")
	if _, err := Read(plain); err == nil || !strings.Contains(err.Error(), "is not a git repository") {
		t.Errorf("no repository: %v", err)
	}
	testenv.WriteFile(t, filepath.Join(plain, ".git"), "nonsense\n")
	if _, err := Read(plain); err == nil || !strings.Contains(err.Error(), "neither a directory nor a gitdir: file") {
		t.Errorf("a bad .git file: %v", err)
	}
}
