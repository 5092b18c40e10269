package gitsub

import (
	"errors"
	"io/fs"
	"syscall"
	"time"
)

// fileStat is the stat data git records in its index for a file.
type fileStat struct {
	mode         fs.FileMode // the type (directory, symlink) and permission bits
	size         int64
	mtime, ctime time.Time
	dev, ino     uint32
	uid, gid     uint32
	full         bool // ctime, dev, ino, uid and gid are known
}

func (st fileStat) isDir() bool     { return st.mode.IsDir() }
func (st fileStat) isSymlink() bool { return st.mode&fs.ModeSymlink != 0 }

// notThere reports whether err says that a path does not exist, as a file
// or because one of its directories is not a directory.
func notThere(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
