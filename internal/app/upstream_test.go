package app_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/app"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
)

// TestUpstreamInit: against real Buildroot, init checks out 2026.02.3 at
// the pin and Buildroot's own list-defconfigs runs on it with our tree.
func TestUpstreamInit(t *testing.T) {
	src := testenv.Env(t, "upstream", "IPABR_TEST_BUILDROOT")
	dir := t.TempDir()
	if err := testenv.MakeProject(dir, gitsub.DefaultPin, gitsub.DefaultURL); err != nil {
		t.Fatal(err)
	}
	io, _, out, errOut := term.Test()
	code := app.Run(context.Background(), []string{"--repo", dir, "init", "--url", src}, app.Env{
		IO: io, Runner: process.OS{}, Getenv: func(string) string { return "" }, Cwd: dir,
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
}
