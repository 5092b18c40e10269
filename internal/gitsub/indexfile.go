package gitsub

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// readIndex reads the entries of a git index file (versions 2 to 4) into
// go-git's types, with the file's mtime for the racy-git rule. It decodes
// the file in one buffer: go-git's decoder reads each field through
// encoding/binary and a collision-detecting hash, which took a sixth of
// `ipabr status` on Buildroot's 15,000 entries. A missing file is an empty
// index, as for git.
func readIndex(name string) (*index.Index, error) {
	data, mtime, err := readIndexFile(name)
	if err != nil || data == nil {
		return &index.Index{Version: 2}, err
	}
	idx, err := decodeIndex(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	idx.ModTime = mtime
	return idx, nil
}

// readIndexEntry finds path's entry in the index file name without
// decoding the others; when there is none, under says whether the index
// has files below path.
func readIndexEntry(name, path string) (e *index.Entry, under bool, err error) {
	data, _, err := readIndexFile(name)
	if err != nil || data == nil {
		return nil, false, err
	}
	_, err = walkIndex(data, func(int) {}, func(fixed, entryName []byte) {
		switch {
		case e == nil && string(entryName) == path:
			e = &index.Entry{Name: path}
			fillEntry(e, fixed)
		case len(entryName) > len(path) && entryName[len(path)] == '/' && string(entryName[:len(path)]) == path:
			under = true
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", name, err)
	}
	return e, under, nil
}

// readIndexFile is the whole index file and its mtime, both of the very
// file read (git replaces the index by rename); nil data if there is none.
func readIndexFile(name string) ([]byte, time.Time, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, time.Time{}, err
	}
	return data, fi.ModTime(), nil
}

var errMalformedIndex = errors.New("malformed git index")

// withIndexFix adds to a malformed index's error how to write it again:
// `git reset` rebuilds the index of worktree from HEAD, keeping the files
// (and dropping what was staged).
func withIndexFix(err error, worktree string) error {
	if errors.Is(err, errMalformedIndex) {
		return fmt.Errorf("%w; 'git -C %s reset' writes it again from HEAD, keeping the files (what was staged is unstaged)", err, worktree)
	}
	return err
}

const (
	indexHeaderSize  = 12
	entryFixedSize   = 62 // stat data, object id and flags
	entryExtendedBit = 0x4000
	entryNameMask    = 0xfff
	intentToAddBit   = 1 << 13
	skipWorktreeBit  = 1 << 14
)

// decodeIndex parses an index file held whole in data.
func decodeIndex(data []byte) (*index.Index, error) {
	var entries []index.Entry
	version, err := walkIndex(data, func(count int) { entries = make([]index.Entry, 0, count) },
		func(fixed, name []byte) {
			entries = append(entries, index.Entry{Name: string(name)})
			fillEntry(&entries[len(entries)-1], fixed)
		})
	if err != nil {
		return nil, err
	}
	idx := &index.Index{Version: version, Entries: make([]*index.Entry, len(entries))}
	for i := range entries {
		idx.Entries[i] = &entries[i]
	}
	return idx, nil
}

// walkIndex checks an index file held whole in data (its checksum first,
// so no read runs past a torn file) and calls entry for each entry with
// its fixed fields and its name, both valid only during the call. start
// learns how many entries there are.
func walkIndex(data []byte, start func(count int), entry func(fixed, name []byte)) (version uint32, err error) {
	if len(data) < indexHeaderSize+sha1.Size || string(data[:4]) != "DIRC" {
		return 0, fmt.Errorf("%w: no index header", errMalformedIndex)
	}
	body := data[:len(data)-sha1.Size]
	if sum := sha1.Sum(body); !bytes.Equal(sum[:], data[len(body):]) {
		return 0, fmt.Errorf("%w: checksum mismatch", errMalformedIndex)
	}
	version = binary.BigEndian.Uint32(data[4:])
	if version < 2 || version > 4 {
		return 0, fmt.Errorf("index version %d is not supported (2 to 4 are)", version)
	}
	count := binary.BigEndian.Uint32(data[8:])
	// The smallest entry takes 63 bytes: more entries than that cannot fit.
	if uint64(count) > uint64(len(body))/(entryFixedSize+1) {
		return 0, fmt.Errorf("%w: %d entries do not fit in %d bytes", errMalformedIndex, count, len(body))
	}
	start(int(count))
	d := indexDecoder{data: body, off: indexHeaderSize, version: version}
	for i := range int(count) {
		fixed, err := d.next()
		if err != nil {
			return 0, fmt.Errorf("entry %d: %w", i, err)
		}
		entry(fixed, d.name)
	}
	return version, d.checkExtensions()
}

type indexDecoder struct {
	data    []byte
	off     int
	version uint32
	name    []byte // the current entry's name (version 4 builds on the previous one)
}

// next moves past the entry at d.off, leaving its name in d.name, and
// returns its fixed fields.
func (d *indexDecoder) next() (fixed []byte, err error) {
	start := d.off
	if len(d.data)-start < entryFixedSize {
		return nil, fmt.Errorf("%w: truncated entry", errMalformedIndex)
	}
	d.off += entryFixedSize
	flags := binary.BigEndian.Uint16(d.data[d.off-2:])
	if flags&entryExtendedBit != 0 {
		if d.version < 3 || len(d.data)-d.off < 2 {
			return nil, fmt.Errorf("%w: extended flags out of place", errMalformedIndex)
		}
		d.off += 2
	}
	fixed = d.data[start:d.off]
	if d.version == 4 {
		return fixed, d.nameV4()
	}
	// Versions 2 and 3: the name, then 1 to 8 NULs that end the entry on a
	// multiple of 8 bytes; a name of 0xfff bytes or more is found by its NUL.
	n := int(flags & entryNameMask)
	if n == entryNameMask {
		n = bytes.IndexByte(d.data[d.off:], 0)
	}
	end := start + (d.off-start+n+8)&^7
	if n < 0 || end > len(d.data) || d.data[d.off+n] != 0 {
		return nil, fmt.Errorf("%w: bad name", errMalformedIndex)
	}
	d.name = d.data[d.off : d.off+n]
	d.off = end
	return fixed, nil
}

// nameV4 reads a version 4 name: how many bytes to drop from the end of
// the previous name, then the rest of this one up to a NUL.
func (d *indexDecoder) nameV4() error {
	strip, ok := d.varint()
	if !ok || strip > uint64(len(d.name)) {
		return fmt.Errorf("%w: bad name prefix", errMalformedIndex)
	}
	n := bytes.IndexByte(d.data[d.off:], 0)
	if n < 0 {
		return fmt.Errorf("%w: unterminated name", errMalformedIndex)
	}
	// d.name is a buffer of its own here (never the file's bytes).
	d.name = append(d.name[:len(d.name)-int(strip)], d.data[d.off:d.off+n]...)
	d.off += n + 1
	return nil
}

// fillEntry decodes an entry's fixed fields (as next returned them).
func fillEntry(e *index.Entry, fixed []byte) {
	u32 := func(i int) uint32 { return binary.BigEndian.Uint32(fixed[4*i:]) }
	e.CreatedAt = indexTime(u32(0), u32(1))
	e.ModifiedAt = indexTime(u32(2), u32(3))
	e.Dev, e.Inode = u32(4), u32(5)
	e.Mode = filemode.FileMode(u32(6))
	e.UID, e.GID, e.Size = u32(7), u32(8), u32(9)
	copy(e.Hash[:], fixed[40:60])
	flags := binary.BigEndian.Uint16(fixed[60:])
	e.Stage = index.Stage(flags>>12) & 0x3
	if flags&entryExtendedBit != 0 {
		extended := binary.BigEndian.Uint16(fixed[62:])
		e.IntentToAdd = extended&intentToAddBit != 0
		e.SkipWorktree = extended&skipWorktreeBit != 0
	}
}

// varint is git's offset encoding (varint.c): each continuation adds one
// before shifting, so no number has two spellings.
func (d *indexDecoder) varint() (uint64, bool) {
	var v uint64
	for {
		if d.off >= len(d.data) || v > (1<<56) {
			return 0, false
		}
		c := d.data[d.off]
		d.off++
		v |= uint64(c & 0x7f)
		if c&0x80 == 0 {
			return v, true
		}
		v = (v + 1) << 7
	}
}

// checkExtensions refuses the extensions that change what the entries
// mean (a split index keeps entries in another file; a sparse index
// folds directories into one entry) and, like git, any other mandatory
// one (a signature not starting with a capital); the optional ones (the
// cache tree, resolve-undo, ...) are skipped.
func (d *indexDecoder) checkExtensions() error {
	for len(d.data)-d.off >= 8 {
		sig := string(d.data[d.off : d.off+4])
		size := binary.BigEndian.Uint32(d.data[d.off+4:])
		switch {
		case sig == "link":
			return errors.New("the index is split (core.splitIndex); run 'git update-index --no-split-index' in it")
		case sig == "sdir":
			return errors.New("the index is sparse (sparse-checkout); run 'git sparse-checkout disable' in it")
		case sig[0] < 'A' || sig[0] > 'Z':
			return fmt.Errorf("the index has the extension %q, which ipabr does not know", sig)
		case uint64(size) > uint64(len(d.data)-d.off-8):
			return fmt.Errorf("%w: extension %q runs past the end", errMalformedIndex, sig)
		}
		d.off += 8 + int(size)
	}
	if d.off != len(d.data) {
		return fmt.Errorf("%w: %d stray bytes after the entries", errMalformedIndex, len(d.data)-d.off)
	}
	return nil
}

// indexTime is go-git's reading of a timestamp: none when both are 0.
func indexTime(sec, nsec uint32) time.Time {
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), int64(nsec))
}
