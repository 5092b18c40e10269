package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the advisory lock ipabr holds in an output directory while
// make runs there.
const LockFile = ".ipabr.lock"

// InUseError is returned when another process holds an output's lock.
type InUseError struct{ msg string }

func (e *InUseError) Error() string { return e.msg }

// Lock is a held output-directory lock.
type Lock struct{ f *os.File }

// LockOutput takes the output directory's lock without waiting, creating
// the directory if needed. shown is how messages name the directory.
func LockOutput(dir, shown string) (*Lock, error) {
	if err := CheckDirPath("output directory", dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		data, _ := os.ReadFile(f.Name())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(data))
			if _, convErr := strconv.Atoi(holder); convErr != nil {
				holder = "another process"
			} else {
				holder = "pid " + holder
			}
			return nil, &InUseError{fmt.Sprintf("%s is in use by %s; wait for it or use another output (-O DIR or --unique)", shown, holder)}
		}
		return nil, err
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		_ = l.f.Truncate(0)
		_ = l.f.Close()
		l.f = nil
	}
}
