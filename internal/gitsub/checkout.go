package gitsub

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// checkoutFresh writes commit's tree into the empty worktree dir, records
// the index (with stat data, so git sees a clean tree) and detaches HEAD
// at commit. go-git's general checkout stats and reopens every path several
// times; for a fresh tree of 15,000 files that was four times slower than git.
func checkoutFresh(r *git.Repository, dir string, commit plumbing.Hash) error {
	c, err := r.CommitObject(commit)
	if err != nil {
		return err
	}
	tree, err := c.Tree()
	if err != nil {
		return err
	}
	type job struct {
		name string
		mode filemode.FileMode
		hash plumbing.Hash
		data []byte
	}
	jobs := make(chan job, 256)
	var (
		mu       sync.Mutex
		entries  []*index.Entry
		firstErr error
		wg       sync.WaitGroup
		dirs     sync.Map
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	mkdirs := func(d string) error {
		if _, ok := dirs.Load(d); ok {
			return nil
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		dirs.Store(d, true)
		return nil
	}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				path := filepath.Join(dir, filepath.FromSlash(j.name))
				if err := mkdirs(filepath.Dir(path)); err != nil {
					fail(err)
					continue
				}
				if err := writeEntry(path, j.mode, j.data); err != nil {
					fail(err)
					continue
				}
				e, err := indexEntry(path, j.name, j.mode, j.hash)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				entries = append(entries, e)
				mu.Unlock()
			}
		}()
	}
	walkErr := tree.Files().ForEach(func(f *object.File) error {
		if f.Mode == filemode.Submodule {
			return nil
		}
		rd, err := f.Reader()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return err
		}
		jobs <- job{name: f.Name, mode: f.Mode, hash: f.Hash, data: data}
		return nil
	})
	close(jobs)
	wg.Wait()
	if err := errors.Join(walkErr, firstErr); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	if err := r.Storer.SetIndex(&index.Index{Version: 2, Entries: entries}); err != nil {
		return err
	}
	return r.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, commit))
}

func writeEntry(path string, mode filemode.FileMode, data []byte) error {
	if mode == filemode.Symlink {
		return os.Symlink(string(data), path)
	}
	perm := os.FileMode(0o644)
	if mode == filemode.Executable {
		perm = 0o755
	}
	return os.WriteFile(path, data, perm)
}

func indexEntry(path, name string, mode filemode.FileMode, hash plumbing.Hash) (*index.Entry, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	e := &index.Entry{Hash: hash, Name: name, Mode: mode, ModifiedAt: fi.ModTime(), Size: uint32(fi.Size())}
	if st, ok := sysStat(fi); ok {
		e.CreatedAt = st.ctime
		e.Dev, e.Inode = st.dev, st.ino
		e.UID, e.GID = st.uid, st.gid
	}
	return e, nil
}
