package gitsub

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// packSet is a repository's pack files, held in memory, for reading many
// objects at once: go-git's object storage opens and stats the pack again
// for every object it reads, which for a checkout of 15,000 files cost more
// than inflating them.
type packSet []*pack

type pack struct {
	idx  *idxfile.MemoryIndex
	data []byte
}

// openPacks reads the pack files and their indexes in gitDir.
func openPacks(gitDir string) (packSet, error) {
	dir := filepath.Join(gitDir, "objects", "pack")
	names, err := filepath.Glob(filepath.Join(dir, "pack-*.idx"))
	if err != nil {
		return nil, err
	}
	var ps packSet
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		idx := idxfile.NewMemoryIndex()
		if err := idxfile.NewDecoder(bytes.NewReader(raw)).Decode(idx); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		data, err := os.ReadFile(strings.TrimSuffix(name, ".idx") + ".pack")
		if err != nil {
			return nil, err
		}
		ps = append(ps, &pack{idx: idx, data: data})
	}
	return ps, nil
}

// find is the pack holding h and its offset there.
func (ps packSet) find(h plumbing.Hash) (*pack, int64, bool) {
	for _, p := range ps {
		if off, err := p.idx.FindOffset(h); err == nil {
			return p, off, true
		}
	}
	return nil, 0, false
}

// objectReader inflates objects of a packSet and resolves their deltas,
// keeping recently decoded objects as bases for the deltas that follow
// them. It is not safe for concurrent use; give each goroutine its own.
type objectReader struct {
	packs    packSet
	scanners map[*pack]*packfile.Scanner
	bases    map[*pack]*cache.BufferLRU
	types    map[*pack]map[int64]plumbing.ObjectType
	buf      bytes.Buffer
}

// baseCacheSize bounds each reader's cache of decoded objects.
const baseCacheSize = 32 * cache.MiByte

func newObjectReader(ps packSet) *objectReader {
	r := &objectReader{
		packs:    ps,
		scanners: map[*pack]*packfile.Scanner{},
		bases:    map[*pack]*cache.BufferLRU{},
		types:    map[*pack]map[int64]plumbing.ObjectType{},
	}
	for _, p := range ps {
		r.scanners[p] = packfile.NewScanner(bytes.NewReader(p.data))
		r.bases[p] = cache.NewBufferLRU(baseCacheSize)
		r.types[p] = map[int64]plumbing.ObjectType{}
	}
	return r
}

// read returns object h's type and content; ok is false when no pack has it.
func (r *objectReader) read(h plumbing.Hash) (t plumbing.ObjectType, content []byte, ok bool, err error) {
	p, off, ok := r.packs.find(h)
	if !ok {
		return plumbing.InvalidObject, nil, false, nil
	}
	t, content, err = r.readAt(p, off, 0)
	return t, content, true, err
}

// maxDeltaDepth bounds delta chains (git writes at most 50 by default;
// this only stops a malicious pack from recursing without end).
const maxDeltaDepth = 10000

func (r *objectReader) readAt(p *pack, off int64, depth int) (plumbing.ObjectType, []byte, error) {
	if content, ok := r.bases[p].Get(off); ok {
		return r.types[p][off], content, nil
	}
	if depth > maxDeltaDepth {
		return plumbing.InvalidObject, nil, fmt.Errorf("delta chain at offset %d is too long", off)
	}
	s := r.scanners[p]
	h, err := s.SeekObjectHeader(off)
	if err != nil {
		return plumbing.InvalidObject, nil, err
	}
	r.buf.Reset()
	if _, _, err := s.NextObject(&r.buf); err != nil {
		return plumbing.InvalidObject, nil, err
	}
	t, content := h.Type, bytes.Clone(r.buf.Bytes())
	if t.IsDelta() {
		baseOff := h.OffsetReference
		basePack := p
		if t == plumbing.REFDeltaObject {
			var ok bool
			if basePack, baseOff, ok = r.packs.find(h.Reference); !ok {
				return plumbing.InvalidObject, nil, fmt.Errorf("delta base %s: %w", h.Reference, plumbing.ErrObjectNotFound)
			}
		}
		var base []byte
		t, base, err = r.readAt(basePack, baseOff, depth+1)
		if err != nil {
			return plumbing.InvalidObject, nil, err
		}
		if content, err = packfile.PatchDelta(base, content); err != nil {
			return plumbing.InvalidObject, nil, err
		}
	}
	r.bases[p].Put(off, content)
	r.types[p][off] = t
	return t, content, nil
}
