// Package gitsub manages the buildroot submodule with go-git: it reads the
// gitlink (the pin) and .gitmodules, fetches exactly the pinned commit
// shallowly, checks it out and registers it the way `git submodule init` does.
package gitsub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Name is the submodule's name and path in the project.
const Name = "buildroot"

// Submodule is the pin as the project records it.
type Submodule struct {
	Name   string
	Path   string // relative to the project root
	URL    string // from .gitmodules
	Branch string // from .gitmodules, may be empty
	Commit plumbing.Hash
}

// Read reads the submodule's .gitmodules section and its gitlink from the
// project's index (what `git submodule` itself reads).
func Read(root string) (*Submodule, error) {
	modules, err := readGitmodules(root)
	if err != nil {
		return nil, err
	}
	sub, ok := modules.Submodules[Name]
	if !ok {
		return nil, fmt.Errorf(".gitmodules has no [submodule %q] section; add one with path = buildroot and url = https://gitlab.com/buildroot.org/buildroot.git", Name)
	}
	if sub.Path == "" || sub.URL == "" {
		return nil, fmt.Errorf(".gitmodules: [submodule %q] needs both path and url", Name)
	}
	dotGit, err := gitDirOf(root)
	if err != nil {
		return nil, fmt.Errorf("%s is not a git repository (%v); ipabr reads the Buildroot pin from the project's git index", root, err)
	}
	e, filesUnder, err := readIndexEntry(filepath.Join(dotGit, "index"), sub.Path)
	if err != nil {
		return nil, fmt.Errorf("reading the git index of %s: %v", root, withIndexFix(err, root))
	}
	if e == nil {
		if filesUnder {
			return nil, fmt.Errorf("%s is tracked as files, not as a submodule gitlink; remove them from the index (git rm -r --cached %s) and record the pin with git update-index --add --cacheinfo 160000,<commit>,%s", sub.Path, sub.Path, sub.Path)
		}
		return nil, fmt.Errorf("the git index has no gitlink for %s; record the pin with: git update-index --add --cacheinfo 160000,<commit>,%s", sub.Path, sub.Path)
	}
	if e.Mode != filemode.Submodule {
		return nil, fmt.Errorf("%s is tracked as a %s, not as a submodule gitlink (mode 160000)", sub.Path, describeMode(e.Mode))
	}
	return &Submodule{Name: Name, Path: sub.Path, URL: sub.URL, Branch: sub.Branch, Commit: e.Hash}, nil
}

// gitDirOf is the git directory of the worktree root: root/.git, or where
// a .git file points (a linked worktree, a submodule).
func gitDirOf(root string) (string, error) {
	dotGit := filepath.Join(root, ".git")
	fi, err := os.Stat(dotGit)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return dotGit, nil
	}
	data, err := os.ReadFile(dotGit)
	if err != nil {
		return "", err
	}
	dir, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir: ")
	if !ok {
		return "", fmt.Errorf("%s is neither a directory nor a gitdir: file", dotGit)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	return dir, nil
}

func describeMode(m filemode.FileMode) string {
	switch m {
	case filemode.Dir:
		return "directory"
	case filemode.Symlink:
		return "symlink"
	}
	return "file"
}

func readGitmodules(root string) (*config.Modules, error) {
	data, err := os.ReadFile(filepath.Join(root, ".gitmodules"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no .gitmodules; the project records Buildroot as the submodule %q", root, Name)
	}
	if err != nil {
		return nil, err
	}
	return ParseGitmodules(data)
}

// ParseGitmodules parses .gitmodules content.
func ParseGitmodules(data []byte) (m *config.Modules, err error) {
	defer func() {
		// The ini decoder underneath panics on some malformed input.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf(".gitmodules is malformed: %v", r)
		}
	}()
	m = config.NewModules()
	if err := m.Unmarshal(data); err != nil {
		return nil, fmt.Errorf(".gitmodules is malformed: %v", err)
	}
	return m, nil
}

// State is what is checked out in the submodule's directory now.
type State struct {
	Present    bool          // a git checkout exists
	Head       plumbing.Hash // zero when there is none
	Changes    []string      // `git status --short` style lines, sorted
	Foreign    bool          // a non-empty directory that is not a git checkout
	Registered bool          // submodule.<name>.url is in .git/config
	Incomplete bool          // an ipabr checkout was interrupted (checkoutMark)
}

// AtPin reports whether the checkout is exactly the pin and clean.
func (s State) AtPin(pin plumbing.Hash) bool {
	return s.Present && s.Head == pin && len(s.Changes) == 0
}

