package gitsub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ipabr/ipabr/internal/testenv"
)

// syncProject is a project pinned to the fake Buildroot's tagged commit,
// fetched from a local path.
func syncProject(t *testing.T) (string, *Submodule) {
	t.Helper()
	dir, err := testenv.MakeFakeProject(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, sub
}

// tree lists the paths under dir, sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	return paths
}

// cancelAtCheckout is SyncOptions whose checkout is cancelled just as it
// starts writing files.
func cancelAtCheckout(force bool) (context.Context, SyncOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, SyncOptions{Depth: 1, Force: force, OnCheckout: func(int) { cancel() }}
}

// TestSyncInterruptedFirstCheckout: a first checkout cancelled as it
// starts leaves the project exactly as it was (no .git/modules, no
// registration, no buildroot/ files), and the next Sync completes.
func TestSyncInterruptedFirstCheckout(t *testing.T) {
	dir, sub := syncProject(t)
	before := tree(t, dir)
	config, _ := os.ReadFile(filepath.Join(dir, ".git", "config"))

	ctx, opts := cancelAtCheckout(false)
	if _, err := Sync(ctx, dir, sub, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sync = %v, want context.Canceled", err)
	}
	if after := tree(t, dir); !slices.Equal(after, before) {
		t.Errorf("the interrupted Sync left the project changed:\nbefore %q\nafter  %q", before, after)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, ".git", "config")); string(after) != string(config) {
		t.Errorf(".git/config changed:\n%s\nwas:\n%s", after, config)
	}

	if _, err := Sync(context.Background(), dir, sub, SyncOptions{Depth: 1}); err != nil {
		t.Fatal(err)
	}
	assertAtPin(t, dir, sub)
}

// TestSyncInterruptedForcedCheckout: a --force checkout cancelled after it
// removed the old files is marked incomplete, and the next Sync, without
// Force, finishes it (where a user's own changes would be refused).
func TestSyncInterruptedForcedCheckout(t *testing.T) {
	dir, sub := syncProject(t)
	if _, err := Sync(context.Background(), dir, sub, SyncOptions{Depth: 1}); err != nil {
		t.Fatal(err)
	}
	br := filepath.Join(dir, "buildroot")
	testenv.WriteFile(t, filepath.Join(br, "Makefile"), "local change\n")
	if _, err := Sync(context.Background(), dir, sub, SyncOptions{Depth: 1}); !errors.Is(err, ErrRefused) {
		t.Fatalf("Sync over a local change = %v, want ErrRefused", err)
	}

	ctx, opts := cancelAtCheckout(true)
	if _, err := Sync(ctx, dir, sub, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sync = %v, want context.Canceled", err)
	}
	st, err := Inspect(context.Background(), dir, sub)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Incomplete || st.AtPin(sub.Commit) {
		t.Fatalf("after the interrupted checkout: %+v, want an incomplete checkout not at the pin", st)
	}

	res, err := Sync(context.Background(), dir, sub, SyncOptions{Depth: 1})
	if err != nil {
		t.Fatalf("Sync after the interruption, without Force: %v", err)
	}
	if res.AlreadyAtPin {
		t.Error("Sync called the incomplete checkout already at the pin")
	}
	assertAtPin(t, dir, sub)
}

func assertAtPin(t *testing.T, dir string, sub *Submodule) {
	t.Helper()
	st, err := Inspect(context.Background(), dir, sub)
	if err != nil {
		t.Fatal(err)
	}
	if !st.AtPin(sub.Commit) || st.Incomplete {
		t.Errorf("buildroot/ is not clean at the pin %s: %+v", sub.Commit, st)
	}
	if head := gitT(t, filepath.Join(dir, sub.Path), "rev-parse", "HEAD"); plumbing.NewHash(head) != sub.Commit {
		t.Errorf("git says HEAD is %s", head)
	}
	if s := gitT(t, filepath.Join(dir, sub.Path), "status", "--porcelain"); s != "" {
		t.Errorf("git status in buildroot/:\n%s", s)
	}
}

// TestInspectCancelled: the scan of a checkout's files stops when ctx is
// cancelled and says so, instead of reporting a state.
func TestInspectCancelled(t *testing.T) {
	dir, sub := syncProject(t)
	if _, err := Sync(context.Background(), dir, sub, SyncOptions{Depth: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Inspect(ctx, dir, sub); !errors.Is(err, context.Canceled) {
		t.Fatalf("Inspect = %v, want context.Canceled", err)
	}
}
