package gitsub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// checkoutFresh writes commit's tree into the empty worktree dir, records
// the index (with stat data, so git sees a clean tree) and detaches HEAD
// at commit. go-git's general checkout stats and reopens every path several
// times and reads each object through a fresh open of its pack; this reads
// the packs once, inflates every object once, in pack order, on one reader
// per CPU, and writes the files on a few more goroutines, without fsync.
// Cancelling ctx stops it between two files; then HEAD and the index are
// left alone and dir holds part of the tree. started, when not nil, is told
// how many files are about to be written.
func checkoutFresh(ctx context.Context, r *git.Repository, dir string, commit plumbing.Hash, started func(files int)) error {
	c, err := r.CommitObject(commit)
	if err != nil {
		return err
	}
	var packs packSet
	if fs, ok := r.Storer.(interface{ Filesystem() billy.Filesystem }); ok {
		if packs, err = openPacks(fs.Filesystem().Root()); err != nil {
			return err
		}
	}
	files, err := treeFiles(r, newObjectReader(packs), c.TreeHash)
	if err != nil {
		return err
	}
	if started != nil {
		started(len(files))
	}
	// In pack order, each reader inflates a run of neighbours, and the
	// delta bases it needs come before their deltas.
	for _, f := range files {
		f.pack, f.offset, f.inPack = packs.find(f.hash)
	}
	slices.SortFunc(files, func(a, b *treeFile) int {
		if a.pack != b.pack {
			return cmp.Compare(slices.Index(packs, a.pack), slices.Index(packs, b.pack))
		}
		return cmp.Compare(a.offset, b.offset)
	})

	w := newTreeWriter(dir)
	readers := runtime.GOMAXPROCS(0)
	var readErr error
	var readMu sync.Mutex
	var rg sync.WaitGroup
	for i := range readers {
		part := files[i*len(files)/readers : (i+1)*len(files)/readers]
		rg.Go(func() {
			if err := readBlobs(ctx, r, newObjectReader(packs), part, w); err != nil {
				readMu.Lock()
				readErr = cmp.Or(readErr, err)
				readMu.Unlock()
			}
		})
	}
	rg.Wait()
	entries, writeErr := w.close()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := errors.Join(readErr, writeErr); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	slices.SortFunc(entries, func(a, b *index.Entry) int { return cmp.Compare(a.Name, b.Name) })
	if err := r.Storer.SetIndex(&index.Index{Version: 2, Entries: entries}); err != nil {
		return err
	}
	return r.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, commit))
}

// treeFile is a file of the tree being checked out and where its blob is.
type treeFile struct {
	name   string
	mode   filemode.FileMode
	hash   plumbing.Hash
	pack   *pack
	offset int64
	inPack bool
}

// treeFiles lists the files (not submodules) of tree, recursively.
func treeFiles(r *git.Repository, or *objectReader, tree plumbing.Hash) ([]*treeFile, error) {
	var files []*treeFile
	var walk func(h plumbing.Hash, dir string) error
	walk = func(h plumbing.Hash, dir string) error {
		t, err := readTree(r, or, h)
		if err != nil {
			return err
		}
		for _, e := range t.Entries {
			name := path.Join(dir, e.Name)
			switch e.Mode {
			case filemode.Dir:
				if err := walk(e.Hash, name); err != nil {
					return err
				}
			case filemode.Submodule:
			default:
				files = append(files, &treeFile{name: name, mode: e.Mode, hash: e.Hash})
			}
		}
		return nil
	}
	return files, walk(tree, "")
}

