package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CheckConfigDriveISO fails t unless iso is an ISO 9660 filesystem
// labelled config-2 whose openstack/latest/network_data.json holds want. It
// reads the image with xorriso (and blkid, when installed), not through a
// mount; it skips t without xorriso.
func CheckConfigDriveISO(t testing.TB, iso, want string) {
	t.Helper()
	if blkid, err := exec.LookPath("blkid"); err == nil {
		out, err := exec.Command(blkid, "-p", "-o", "export", iso).Output()
		if err != nil || !strings.Contains(string(out), "\nLABEL=config-2\n") || !strings.Contains(string(out), "\nTYPE=iso9660\n") {
			t.Errorf("blkid %s: %v\n%s", iso, err, out)
		}
	}
	xorriso := Program(t, "hermetic", "xorriso")
	dest := filepath.Join(t.TempDir(), "network_data.json")
	if out, err := exec.Command(xorriso, "-osirrox", "on", "-indev", iso, "-extract", "/openstack/latest/network_data.json", dest).CombinedOutput(); err != nil {
		t.Fatalf("xorriso -extract: %v\n%s", err, out)
	}
	got, err := os.ReadFile(dest)
	if err != nil || string(got) != want {
		t.Errorf("network_data.json on the config drive: %q, %v; want %q", got, err, want)
	}
}