// Inspect reports the checkout state without touching the network;
// cancelling ctx stops its scan of the files.
func Inspect(ctx context.Context, root string, sub *Submodule) (State, error) {
	var st State
	parent, err := git.PlainOpen(root)
	if err != nil {
		return st, err
	}
	cfg, err := parent.Config()
	if err != nil {
		return st, err
	}
	if c, ok := cfg.Submodules[sub.Name]; ok && c.URL != "" {
		st.Registered = true
	}
	dir := filepath.Join(root, sub.Path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("%s: %v", dir, err)
	}
	if len(entries) == 0 {
		return st, nil
	}
	r, err := git.PlainOpen(dir)
	if err != nil {
		st.Foreign = true
		return st, nil
	}
	st.Present = true
	if _, err := os.Stat(filepath.Join(gitDir(r), checkoutMark)); err == nil {
		st.Incomplete = true
	}
	if head, err := r.Head(); err == nil {
		st.Head = head.Hash()
	}
	changes, err := localChanges(ctx, r, dir)
	if ctx.Err() != nil {
		return st, ctx.Err()
	}
	if err != nil {
		return st, fmt.Errorf("checking %s for local changes: %v", dir, err)
	}
	st.Changes = changes
	return st, nil
}

// SyncOptions tune Sync.
type SyncOptions struct {
	URL      string // overrides .gitmodules
	Depth    int    // commits of history to fetch, ≥ 1
	Force    bool   // discard local changes or another checkout
	Progress io.Writer
	// OnFetch is called just before the network is used.
	OnFetch func(url string)
	// OnCheckout is called just before the files are written.
	OnCheckout func(files int)
}

// SyncResult says what Sync did.
type SyncResult struct {
	AlreadyAtPin bool
	Method       string // how the pinned commit was obtained
	URL          string
}

// ErrRefused is returned when the checkout differs and Force is off.
var ErrRefused = errors.New("refusing to overwrite buildroot/")

// checkoutMark, in the submodule's git directory, says that ipabr was
// replacing the files of an existing checkout and did not finish: what is
// in the worktree is ipabr's own half-written tree, not the user's changes,
// so the next Sync replaces it without Force.
const checkoutMark = "ipabr-checkout-incomplete"

// Sync makes the submodule checkout equal the pin: fetch if needed (exact
// commit, falling back to refs that contain it), check out, verify HEAD and
// register in .git/config. It is a no-op, with no network, when already right.
//
// Cancelling ctx stops it within a file's write; a first checkout is then
// undone (the project is as Sync found it), and a replaced checkout is
// marked so that the next Sync finishes it without Force.
func Sync(ctx context.Context, root string, sub *Submodule, opts SyncOptions) (SyncResult, error) {
	res := SyncResult{URL: sub.URL}
	if opts.URL != "" {
		res.URL = opts.URL
	}
	if opts.Depth < 1 {
		return res, fmt.Errorf("depth must be 1 or more, not %d", opts.Depth)
	}
	st, err := Inspect(ctx, root, sub)
	if err != nil {
		return res, err
	}
	dir := filepath.Join(root, sub.Path)
	if st.AtPin(sub.Commit) && !st.Incomplete {
		res.AlreadyAtPin = true
		return res, register(root, sub, res.URL, st.Registered)
	}
	if !opts.Force && !st.Incomplete {
		if err := refusal(sub, dir, st); err != nil {
			return res, err
		}
	}
	if st.Foreign {
		// --force on a directory that is not a checkout: start afresh.
		if err := os.RemoveAll(dir); err != nil {
			return res, err
		}
	}
	if err := register(root, sub, res.URL, st.Registered); err != nil {
		return res, err
	}
	fresh := !st.Present
	_, statErr := os.Stat(dir)
	dirExisted := statErr == nil
	r, err := openSubmoduleRepo(root, sub)
	if err != nil {
		return res, err
	}
	// A failed first fetch or checkout must leave the project as it found it.
	ok := false
	defer func() {
		if !ok && fresh {
			undoFresh(root, sub, st.Registered, dirExisted)
		}
	}()
	if _, err := r.CommitObject(sub.Commit); err == nil {
		res.Method = "already in the local object store"
	} else {
		if opts.OnFetch != nil {
			opts.OnFetch(res.URL)
		}
		res.Method, err = fetchPin(ctx, r, sub, res.URL, opts)
		if err != nil {
			return res, err
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	mark := filepath.Join(gitDir(r), checkoutMark)
	if !fresh {
		if err := os.WriteFile(mark, []byte(sub.Commit.String()+"\n"), 0o644); err != nil {
			return res, err
		}
		if err := emptyWorktree(dir); err != nil {
			return res, err
		}
	}
	if err := checkoutFresh(ctx, r, dir, sub.Commit, opts.OnCheckout); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return res, err
		}
		return res, fmt.Errorf("checking out %s in %s: %v", sub.Commit, dir, err)
	}
	head, err := r.Head()
	if err != nil {
		return res, err
	}
	if head.Hash() != sub.Commit {
		return res, fmt.Errorf("after checkout %s is at %s, not the pinned %s", dir, head.Hash(), sub.Commit)
	}
	if err := os.Remove(mark); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, err
	}
	ok = true
	return res, nil
}

// gitDir is the directory of r's repository (.git/modules/<name>).
func gitDir(r *git.Repository) string {
	if fs, ok := r.Storer.(interface{ Filesystem() billy.Filesystem }); ok {
		return fs.Filesystem().Root()
	}
	return ""
}

