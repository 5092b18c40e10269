package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// FakeBuildrootDir is the fake Buildroot tree shipped with the tests.
func FakeBuildrootDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "fakebuildroot")
}

// Git runs git in dir with a fixed identity and no user or system config,
// and returns its output with surrounding white space trimmed.
func Git(dir string, args ...string) (string, error) {
	out, err := GitCommand(dir, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// GitStatus is `git status --porcelain` in dir, one line a change, taken
// as it is (trimming would cut the first line's leading space). It takes
// no optional locks, so git does not refresh the index first.
func GitStatus(dir string) ([]string, error) {
	out, err := GitCommand(dir, "--no-optional-locks", "status", "--porcelain").Output()
	if err != nil {
		return nil, fmt.Errorf("git status in %s: %v", dir, err)
	}
	if s := strings.TrimSuffix(string(out), "\n"); s != "" {
		return strings.Split(s, "\n"), nil
	}
	return nil, nil
}

// GitCommand is the git command Git runs, for output taken as it is.
func GitCommand(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=ipabr test", "GIT_AUTHOR_EMAIL=test@ipabr.invalid",
		"GIT_COMMITTER_NAME=ipabr test", "GIT_COMMITTER_EMAIL=test@ipabr.invalid",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_DATE=2026-06-16T21:00:00Z", "GIT_COMMITTER_DATE=2026-06-16T21:00:00Z",
	)
	return cmd
}

// FakeBuildrootCommits names the commits of a fake Buildroot repository.
type FakeBuildrootCommits struct {
	Old    string // first commit: untagged, not a branch tip
	Tagged string // second commit: tag 2026.02.3 (annotated), the usual pin
	Tip    string // third commit: master
}

// MakeFakeBuildrootRepo creates a non-bare git repository at dir holding
// the fake Buildroot in three commits.
func MakeFakeBuildrootRepo(dir string) (FakeBuildrootCommits, error) {
	var c FakeBuildrootCommits
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, err
	}
	if err := os.CopyFS(dir, os.DirFS(FakeBuildrootDir())); err != nil {
		return c, err
	}
	steps := [][]string{
		{"init", "-q", "-b", "master"},
		{"add", "-A"},
		{"commit", "-qm", "fake buildroot"},
	}
	for _, s := range steps {
		if _, err := Git(dir, s...); err != nil {
			return c, err
		}
	}
	var err error
	if c.Old, err = Git(dir, "rev-parse", "HEAD"); err != nil {
		return c, err
	}
	for i, name := range []string{"CHANGES", "CHANGES"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("release %d\n", i)), 0o644); err != nil {
			return c, err
		}
		if _, err := Git(dir, "add", "-A"); err != nil {
			return c, err
		}
		if _, err := Git(dir, "commit", "-qm", fmt.Sprintf("release %d", i)); err != nil {
			return c, err
		}
		head, err := Git(dir, "rev-parse", "HEAD")
		if err != nil {
			return c, err
		}
		if i == 0 {
			c.Tagged = head
			if _, err := Git(dir, "tag", "-a", "-m", "2026.02.3", "2026.02.3"); err != nil {
				return c, err
			}
		} else {
			c.Tip = head
		}
	}
	return c, nil
}

// MakeFakeProject makes, under work, the fake Buildroot repository (br)
// and a project (proj) pinned to its tagged commit and naming it as the
// submodule's URL; it returns the project's directory.
func MakeFakeProject(work string) (string, error) {
	br := filepath.Join(work, "br")
	commits, err := MakeFakeBuildrootRepo(br)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(work, "proj")
	return dir, MakeProject(dir, commits.Tagged, br)
}

// MakeProject creates an ipabr project repository at dir whose buildroot
// gitlink is pin and whose .gitmodules names url.
func MakeProject(dir, pin, url string) error {
	if err := os.MkdirAll(filepath.Join(dir, "buildroot-ipa", "configs"), 0o755); err != nil {
		return err
	}
	files := map[string]string{
		".gitmodules":                                   "[submodule \"buildroot\"]\n\tpath = buildroot\n\turl = " + url + "\n",
		"buildroot-ipa/external.desc":                   "name: IPA\ndesc: OpenStack Ironic Python Agent ramdisk\n",
		"buildroot-ipa/Config.in":                       "",
		"buildroot-ipa/external.mk":                     "",
		"buildroot-ipa/configs/openstack_ipa_defconfig": "BR2_x86_64=y\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, s := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"update-index", "--add", "--cacheinfo", "160000," + pin + ",buildroot"},
		{"commit", "-qm", "project"},
	} {
		if _, err := Git(dir, s...); err != nil {
			return err
		}
	}
	return nil
}
