package project

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockOutputExcludesOthers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	l, err := LockOutput(dir, "output")
	if err != nil {
		t.Fatal(err)
	}
	// A second process (flock(1) from util-linux) cannot take it.
	if _, err := exec.LookPath("flock"); err == nil {
		if err := exec.Command("flock", "-n", filepath.Join(dir, LockFile), "true").Run(); err == nil {
			t.Fatal("flock(1) got the lock while ipabr held it")
		}
	}
	// Nor can a second lock in this process (flock locks are per open file).
	_, err = LockOutput(dir, "output")
	var inUse *InUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), fmt.Sprintf("output is in use by pid %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	l.Release()
	l2, err := LockOutput(dir, "output")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}

func TestLockOutputRefusesFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := LockOutput(f, "file"); err == nil || !strings.Contains(err.Error(), "is an existing file") {
		t.Fatalf("got %v", err)
	}
}