func readTree(r *git.Repository, or *objectReader, h plumbing.Hash) (*object.Tree, error) {
	t, content, ok, err := or.read(h)
	if err != nil {
		return nil, err
	}
	if !ok {
		return r.TreeObject(h) // a loose object
	}
	if t != plumbing.TreeObject {
		return nil, fmt.Errorf("%s is a %s, not a tree", h, t)
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(t)
	if _, err := obj.Write(content); err != nil {
		return nil, err
	}
	tree := &object.Tree{}
	return tree, tree.Decode(obj)
}

// readBlobs sends the content of each file's blob to w, until ctx is
// cancelled.
func readBlobs(ctx context.Context, r *git.Repository, or *objectReader, files []*treeFile, w *treeWriter) error {
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		var data []byte
		if f.inPack {
			t, content, err := or.readAt(f.pack, f.offset, 0)
			if err != nil {
				return fmt.Errorf("%s: %v", f.name, err)
			}
			if t != plumbing.BlobObject {
				return fmt.Errorf("%s: %s is a %s, not a blob", f.name, f.hash, t)
			}
			data = content
		} else {
			b, err := r.BlobObject(f.hash) // a loose object
			if err != nil {
				return fmt.Errorf("%s: %v", f.name, err)
			}
			rd, err := b.Reader()
			if err != nil {
				return err
			}
			data, err = io.ReadAll(rd)
			rd.Close()
			if err != nil {
				return err
			}
		}
		w.send(writeJob{file: f, data: data})
	}
	return nil
}

type writeJob struct {
	file *treeFile
	data []byte
}

// treeWriter writes files under dir on a few goroutines (file creation
// waits on the kernel more than on the CPU) and collects their index
// entries. The files of one directory go to one goroutine, so that they
// do not contend for the directory's lock in the kernel.
type treeWriter struct {
	dir     string
	queues  []chan writeJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	entries []*index.Entry
	err     error
	dirs    sync.Map
}

func newTreeWriter(dir string) *treeWriter {
	w := &treeWriter{dir: dir}
	for range 2 * runtime.GOMAXPROCS(0) {
		q := make(chan writeJob, 64)
		w.queues = append(w.queues, q)
		w.wg.Go(func() {
			for j := range q {
				e, err := w.write(j)
				w.mu.Lock()
				if err != nil {
					w.err = cmp.Or(w.err, err)
				} else {
					w.entries = append(w.entries, e)
				}
				w.mu.Unlock()
			}
		})
	}
	return w
}

// send queues a file for writing.
func (w *treeWriter) send(j writeJob) {
	h := fnv.New32a()
	h.Write([]byte(path.Dir(j.file.name)))
	w.queues[h.Sum32()%uint32(len(w.queues))] <- j
}

// close waits for the writes and returns their index entries.
func (w *treeWriter) close() ([]*index.Entry, error) {
	for _, q := range w.queues {
		close(q)
	}
	w.wg.Wait()
	return w.entries, w.err
}

func (w *treeWriter) write(j writeJob) (*index.Entry, error) {
	f := j.file
	name := filepath.Join(w.dir, filepath.FromSlash(f.name))
	if err := w.mkdirAll(filepath.Dir(name)); err != nil {
		return nil, err
	}
	var st fileStat
	if f.mode == filemode.Symlink {
		if err := os.Symlink(string(j.data), name); err != nil {
			return nil, err
		}
		var err error
		if st, err = lstatPath(name); err != nil {
			return nil, err
		}
	} else {
		perm := os.FileMode(0o644)
		if f.mode == filemode.Executable {
			perm = 0o755
		}
		out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
		if err != nil {
			return nil, err
		}
		_, err = out.Write(j.data)
		if err == nil {
			st, err = statFile(out)
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	return statEntry(st, f.name, f.mode, f.hash), nil
}

// mkdirAll makes d and its parents, remembering what it made: one mkdir
// per directory, where os.MkdirAll stats each level first.
func (w *treeWriter) mkdirAll(d string) error {
	if _, ok := w.dirs.Load(d); ok {
		return nil
	}
	err := os.Mkdir(d, 0o755)
	if errors.Is(err, fs.ErrNotExist) && filepath.Dir(d) != d {
		if err = w.mkdirAll(filepath.Dir(d)); err == nil {
			err = os.Mkdir(d, 0o755)
		}
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	w.dirs.Store(d, true)
	return nil
}

// statEntry is the index entry for a file with stat data st.
func statEntry(st fileStat, name string, mode filemode.FileMode, hash plumbing.Hash) *index.Entry {
	e := &index.Entry{Hash: hash, Name: name, Mode: mode, ModifiedAt: st.mtime, Size: uint32(st.size)}
	if st.full {
		e.CreatedAt = st.ctime
		e.Dev, e.Inode = st.dev, st.ino
		e.UID, e.GID = st.uid, st.gid
	}
	return e
}
