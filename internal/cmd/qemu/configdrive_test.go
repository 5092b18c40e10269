package qemucmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/testenv"
)

// TestConfigDriveAttached: --config-drive makes a config-2 ISO with the
// file, QEMU gets it as a second CD-ROM, and the ISO is gone once QEMU is.
// The stand-in QEMU records its arguments and copies the ISO while it runs.
func TestConfigDriveAttached(t *testing.T) {
	xorriso := testenv.Program(t, "hermetic", "xorriso")
	e := newEnv(t)
	e.touch("bzImage", "rootfs.cpio.xz")
	dir := t.TempDir()
	fake := filepath.Join(dir, "qemu-system-x86_64")
	writeTestFile(t, fake, `#!/bin/sh
printf '%s\n' "$@" >`+dir+`/args
for a in "$@"; do
	case "$a" in *id=cfg0,*) cp "${a##*,file=}" `+dir+`/copy.iso ;; esac
done
echo "qemu-system-x86_64: fake exit" >&2
exit 1
`, 0o755)
	e.f.LookPath = func(name string) (string, error) {
		if name == "xorriso" {
			return xorriso, nil
		}
		return fake, nil
	}
	nd := filepath.Join(dir, "network_data.json")
	const data = `{"links": [{"id": "p0", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}]}` + "\n"
	writeTestFile(t, nd, data, 0o644)

	if code := e.run(context.Background(), "--config-drive", nd, "--port", fmt.Sprint(freePort(t))); code != 1 {
		t.Fatalf("exit %d, want 1 (QEMU exited 1)", code)
	}
	if !strings.Contains(e.errOut.String(), "Attaching a config drive (label config-2) with "+nd+" as openstack/latest/network_data.json.") {
		t.Errorf("no notice: %s", e.errOut)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	var iso string
	lines := strings.Split(string(args), "\n")
	for i, a := range lines {
		if strings.HasPrefix(a, "if=none,id=cfg0,media=cdrom,readonly=on,format=raw,file=") {
			iso = strings.TrimPrefix(a, "if=none,id=cfg0,media=cdrom,readonly=on,format=raw,file=")
			if lines[i-1] != "-drive" || lines[i+1] != "-device" || lines[i+2] != "ide-cd,drive=cfg0" {
				t.Errorf("drive arguments: %q", lines[i-1:i+3])
			}
		}
	}
	if iso == "" {
		t.Fatalf("no config drive in QEMU's arguments:\n%s", args)
	}
	testenv.CheckConfigDriveISO(t, filepath.Join(dir, "copy.iso"), data)
	if _, err := os.Stat(filepath.Dir(iso)); !os.IsNotExist(err) {
		t.Errorf("the config drive's directory %s is still there (%v)", filepath.Dir(iso), err)
	}

	// Usage errors: nothing to attach, or an ISO --print could not keep.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config-drive", filepath.Join(dir, "missing.json")}, "--config-drive " + filepath.Join(dir, "missing.json") + ": no such file"},
		{[]string{"--config-drive", nd, "--print"}, "--config-drive makes an ISO for the run only; it cannot be combined with --print"},
	} {
		if code := e.run(context.Background(), tc.args...); code != cmdutil.ExitUsage || !strings.Contains(e.errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, e.errOut)
		}
	}
	// Without xorriso or genisoimage: a failure that says what to install.
	e.f.LookPath = func(name string) (string, error) {
		if name == "xorriso" || name == "genisoimage" {
			return "", exec.ErrNotFound
		}
		return fake, nil
	}
	if code := e.run(context.Background(), "--config-drive", nd); code != 1 || !strings.Contains(e.errOut.String(), "apt-get install xorriso") {
		t.Errorf("no ISO tool: exit %d, stderr %q", code, e.errOut)
	}
}

func writeTestFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}
