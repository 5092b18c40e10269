package gitsub

import "time"

// fileStat is the stat data git records in its index for a file besides
// mtime, size and mode (sysStat reads it per platform).
type fileStat struct {
	ctime    time.Time
	dev, ino uint32
	uid, gid uint32
}