// emptyWorktree removes everything in dir but its .git file, to check out
// another commit afresh (only reached with --force or to finish an
// interrupted checkout).
func emptyWorktree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// undoFresh removes the repository and the files a failed first Sync
// created (the directory was empty or absent before) and its
// registration, if Sync made that too.
func undoFresh(root string, sub *Submodule, wasRegistered, dirExisted bool) {
	dir := filepath.Join(root, sub.Path)
	if dirExisted {
		_ = emptyWorktree(dir)
		_ = os.Remove(filepath.Join(dir, ".git"))
	} else {
		_ = os.RemoveAll(dir)
	}
	if r, err := git.PlainOpen(root); err == nil {
		if fs, ok := r.Storer.(interface{ Filesystem() billy.Filesystem }); ok {
			modules := filepath.Join(fs.Filesystem().Root(), "modules")
			_ = os.RemoveAll(filepath.Join(modules, sub.Name))
			_ = os.Remove(modules) // only if now empty
		}
		if !wasRegistered {
			if cfg, err := r.Config(); err == nil {
				delete(cfg.Submodules, sub.Name)
				_ = r.Storer.SetConfig(cfg)
			}
		}
	}
}

func refusal(sub *Submodule, dir string, st State) error {
	switch {
	case st.Foreign:
		return fmt.Errorf("%w: %s exists and is not a git checkout; move it away or run 'ipabr init --force' to replace it", ErrRefused, dir)
	case st.Present && st.Head != sub.Commit:
		head := "no commit"
		if !st.Head.IsZero() {
			head = st.Head.String()
		}
		msg := fmt.Sprintf("%s is at %s, not the pinned %s", dir, head, sub.Commit)
		if len(st.Changes) > 0 {
			msg += " and has local changes (" + summarize(st.Changes) + ")"
		}
		return fmt.Errorf("%w: %s; to use the pin run 'ipabr init --force' (this discards local changes in buildroot/), or record the new commit in the project with 'git add buildroot'", ErrRefused, msg)
	case len(st.Changes) > 0:
		return fmt.Errorf("%w: %s has local changes (%s); commit or stash them inside buildroot/, or run 'ipabr init --force' to discard them", ErrRefused, dir, summarize(st.Changes))
	}
	return nil
}

func summarize(changes []string) string {
	const show = 3
	if len(changes) <= show {
		return strings.Join(changes, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(changes[:show], ", "), len(changes)-show)
}

// register records the submodule in .git/config like `git submodule init`.
func register(root string, sub *Submodule, url string, already bool) error {
	if already {
		return nil
	}
	r, err := git.PlainOpen(root)
	if err != nil {
		return err
	}
	cfg, err := r.Config()
	if err != nil {
		return err
	}
	cfg.Submodules[sub.Name] = &config.Submodule{Name: sub.Name, Path: sub.Path, URL: url}
	return r.Storer.SetConfig(cfg)
}

// openSubmoduleRepo opens or creates the repository in .git/modules/<name>
// with its worktree in <path> (a .git file points to it), as git does.
func openSubmoduleRepo(root string, sub *Submodule) (*git.Repository, error) {
	parent, err := git.PlainOpen(root)
	if err != nil {
		return nil, err
	}
	wt, err := parent.Worktree()
	if err != nil {
		return nil, err
	}
	s, err := wt.Submodule(sub.Name)
	if err != nil {
		return nil, fmt.Errorf("submodule %s: %v", sub.Name, err)
	}
	return s.Repository()
}

const pinRef = "refs/ipabr/pin"

// fetchPin fetches the pinned commit (FetchCommit), naming Buildroot in
// its errors.
func fetchPin(ctx context.Context, r *git.Repository, sub *Submodule, url string, opts SyncOptions) (string, error) {
	how, err := FetchCommit(ctx, r, url, sub.Commit, CommitOptions{Depth: opts.Depth, Branch: sub.Branch, Ref: pinRef, Progress: opts.Progress})
	var fe *FetchError
	var nr *NotReachableError
	switch {
	case errors.As(err, &nr):
		return "", fmt.Errorf("%w; check the gitlink or the URL", err)
	case errors.As(err, &fe) && errors.Is(err, transport.ErrRepositoryNotFound):
		return "", fmt.Errorf("no repository at %s: %v", url, fe.Err)
	case errors.As(err, &fe):
		return "", fmt.Errorf("cannot fetch Buildroot from %s: %v", url, fe.Err)
	}
	return how, err
}

func short(h plumbing.Hash) string { return h.String()[:12] }

// The Buildroot release this version of ipabr is made for (doc/architecture.md, "The Buildroot pin").
const (
	DefaultURL = "https://gitlab.com/buildroot.org/buildroot.git"
	DefaultPin = "679b9ead7620bbf193620d1ebf56f53c1764d37a"
	DefaultTag = "2026.02.3"
)

// Head is the commit checked out in the repository at dir, or "" if none.
func Head(dir string) string {
	r, err := git.PlainOpen(dir)
	if err != nil {
		return ""
	}
	h, err := r.Head()
	if err != nil {
		return ""
	}
	return h.Hash().String()
}
