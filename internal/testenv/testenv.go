// Package testenv gates the test tiers of CONTRIBUTING.md ("Tests"). A tier whose
// prerequisite is missing is skipped with one visible line on stdout
// ("SKIP upstream: IPABR_TEST_BUILDROOT unset"), which `make test` shows.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var announced sync.Map

func announce(tier, reason string) {
	line := fmt.Sprintf("SKIP %s: %s", tier, reason)
	if _, seen := announced.LoadOrStore(line, true); !seen {
		fmt.Println(line)
	}
}

// Env returns the value of the tier's environment variable, or skips t.
func Env(t testing.TB, tier, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		announce(tier, name+" unset")
		t.Skipf("SKIP %s: %s unset", tier, name)
	}
	return v
}

// Program returns the path of prog on PATH, or skips t.
func Program(t testing.TB, tier, prog string) string {
	t.Helper()
	path, err := exec.LookPath(prog)
	if err != nil {
		announce(tier, prog+" not installed")
		t.Skipf("SKIP %s: %s not installed", tier, prog)
	}
	return path
}

// Python returns the host's python3 for tier: the system's when there is
// one (it starts in a tenth of the time a version manager's shim on PATH
// can take), else the one on PATH; it skips t without either.
func Python(t testing.TB, tier string) string {
	t.Helper()
	if st, err := os.Stat("/usr/bin/python3"); err == nil && st.Mode()&0o111 != 0 {
		return "/usr/bin/python3"
	}
	return Program(t, tier, "python3")
}

// WriteFile writes content to path, making its directories, or fails the
// test.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
