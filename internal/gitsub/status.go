package gitsub

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// localChanges lists how the checkout in worktree differs from its index and
// its index from HEAD, as `git status --porcelain` prints it ("XY path";
// tracked paths first, then untracked ones, each sorted). Like git, it
// trusts the stat data the index recorded and hashes only files whose stat
// data changed or whose mtime is not older than the index (racy git);
// go-git's Worktree.Status hashes every file. Content filters
// (.gitattributes) and nested submodules are not looked at.
func localChanges(ctx context.Context, r *git.Repository, worktree string) ([]string, error) {
	idx, err := r.Storer.Index()
	if err != nil {
		return nil, err
	}
	cfg, err := r.Config()
	if err != nil {
		return nil, err
	}
	entries := idx.Entries
	if !slices.IsSortedFunc(entries, func(a, b *index.Entry) int { return strings.Compare(a.Name, b.Name) }) {
		entries = slices.Clone(entries)
		slices.SortStableFunc(entries, func(a, b *index.Entry) int { return strings.Compare(a.Name, b.Name) })
	}
	s := &statusScan{
		worktree:  worktree,
		entries:   entries,
		indexTime: idx.ModTime,
		trustExec: cfg.Raw.Section("core").Option("filemode") != "false",
		changes:   map[string]*[2]byte{},
		ignores:   ignoreRules{worktree: worktree, byDir: map[string][]gitignore.Pattern{}},
	}
	if fs, ok := r.Storer.(interface{ Filesystem() billy.Filesystem }); ok {
		s.ignores.gitDir = fs.Filesystem().Root()
	}
	if err := s.staged(r); err != nil {
		return nil, err
	}
	if err := s.scanWorktree(ctx); err != nil {
		return nil, err
	}
	return s.lines(), nil
}

type statusScan struct {
	worktree  string
	entries   []*index.Entry
	indexTime time.Time
	trustExec bool // core.filemode: the executable bit counts

	mu        sync.Mutex
	changes   map[string]*[2]byte // path → X (index vs HEAD) and Y (files vs index)
	untracked []string
	ignores   ignoreRules
}

func (s *statusScan) mark(path string, col int, code byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.changes[path]
	if c == nil {
		c = &[2]byte{' ', ' '}
		s.changes[path] = c
	}
	c[col] = code
}

func (s *statusScan) lines() []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(s.changes)) {
		c := s.changes[p]
		out = append(out, string(c[:])+" "+p)
	}
	slices.Sort(s.untracked)
	for _, p := range s.untracked {
		out = append(out, "?? "+p)
	}
	return out
}

// inTree reports whether an index entry belongs in a tree written from the
// index (not a conflict stage, not `git add -N`).
func inTree(e *index.Entry) bool { return e.Stage == stageMerged && !e.IntentToAdd }

// stageMerged is the stage of an entry without a conflict: 0 in the index
// file (go-git's index.Merged says 1, which is the conflict's base).
const stageMerged index.Stage = 0

// staged compares the index with HEAD's tree the cheap way: it hashes the
// trees `git write-tree` would write from the index and compares them with
// HEAD's, reading HEAD's trees only where they differ.
func (s *statusScan) staged(r *git.Repository) error {
	for _, e := range s.entries {
		switch {
		case e.Stage != stageMerged:
			s.mark(e.Name, 0, 'U')
			s.mark(e.Name, 1, 'U')
		case e.IntentToAdd:
			s.mark(e.Name, 1, 'A')
		}
	}
	trees := map[string]plumbing.Hash{}
	var inIndex []*index.Entry
	for _, e := range s.entries {
		if inTree(e) {
			inIndex = append(inIndex, e)
		}
	}
	root, _ := writeTrees(inIndex, "", trees)

	head, err := r.Head()
	var headFiles map[string]object.TreeEntry
	same := map[string]bool{}
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		headFiles = map[string]object.TreeEntry{} // no commit yet: everything is added
	case err != nil:
		return err
	default:
		commit, err := r.CommitObject(head.Hash())
		if err != nil {
			return err
		}
		if commit.TreeHash == root {
			return nil
		}
		tree, err := commit.Tree()
		if err != nil {
			return err
		}
		headFiles = map[string]object.TreeEntry{}
		if err := collectChanged(r, tree, "", trees, same, headFiles); err != nil {
			return err
		}
	}
	for _, e := range inIndex {
		if underSame(e.Name, same) {
			continue
		}
		h, ok := headFiles[e.Name]
		delete(headFiles, e.Name)
		switch {
		case !ok:
			s.mark(e.Name, 0, 'A')
		case kind(h.Mode) != kind(e.Mode):
			s.mark(e.Name, 0, 'T')
		case h.Hash != e.Hash || h.Mode != e.Mode:
			s.mark(e.Name, 0, 'M')
		}
	}
	for p := range headFiles {
		s.mark(p, 0, 'D')
	}
	return nil
}

