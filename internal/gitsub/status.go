package gitsub

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
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
	"time"

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
	dotGit := gitDir(r)
	idx, err := readIndex(filepath.Join(dotGit, "index"))
	if err != nil {
		return nil, withIndexFix(err, worktree)
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
		notDirs:   map[string]bool{},
		ignores:   ignoreRules{worktree: worktree, byDir: map[string][]gitignore.Pattern{}},
	}
	s.ignores.gitDir = dotGit
	// Index against HEAD reads objects, the worktree scan waits on the
	// file system: one runs while the other waits.
	var stagedErr error
	var wg sync.WaitGroup
	wg.Go(func() { stagedErr = s.staged(r) })
	scanErr := s.scanWorktree(ctx)
	wg.Wait()
	if err := cmp.Or(scanErr, stagedErr); err != nil {
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
	notDirs   map[string]bool // tracked directories that are now something else
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

// trackedDir is one directory the index has paths in: the files directly
// in it and the names of its children the index tracks (files and
// directories).
type trackedDir struct {
	files []*index.Entry
	names map[string]bool
}

// scanWorktree compares every tracked file with its index entry and lists
// the untracked paths of every tracked directory, a directory at a time
// on all CPUs, until ctx is cancelled.
func (s *statusScan) scanWorktree(ctx context.Context) error {
	dirs := map[string]*trackedDir{}
	dirOf := func(name string) *trackedDir {
		d := dirs[name]
		if d == nil {
			d = &trackedDir{names: map[string]bool{}}
			dirs[name] = d
		}
		return d
	}
	dirOf("")
	for _, e := range s.entries {
		dir, _ := splitPath(e.Name)
		d := dirOf(dir)
		d.files = append(d.files, e)
		for name := e.Name; ; {
			dir, base := splitPath(name)
			d := dirOf(dir)
			if d.names[base] {
				break // its directories are recorded, or it is another stage of a path
			}
			d.names[base] = true
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
	forEach(ctx, len(dirNames), func(i int) {
		if err := s.scanDir(dirNames[i], dirs[dirNames[i]]); err != nil {
			errMu.Lock()
			defer errMu.Unlock()
			if firstErr == nil {
				firstErr = err
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	s.dropUnderNotDirs()
	return nil
}

// splitPath splits a slash-separated path into its directory ("" at the
// top) and its last element.
func splitPath(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

// scanDir checks the files the index has directly in dir and lists dir's
// untracked children.
func (s *statusScan) scanDir(dir string, td *trackedDir) error {
	full := filepath.Join(s.worktree, filepath.FromSlash(dir))
	h, err := openDir(full, dir != "")
	if notThere(err) {
		// Gone, or now a file or a symlink: its files are deleted and,
		// if something else stands there, that is untracked.
		s.mu.Lock()
		s.notDirs[dir] = true
		s.mu.Unlock()
		for _, e := range td.files {
			if worktreeFile(e) {
				s.mark(e.Name, 1, 'D')
			}
		}
		if _, err := lstatPath(full); err == nil {
			return s.untrackedPath(dir, false)
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer h.close()
	for _, e := range td.files {
		if err := s.checkEntry(h, e); err != nil {
			return err
		}
	}
	ents, err := h.entries()
	if err != nil {
		return err
	}
	for _, de := range ents {
		if td.names[de.Name()] || de.Name() == ".git" {
			continue // a tracked file now a directory is not untracked (git agrees)
		}
		if err := s.untrackedPath(path.Join(dir, de.Name()), de.IsDir()); err != nil {
			return err
		}
	}
	return nil
}

// dropUnderNotDirs applies what scanDir found of tracked directories that
// are no longer directories to the paths below them: git does not look
// through a symlink that stands where a tracked directory was, so the
// files under it are deleted and nothing under it is untracked.
func (s *statusScan) dropUnderNotDirs() {
	if len(s.notDirs) == 0 {
		return
	}
	under := func(name string) bool {
		for d := name; d != ""; {
			d, _ = splitPath(d)
			if s.notDirs[d] && d != "" {
				return true
			}
		}
		return false
	}
	for _, e := range s.entries {
		if worktreeFile(e) && under(e.Name) {
			s.mark(e.Name, 1, 'D')
		}
	}
	s.untracked = slices.DeleteFunc(s.untracked, func(p string) bool { return under(strings.TrimSuffix(p, "/")) })
}

// worktreeFile reports whether the index expects e as a file in the
// worktree (not a conflict, not skip-worktree, not a submodule).
func worktreeFile(e *index.Entry) bool {
	return inTree(e) && !e.SkipWorktree && e.Mode != filemode.Submodule
}

// checkEntry compares one file of the open directory dir with its index
// entry the way git's ie_match_stat does, hashing it only when the stat
// data cannot decide.
func (s *statusScan) checkEntry(dir *dirHandle, e *index.Entry) error {
	if !worktreeFile(e) {
		return nil
	}
	_, base := splitPath(e.Name)
	st, err := dir.lstat(base)
	if notThere(err) {
		s.mark(e.Name, 1, 'D')
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case st.isDir():
		s.mark(e.Name, 1, 'D')
		return nil
	case (e.Mode == filemode.Symlink) != st.isSymlink():
		s.mark(e.Name, 1, 'T')
		return nil
	case s.trustExec && e.Mode != filemode.Symlink && (e.Mode == filemode.Executable) != (st.mode&0o100 != 0):
		s.mark(e.Name, 1, 'M')
		return nil
	case e.Size != 0 && e.Size != uint32(st.size):
		// A different size is different content; a recorded size of 0 may
		// be git's mark of a racily clean entry, so that one is hashed.
		s.mark(e.Name, 1, 'M')
		return nil
	}
	if s.statClean(e, st) {
		return nil
	}
	h, err := hashFile(filepath.Join(s.worktree, filepath.FromSlash(e.Name)), st)
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
func (s *statusScan) statClean(e *index.Entry, st fileStat) bool {
	if uint32(st.size) != e.Size || !sameTime(e.ModifiedAt, st.mtime) {
		return false
	}
	if st.full && (!sameTime(e.CreatedAt, st.ctime) || e.Inode != st.ino || e.UID != st.uid || e.GID != st.gid) {
		return false
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
func hashFile(name string, st fileStat) (plumbing.Hash, error) {
	if st.isSymlink() {
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
	h := plumbing.NewHasher(plumbing.BlobObject, st.size)
	if n, err := io.Copy(h, f); err != nil {
		return plumbing.ZeroHash, err
	} else if n != st.size {
		return plumbing.ZeroHash, nil // changed while read: not what the index has
	}
	return h.Sum(), nil
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
