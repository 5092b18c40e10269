package app_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/app"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
)

// TestUpstreamInit: against real Buildroot, init checks out 2026.02.3 at
// the pin, Buildroot's own list-defconfigs runs on it with our tree, and
// ipabr agrees with git on what changed in it.
func TestUpstreamInit(t *testing.T) {
	src := testenv.Env(t, "upstream", "IPABR_TEST_BUILDROOT")
	dir := t.TempDir()
	if err := testenv.MakeProject(dir, gitsub.DefaultPin, gitsub.DefaultURL); err != nil {
		t.Fatal(err)
	}
	io, _, out, errOut := term.Test()
	code := app.Run(context.Background(), []string{"--repo", dir, "init", "--url", src}, app.Env{
		IO: io, Runner: process.OS{}, Cwd: dir,
	})
	if code != 0 {
		t.Fatalf("ipabr init exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out.String(), "(2026.02.3) checked out in buildroot") {
		t.Errorf("init output: %s", out)
	}
	head, err := testenv.Git(filepath.Join(dir, "buildroot"), "rev-parse", "HEAD")
	if err != nil || head != gitsub.DefaultPin {
		t.Fatalf("buildroot HEAD = %q (%v), want %s", head, err, gitsub.DefaultPin)
	}
	// Git trims the leading space; a "-" or "+" would remain.
	status, err := testenv.Git(dir, "submodule", "status")
	if err != nil || !strings.HasPrefix(status, gitsub.DefaultPin+" buildroot") {
		t.Fatalf("git submodule status = %q (%v)", status, err)
	}
	var listing bytes.Buffer
	cmd := exec.Command("make", "-s", "-C", filepath.Join(dir, "buildroot"), "O="+t.TempDir(),
		"BR2_EXTERNAL="+filepath.Join(dir, "buildroot-ipa"), "list-defconfigs")
	cmd.Stdout, cmd.Stderr = &listing, &listing
	cmd.Env = append(os.Environ(), "BR2_DL_DIR="+filepath.Join(dir, "dl"))
	if err := cmd.Run(); err != nil {
		t.Fatalf("make list-defconfigs: %v\n%s", err, listing.String())
	}
	for _, want := range []string{"qemu_x86_64_defconfig", `External configs in "OpenStack Ironic Python Agent ramdisk":`, "openstack_ipa_defconfig"} {
		if !strings.Contains(listing.String(), want) {
			t.Errorf("list-defconfigs lacks %q", want)
		}
	}
	checkStatusAgreesWithGit(t, dir)
}

// checkStatusAgreesWithGit: on the real Buildroot checkout init made, the
// local changes ipabr reports are git's, for a clean tree, a touched file,
// a same-size edit and an untracked file.
func checkStatusAgreesWithGit(t *testing.T, root string) {
	t.Helper()
	sub, err := gitsub.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	br := filepath.Join(root, "buildroot")
	compare := func(what string, want []string) {
		t.Helper()
		st, err := gitsub.Inspect(context.Background(), root, sub)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := testenv.GitStatus(br)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(theirs, "|") != strings.Join(want, "|") || strings.Join(st.Changes, "|") != strings.Join(theirs, "|") {
			t.Errorf("%s: ipabr says %q, git says %q, want %q", what, st.Changes, theirs, want)
		}
	}
	compare("fresh checkout", nil)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(br, "Makefile"), later, later); err != nil {
		t.Fatal(err)
	}
	compare("touched Makefile", nil)
	cfg := filepath.Join(br, "Config.in")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data[0] ^= 0x20 // same size, other content
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(br, "package", "local.patch"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	compare("edited Config.in, untracked patch", []string{" M Config.in", "?? package/local.patch"})
}
