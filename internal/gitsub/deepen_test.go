package gitsub

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ipabr/ipabr/internal/testenv"
)

// Deepen grows a shallow history four times at a time from start, up to
// a limit or (limit 0) the whole history, until found says yes.
func TestDeepenSchedule(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIP: git is not installed")
	}
	served := t.TempDir()
	src := filepath.Join(served, "src.git")
	gitT(t, served, "init", "-q", "--bare", "-b", "main", src)
	// 300 commits, fast: one fast-import stream.
	var stream strings.Builder
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\ncommitter t <t@t> %d +0000\ndata 2\nc\n", i, 1700000000+i)
		if i > 1 {
			fmt.Fprintf(&stream, "from :%d\n", i-1)
		}
		fmt.Fprintf(&stream, "M 644 inline f\ndata %d\n%d\n\n", len(fmt.Sprint(i))+1, i)
	}
	imp := exec.Command("git", "-C", src, "fast-import", "--quiet")
	imp.Stdin = strings.NewReader(stream.String())
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v\n%s", err, out)
	}
	root := plumbing.NewHash(strings.TrimSpace(gitT(t, src, "rev-list", "--max-parents=0", "main")))
	spec := config.RefSpec("+refs/heads/main:refs/remotes/origin/main")
	srv, err := testenv.StartGitServer(served)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL + "/src.git"

	fresh := func() *git.Repository {
		r, err := git.PlainInit(filepath.Join(t.TempDir(), "r"), true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
			t.Fatal(err)
		}
		if err := Fetch(context.Background(), r, url, 1, nil, spec); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ctx := context.Background()

	r := fresh()
	var asked int
	hasRoot := func() bool { asked++; _, err := r.CommitObject(root); return err == nil }
	depth, found, err := Deepen(ctx, r, url, spec, 8, 0, nil, hasRoot)
	// 8, 32, 128, 512: the root, 299 commits behind the tip, arrives at 512.
	if err != nil || !found || depth != 512 || asked != 5 {
		t.Errorf("no limit: depth %d, found %v, asked %d times, err %v; want 512, true, 5", depth, found, asked, err)
	}

	r = fresh()
	asked = 0
	depth, found, err = Deepen(ctx, r, url, spec, 8, 100, nil, hasRoot)
	// 8, 32, then the limit: not found.
	if err != nil || found || depth != 100 || asked != 4 {
		t.Errorf("limit 100: depth %d, found %v, asked %d times, err %v; want 100, false, 4", depth, found, asked, err)
	}
}
