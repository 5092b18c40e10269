package ipatest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/testenv"
)

// PipRepoEnv names a git repository of pypa/pip with its release tags: the
// tests run pip releases unpacked from it, never the network's.
const PipRepoEnv = "IPABR_TEST_PIP_REPO"

var releaseRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)

// PipReleases lists the release tags (X.Y or X.Y.Z) of the repository that
// PipRepoEnv names, oldest first; without the variable it skips t.
func PipReleases(t testing.TB) []string {
	t.Helper()
	repo := testenv.Env(t, "pip", PipRepoEnv)
	testenv.Program(t, "pip", "git")
	out, err := exec.Command("git", "-C", repo, "tag", "--list").Output()
	if err != nil {
		t.Fatalf("%s=%s: git tag: %v", PipRepoEnv, repo, err)
	}
	var tags []string
	for _, tag := range strings.Fields(string(out)) {
		if releaseRE.MatchString(tag) {
			tags = append(tags, tag)
		}
	}
	sort.Slice(tags, func(i, j int) bool { return ipa.VersionLess(tags[i], tags[j]) })
	if len(tags) == 0 {
		t.Fatalf("%s=%s has no release tags", PipRepoEnv, repo)
	}
	return tags
}

// PipSource unpacks pip's src/pip at tag from the repository PipRepoEnv
// names into a temporary directory and returns that directory (the one to
// put on PYTHONPATH).
func PipSource(t testing.TB, tag string) string {
	t.Helper()
	repo := testenv.Env(t, "pip", PipRepoEnv)
	archive, err := exec.Command("git", "-C", repo, "archive", "--format=tar", tag, "src/pip").Output()
	if err != nil {
		t.Fatalf("%s: git archive %s: %v", repo, tag, err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rel, ok := strings.CutPrefix(h.Name, "src/")
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pip", "__main__.py")); err != nil {
		t.Fatalf("%s at %s has no src/pip/__main__.py", repo, tag)
	}
	return dir
}

// Interpreter writes an executable that runs the host's python3 with the
// directories first on its module path (PYTHONPATH), and returns its path:
// what a user names with --python.
func Interpreter(t testing.TB, path ...string) string {
	t.Helper()
	py := testenv.Program(t, "hermetic", "python3")
	script := filepath.Join(t.TempDir(), "python3")
	text := fmt.Sprintf("#!/bin/sh\nPYTHONPATH=%s exec %s \"$@\"\n", shellQuote(strings.Join(path, ":")), shellQuote(py))
	if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
