package app_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/testenv"
)

// TestMakefileStampsCommit: the binary 'make' builds names its commit even
// when the environment turns Go's VCS stamping off (-buildvcs=false).
func TestMakefileStampsCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ipabr")
	}
	testenv.Program(t, "make", "make")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	head, err := testenv.Git(root, "rev-parse", "HEAD")
	if err != nil {
		testenv.Skip(t, "make", root+" is not a git checkout")
	}
	bin := filepath.Join(root, "ipabr")
	mk := exec.Command("make", "--no-print-directory", "-C", root, "ipabr")
	mk.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make ipabr: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("ipabr version: %v", err)
	}
	var v struct{ Commit string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ipabr version --json: %v\n%s", err, out)
	}
	if v.Commit != strings.TrimSpace(head) {
		t.Errorf("commit %q, want %s", v.Commit, head)
	}
}
