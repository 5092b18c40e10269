package buildroot

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestImagesAndSumsMatchSha256sum(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bzImage"), []byte("kernel"), 0o644)
	os.WriteFile(filepath.Join(dir, "rootfs.cpio.xz"), []byte("initramfs"), 0o644)
	os.WriteFile(filepath.Join(dir, SumsFile), []byte("stale"), 0o644)
	os.Mkdir(filepath.Join(dir, "subdir"), 0o755)
	images, err := Images(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 2 || images[0].File != "bzImage" || images[0].Size != 6 {
		t.Fatalf("images = %+v", images)
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), []byte(SumsText(images)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "--check", "--strict", SumsFile)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum --check: %v\n%s", err, out)
		}
	}
}
