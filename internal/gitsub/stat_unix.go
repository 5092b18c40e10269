//go:build linux || darwin || freebsd || netbsd

package gitsub

import (
	"os"
	"syscall"
)

// sysStat is the stat data beyond os.FileInfo that git keeps in its index.
func sysStat(fi os.FileInfo) (fileStat, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{}, false
	}
	return fileStat{
		ctime: ctime(st),
		dev:   uint32(st.Dev), ino: uint32(st.Ino),
		uid: st.Uid, gid: st.Gid,
	}, true
}