// writeTrees hashes the tree objects for the sorted entries under prefix
// (git's tree order is the index's path order), records each directory's
// tree in trees and returns the tree's hash and how many entries it used.
func writeTrees(entries []*index.Entry, prefix string, trees map[string]plumbing.Hash) (plumbing.Hash, int) {
	var buf []byte
	i := 0
	for i < len(entries) && strings.HasPrefix(entries[i].Name, prefix) {
		name := entries[i].Name[len(prefix):]
		mode, hash := entries[i].Mode, entries[i].Hash
		if slash := strings.IndexByte(name, '/'); slash >= 0 {
			var n int
			hash, n = writeTrees(entries[i:], prefix+name[:slash+1], trees)
			name, mode = name[:slash], filemode.Dir
			i += n
		} else {
			i++
		}
		buf = strconv.AppendUint(buf, uint64(mode), 8)
		buf = append(buf, ' ')
		buf = append(buf, name...)
		buf = append(buf, 0)
		buf = append(buf, hash[:]...)
	}
	h := plumbing.ComputeHash(plumbing.TreeObject, buf)
	trees[strings.TrimSuffix(prefix, "/")] = h
	return h, i
}

// collectChanged gathers the files of HEAD's tree below dir, skipping the
// subtrees the index has unchanged (recorded in same).
func collectChanged(r *git.Repository, tree *object.Tree, dir string, trees map[string]plumbing.Hash, same map[string]bool, files map[string]object.TreeEntry) error {
	for _, te := range tree.Entries {
		p := path.Join(dir, te.Name)
		if te.Mode != filemode.Dir {
			files[p] = te
			continue
		}
		if trees[p] == te.Hash {
			same[p] = true
			continue
		}
		sub, err := r.TreeObject(te.Hash)
		if err != nil {
			return err
		}
		if err := collectChanged(r, sub, p, trees, same, files); err != nil {
			return err
		}
	}
	return nil
}

func underSame(name string, same map[string]bool) bool {
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if same[d] {
			return true
		}
	}
	return false
}

// kind is what a mode makes of a path: a file (executable or not), a
// symlink or a submodule.
func kind(m filemode.FileMode) filemode.FileMode {
	if m == filemode.Executable {
		return filemode.Regular
	}
	return m
}

