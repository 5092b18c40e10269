package clean

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/project"
)

func TestSafeToRemove(t *testing.T) {
	root := t.TempDir()
	p := &project.Project{Root: root, Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "buildroot-ipa"),
		Output: filepath.Join(root, "output"), DL: filepath.Join(root, "dl"), CCache: filepath.Join(root, "ccache")}
	built := filepath.Join(root, "output", "1700000000-AbCdEf")
	os.MkdirAll(filepath.Join(built, "build"), 0o755)
	stranger := filepath.Join(t.TempDir(), "photos")
	os.MkdirAll(stranger, 0o755)
	os.WriteFile(filepath.Join(stranger, "cat.jpg"), []byte("x"), 0o644)
	empty := filepath.Join(t.TempDir(), "empty")
	os.MkdirAll(empty, 0o755)

	for dir, ok := range map[string]bool{
		"/":                         false,
		root:                        false,
		filepath.Dir(root):          false, // contains the project
		p.Buildroot:                 false,
		p.External:                  false,
		p.DL:                        false,
		p.CCache:                    false,
		p.Overlay():                 false,
		p.Scripts():                 false,
		filepath.Join(root, ".git"): false,
		stranger:                    false, // not an output directory
		p.OutputRoot():              true,
		built:                       true,
		empty:                       true,
	} {
		err := SafeToRemove(p, dir)
		if (err == nil) != ok {
			t.Errorf("SafeToRemove(%s) = %v, want ok=%v", dir, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "refusing to remove") {
			t.Errorf("message %q", err)
		}
	}
}

func TestRemoveOutputKeepsReadmeAndUniqueOutputs(t *testing.T) {
	root := t.TempDir()
	p := &project.Project{Root: root, Output: filepath.Join(root, "output")}
	out := p.OutputRoot()
	for _, d := range []string{"build/busybox-1.37.0", "images", "1700000000-AbCdEf/images"} {
		os.MkdirAll(filepath.Join(out, d), 0o755)
	}
	for _, f := range []string{".config", "Makefile", "README.md", "build.log"} {
		os.WriteFile(filepath.Join(out, f), nil, 0o644)
	}
	if err := removeOutput(p, out); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(out)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != "1700000000-AbCdEf README.md" {
		t.Fatalf("left %v", left)
	}
}
