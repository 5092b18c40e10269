//go:build unix

package gitsub

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fromUnix is the index's view of a stat result.
func fromUnix(st *unix.Stat_t) fileStat {
	fst := fileStat{
		mode:  fs.FileMode(st.Mode & 0o777),
		size:  st.Size,
		mtime: time.Unix(st.Mtim.Unix()),
		ctime: time.Unix(st.Ctim.Unix()),
		dev:   uint32(st.Dev), ino: uint32(st.Ino),
		uid: st.Uid, gid: st.Gid,
		full: true,
	}
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFDIR:
		fst.mode |= fs.ModeDir
	case unix.S_IFLNK:
		fst.mode |= fs.ModeSymlink
	case unix.S_IFREG:
	default:
		fst.mode |= fs.ModeIrregular
	}
	return fst
}

// lstatPath is lstat(2) of name.
func lstatPath(name string) (fileStat, error) {
	var st unix.Stat_t
	if err := retryEINTR(func() error { return unix.Lstat(name, &st) }); err != nil {
		return fileStat{}, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return fromUnix(&st), nil
}

// retryEINTR runs a system call again while a signal interrupts it (as
// package os does for its own).
func retryEINTR(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}

// statFile is fstat(2) of an open file.
func statFile(f *os.File) (fileStat, error) {
	conn, err := f.SyscallConn()
	if err != nil {
		return fileStat{}, err
	}
	var st unix.Stat_t
	var statErr error
	if err := conn.Control(func(fd uintptr) { statErr = unix.Fstat(int(fd), &st) }); err != nil {
		return fileStat{}, err
	}
	if statErr != nil {
		return fileStat{}, &fs.PathError{Op: "fstat", Path: f.Name(), Err: statErr}
	}
	return fromUnix(&st), nil
}

// dirHandle is an open directory whose entries are looked at by name, so
// the kernel resolves one path component per file, not the whole path.
type dirHandle struct {
	f  *os.File
	fd int
}

// openDir opens the directory name; with noFollow, a symlink there is
// not followed (git does not look through a symlink in a tracked path).
func openDir(name string, noFollow bool) (*dirHandle, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if noFollow {
		flags |= unix.O_NOFOLLOW
	}
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = unix.Open(name, flags, 0)
		return err
	})
	switch {
	case err == unix.ELOOP || err == unix.EMLINK: // a symlink (FreeBSD says EMLINK)
		return nil, &fs.PathError{Op: "open", Path: name, Err: unix.ENOTDIR}
	case err != nil:
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &dirHandle{f: os.NewFile(uintptr(fd), name), fd: fd}, nil
}

func (d *dirHandle) lstat(name string) (fileStat, error) {
	var st unix.Stat_t
	if err := retryEINTR(func() error { return unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return fileStat{}, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return fromUnix(&st), nil
}

// entries are the directory's entries, unsorted.
func (d *dirHandle) entries() ([]fs.DirEntry, error) { return d.f.ReadDir(-1) }

func (d *dirHandle) close() { d.f.Close() }