// scanWorktree compares every tracked file with its index entry and lists
// the untracked paths of every tracked directory, on all CPUs, until ctx
// is cancelled.
func (s *statusScan) scanWorktree(ctx context.Context) error {
	dirs := map[string]map[string]bool{"": {}} // directory → the names tracked in it
	for _, e := range s.entries {
		for name := e.Name; ; {
			dir, base := path.Split(name)
			dir = strings.TrimSuffix(dir, "/")
			kids := dirs[dir]
			if kids == nil {
				kids = map[string]bool{}
				dirs[dir] = kids
			}
			if kids[base] {
				break // its directories are recorded, or it is another stage of a path
			}
			kids[base] = true
			if dir == "" {
				break
			}
			name = dir
		}
	}
	dirNames := slices.Collect(maps.Keys(dirs))
	var (
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	forEach(ctx, len(s.entries)+len(dirNames), func(i int) {
		if i < len(s.entries) {
			if err := s.checkEntry(s.entries[i]); err != nil {
				fail(err)
			}
			return
		}
		dir := dirNames[i-len(s.entries)]
		if err := s.untrackedIn(dir, dirs[dir]); err != nil {
			fail(err)
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	return firstErr
}

// checkEntry compares one file with its index entry the way git's
// ie_match_stat does, hashing it only when the stat data cannot decide.
func (s *statusScan) checkEntry(e *index.Entry) error {
	if !inTree(e) || e.SkipWorktree || e.Mode == filemode.Submodule {
		return nil
	}
	fi, err := os.Lstat(filepath.Join(s.worktree, filepath.FromSlash(e.Name)))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		s.mark(e.Name, 1, 'D')
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		s.mark(e.Name, 1, 'D')
		return nil
	case (e.Mode == filemode.Symlink) != (fi.Mode()&fs.ModeSymlink != 0):
		s.mark(e.Name, 1, 'T')
		return nil
	case s.trustExec && e.Mode != filemode.Symlink && (e.Mode == filemode.Executable) != (fi.Mode()&0o100 != 0):
		s.mark(e.Name, 1, 'M')
		return nil
	case e.Size != 0 && e.Size != uint32(fi.Size()):
		// A different size is different content; a recorded size of 0 may
		// be git's mark of a racily clean entry, so that one is hashed.
		s.mark(e.Name, 1, 'M')
		return nil
	}
	if s.statClean(e, fi) {
		return nil
	}
	h, err := hashFile(filepath.Join(s.worktree, filepath.FromSlash(e.Name)), fi)
	if err != nil {
		return err
	}
	if h != e.Hash {
		s.mark(e.Name, 1, 'M')
	}
	return nil
}

// statClean: the stat data equals what the index recorded and the entry is
// not racy, i.e. its mtime is older than the index file's (a file changed
// within the timestamp granularity of the index write would look clean).
func (s *statusScan) statClean(e *index.Entry, fi os.FileInfo) bool {
	if uint32(fi.Size()) != e.Size || !sameTime(e.ModifiedAt, fi.ModTime()) {
		return false
	}
	if st, ok := sysStat(fi); ok {
		if !sameTime(e.CreatedAt, st.ctime) || e.Inode != st.ino || e.UID != st.uid || e.GID != st.gid {
			return false
		}
	}
	return !racy(e.ModifiedAt, s.indexTime)
}

// sameTime compares a recorded timestamp with a file's; a recorded one
// without nanoseconds (from a git built without them) compares by seconds.
func sameTime(recorded, now time.Time) bool {
	if recorded.Unix() != now.Unix() {
		return false
	}
	return recorded.Nanosecond() == 0 || recorded.Nanosecond() == now.Nanosecond()
}

func racy(mtime, indexTime time.Time) bool {
	if indexTime.IsZero() {
		return true
	}
	if mtime.Nanosecond() == 0 {
		return mtime.Unix() >= indexTime.Unix()
	}
	return !mtime.Before(indexTime)
}

// hashFile is the blob id of a file or symlink, as `git hash-object` computes it.
func hashFile(name string, fi os.FileInfo) (plumbing.Hash, error) {
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(name)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return plumbing.ComputeHash(plumbing.BlobObject, []byte(target)), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer f.Close()
	h := plumbing.NewHasher(plumbing.BlobObject, fi.Size())
	if n, err := io.Copy(h, f); err != nil {
		return plumbing.ZeroHash, err
	} else if n != fi.Size() {
		return plumbing.ZeroHash, nil // changed while read: not what the index has
	}
	return h.Sum(), nil
}

// untrackedIn lists dir's children that the index does not track and the
// ignore rules do not exclude; like git, an untracked directory is listed
// once ("dir/") and only if it holds a file that is not ignored.
func (s *statusScan) untrackedIn(dir string, tracked map[string]bool) error {
	ents, err := os.ReadDir(filepath.Join(s.worktree, filepath.FromSlash(dir)))
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		// A tracked directory replaced by a file: the file is untracked
		// (and what was under the directory is reported deleted).
		return s.untrackedPath(dir, false)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	for _, de := range ents {
		if tracked[de.Name()] || de.Name() == ".git" {
			continue // a tracked file now a directory is not untracked (git agrees)
		}
		if err := s.untrackedPath(path.Join(dir, de.Name()), de.IsDir()); err != nil {
			return err
		}
	}
	return nil
}

// untrackedPath records an untracked path unless the ignore rules exclude
// it or, for a directory, everything in it.
func (s *statusScan) untrackedPath(rel string, isDir bool) error {
	if s.ignores.match(rel, isDir) {
		return nil
	}
	if isDir {
		visible, err := s.hasVisibleFile(rel)
		if err != nil || !visible {
			return err
		}
		rel += "/"
	}
	s.mu.Lock()
	s.untracked = append(s.untracked, rel)
	s.mu.Unlock()
	return nil
}

// hasVisibleFile reports whether the untracked directory dir holds a file
// the ignore rules do not exclude, or is a repository of its own.
func (s *statusScan) hasVisibleFile(dir string) (bool, error) {
	ents, err := os.ReadDir(filepath.Join(s.worktree, filepath.FromSlash(dir)))
	if err != nil {
		return false, err
	}
	for _, de := range ents {
		rel := path.Join(dir, de.Name())
		if de.Name() == ".git" {
			return true, nil
		}
		if s.ignores.match(rel, de.IsDir()) {
			continue
		}
		if !de.IsDir() {
			return true, nil
		}
		if ok, err := s.hasVisibleFile(rel); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// ignoreRules are git's exclude patterns, read only when an untracked
// path needs them: core.excludesFile, $GIT_DIR/info/exclude, and the
// .gitignore of each directory from the top down.
type ignoreRules struct {
	worktree, gitDir string
	mu               sync.Mutex
	byDir            map[string][]gitignore.Pattern
}

func (ig *ignoreRules) match(rel string, isDir bool) bool {
	parts := strings.Split(rel, "/")
	ig.mu.Lock()
	ps := ig.patterns(path.Dir(rel))
	ig.mu.Unlock()
	return gitignore.NewMatcher(ps).Match(parts, isDir)
}

// patterns are the rules in force in dir (ig.mu held).
func (ig *ignoreRules) patterns(dir string) []gitignore.Pattern {
	if dir == "." {
		dir = ""
	}
	if ps, ok := ig.byDir[dir]; ok {
		return ps
	}
	var ps []gitignore.Pattern
	if dir == "" {
		ps = readIgnoreFile(globalExcludesFile(), nil)
		if ig.gitDir != "" {
			ps = append(ps, readIgnoreFile(filepath.Join(ig.gitDir, "info", "exclude"), nil)...)
		}
		ps = append(ps, readIgnoreFile(filepath.Join(ig.worktree, ".gitignore"), nil)...)
	} else {
		parent := path.Dir(dir)
		ps = slices.Clip(ig.patterns(parent))
		domain := strings.Split(dir, "/")
		ps = append(ps, readIgnoreFile(filepath.Join(ig.worktree, filepath.FromSlash(dir), ".gitignore"), domain)...)
	}
	ig.byDir[dir] = ps
	return ps
}

func readIgnoreFile(name string, domain []string) []gitignore.Pattern {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}

// globalExcludesFile is core.excludesFile from the user's git
// configuration, or git's default $XDG_CONFIG_HOME/git/ignore.
func globalExcludesFile() string {
	if cfg, err := config.LoadConfig(config.GlobalScope); err == nil {
		if f := cfg.Raw.Section("core").Option("excludesfile"); f != "" {
			if rest, ok := strings.CutPrefix(f, "~/"); ok {
				if home, err := os.UserHomeDir(); err == nil {
					return filepath.Join(home, rest)
				}
			}
			return f
		}
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "git", "ignore")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".config", "git", "ignore")
	}
	return ""
}

// forEach calls f for 0 ≤ i < n on a few goroutines: enough to keep every
// CPU busy while others wait in the file system. Once ctx is cancelled no
// more calls start.
func forEach(ctx context.Context, n int, f func(i int)) {
	workers := min(2*runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}
