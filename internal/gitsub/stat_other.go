//go:build !linux && !darwin && !freebsd && !netbsd

package gitsub

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Where the platform's stat data is not known here, the comparison rests
// on size, mode and mtime, and files are looked at by their whole path.

func lstatPath(name string) (fileStat, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return fileStat{}, err
	}
	return fromFileInfo(fi), nil
}

func statFile(f *os.File) (fileStat, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileStat{}, err
	}
	return fromFileInfo(fi), nil
}

type dirHandle struct{ path string }

func openDir(name string, noFollow bool) (*dirHandle, error) {
	stat := os.Stat
	if noFollow {
		stat = os.Lstat
	}
	fi, err := stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOTDIR}
	}
	return &dirHandle{path: name}, nil
}

func (d *dirHandle) lstat(name string) (fileStat, error) {
	return lstatPath(filepath.Join(d.path, name))
}

func (d *dirHandle) entries() ([]fs.DirEntry, error) { return os.ReadDir(d.path) }

func (d *dirHandle) close() {}
