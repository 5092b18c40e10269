package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// UpstreamTag is the Buildroot release the upstream tier checks out.
const UpstreamTag = "2026.02.3"

var upstreamCheckout struct {
	once sync.Once
	dir  string
	err  error
}

// UpstreamCheckout returns a work tree of real Buildroot at UpstreamTag,
// cloned shallowly from IPABR_TEST_BUILDROOT once and kept in the system's
// temporary directory for later runs; it skips t when the variable is unset.
// Tests must treat the tree as read-only.
func UpstreamCheckout(t testing.TB) string {
	t.Helper()
	src := Env(t, "upstream", "IPABR_TEST_BUILDROOT")
	upstreamCheckout.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "ipabr-test-buildroot-"+UpstreamTag)
		if _, err := os.Stat(filepath.Join(dir, "Makefile")); err == nil {
			upstreamCheckout.dir = dir
			return
		}
		tmp, err := os.MkdirTemp(os.TempDir(), "ipabr-test-buildroot-*")
		if err != nil {
			upstreamCheckout.err = err
			return
		}
		url := src
		if filepath.IsAbs(src) {
			url = "file://" + src
		}
		out, err := exec.Command("git", "clone", "-q", "--depth", "1", "--branch", UpstreamTag, url, tmp+"/tree").CombinedOutput()
		if err != nil {
			os.RemoveAll(tmp)
			upstreamCheckout.err = &cloneError{string(out), err}
			return
		}
		// Another test process may have won the race; either tree will do.
		if err := os.Rename(tmp+"/tree", dir); err != nil {
			upstreamCheckout.dir = tmp + "/tree"
			return
		}
		os.RemoveAll(tmp)
		upstreamCheckout.dir = dir
	})
	if upstreamCheckout.err != nil {
		t.Fatalf("cloning IPABR_TEST_BUILDROOT: %v", upstreamCheckout.err)
	}
	return upstreamCheckout.dir
}

type cloneError struct {
	out string
	err error
}

func (e *cloneError) Error() string { return e.err.Error() + ": " + e.out }
