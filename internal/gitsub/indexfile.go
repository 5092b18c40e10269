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

	"github.com/go-git/go-git/v5/plumbing"
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
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &index.Index{Version: 2}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The mtime of the very file read (git replaces the index by rename).
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	idx, err := decodeIndex(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	idx.ModTime = fi.ModTime()
	return idx, nil
}

var errMalformedIndex = errors.New("malformed git index")

const (
	indexHeaderSize  = 12
	entryFixedSize   = 62 // stat data, object id and flags
	entryExtendedBit = 0x4000
	entryNameMask    = 0xfff
	intentToAddBit   = 1 << 13
	skipWorktreeBit  = 1 << 14
)

// decodeIndex parses an index file held whole in data; the trailing
// checksum is verified first, so no later read runs past a torn file.
func decodeIndex(data []byte) (*index.Index, error) {
	if len(data) < indexHeaderSize+sha1.Size || string(data[:4]) != "DIRC" {
		return nil, fmt.Errorf("%w: no index header", errMalformedIndex)
	}
	body := data[:len(data)-sha1.Size]
	if sum := sha1.Sum(body); !bytes.Equal(sum[:], data[len(body):]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errMalformedIndex)
	}
	version := binary.BigEndian.Uint32(data[4:])
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("index version %d is not supported (2 to 4 are)", version)
	}
	count := binary.BigEndian.Uint32(data[8:])
	// The smallest entry takes 63 bytes: more entries than that cannot fit.
	if uint64(count) > uint64(len(body))/(entryFixedSize+1) {
		return nil, fmt.Errorf("%w: %d entries do not fit in %d bytes", errMalformedIndex, count, len(body))
	}
	idx := &index.Index{Version: version, Entries: make([]*index.Entry, count)}
	entries := make([]index.Entry, count)
	d := indexDecoder{data: body, off: indexHeaderSize, version: version}
	prev := ""
	for i := range entries {
		e := &entries[i]
		if err := d.entry(e, prev); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		idx.Entries[i], prev = e, e.Name
	}
	if err := d.checkExtensions(); err != nil {
		return nil, err
	}
	return idx, nil
}

type indexDecoder struct {
	data    []byte
	off     int
	version uint32
}

func (d *indexDecoder) uint32() uint32 {
	v := binary.BigEndian.Uint32(d.data[d.off:])
	d.off += 4
	return v
}

// entry decodes the entry at d.off; prev is the previous entry's name,
// which version 4 compresses names against.
func (d *indexDecoder) entry(e *index.Entry, prev string) error {
	start := d.off
	if len(d.data)-start < entryFixedSize {
		return fmt.Errorf("%w: truncated entry", errMalformedIndex)
	}
	e.CreatedAt = indexTime(d.uint32(), d.uint32())
	e.ModifiedAt = indexTime(d.uint32(), d.uint32())
	e.Dev, e.Inode = d.uint32(), d.uint32()
	e.Mode = filemode.FileMode(d.uint32())
	e.UID, e.GID, e.Size = d.uint32(), d.uint32(), d.uint32()
	copy(e.Hash[:], d.data[d.off:d.off+len(plumbing.ZeroHash)])
	d.off += len(plumbing.ZeroHash)
	flags := binary.BigEndian.Uint16(d.data[d.off:])
	d.off += 2
	e.Stage = index.Stage(flags>>12) & 0x3
	if flags&entryExtendedBit != 0 {
		if d.version < 3 || len(d.data)-d.off < 2 {
			return fmt.Errorf("%w: extended flags out of place", errMalformedIndex)
		}
		extended := binary.BigEndian.Uint16(d.data[d.off:])
		d.off += 2
		e.IntentToAdd = extended&intentToAddBit != 0
		e.SkipWorktree = extended&skipWorktreeBit != 0
	}
	if d.version == 4 {
		return d.nameV4(e, prev)
	}
	// Versions 2 and 3: the name, then 1 to 8 NULs that end the entry on a
	// multiple of 8 bytes; a name of 0xfff bytes or more is found by its NUL.
	n := int(flags & entryNameMask)
	if n == entryNameMask {
		n = bytes.IndexByte(d.data[d.off:], 0)
	}
	end := start + (d.off-start+n+8)&^7
	if n < 0 || end > len(d.data) || d.data[d.off+n] != 0 {
		return fmt.Errorf("%w: bad name", errMalformedIndex)
	}
	e.Name = string(d.data[d.off : d.off+n])
	d.off = end
	return nil
}

// nameV4 reads a version 4 name: how many bytes to drop from the end of
// the previous name, then the rest of this one up to a NUL.
func (d *indexDecoder) nameV4(e *index.Entry, prev string) error {
	strip, ok := d.varint()
	if !ok || strip > uint64(len(prev)) {
		return fmt.Errorf("%w: bad name prefix", errMalformedIndex)
	}
	n := bytes.IndexByte(d.data[d.off:], 0)
	if n < 0 {
		return fmt.Errorf("%w: unterminated name", errMalformedIndex)
	}
	e.Name = prev[:len(prev)-int(strip)] + string(d.data[d.off:d.off+n])
	d.off += n + 1
	return nil
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
