//go:build unix

package workspace

import (
	"errors"
	"path/filepath"
	"syscall"
)

// statFS reads the filesystem of path's nearest existing parent. The
// fields' integer types differ between systems, hence the conversions.
func statFS(path string) (free uint64, dev uint64, err error) {
	for {
		var st syscall.Statfs_t
		err = syscall.Statfs(path, &st)
		if err == nil {
			var fi syscall.Stat_t
			if err := syscall.Stat(path, &fi); err != nil {
				return 0, 0, err
			}
			return uint64(st.Bavail) * uint64(st.Bsize), uint64(fi.Dev), nil
		}
		if !errors.Is(err, syscall.ENOENT) || filepath.Dir(path) == path {
			return 0, 0, err
		}
		path = filepath.Dir(path)
	}
}
