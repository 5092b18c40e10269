package workspace

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
)

// scratch is a project whose "Buildroot" is one Makefile with the recipe
// given for the default goal, run by real make.
func scratch(t *testing.T, recipe string) (*Workspace, *term.IOStreams) {
	t.Helper()
	testenv.Program(t, "hermetic", "make")
	root := t.TempDir()
	p := &project.Project{Root: root, Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "buildroot-ipa"),
		Output: filepath.Join(root, "output"), DL: filepath.Join(root, "dl"), CCache: filepath.Join(root, "ccache")}
	if err := os.MkdirAll(p.Buildroot, 0o755); err != nil {
		t.Fatal(err)
	}
	mk := "all:\n" + recipe + "\nshow-info:\n\t@echo '{}'\n"
	if err := os.WriteFile(filepath.Join(p.Buildroot, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	io, _, _, _ := term.Test()
	w, err := Open(&config.Settings{Project: p}, Options{Runner: process.OS{GraceTime: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w, io
}

// display is the build display the commands use, on the test's streams.
func display(io *term.IOStreams) BuildObserver {
	return term.NewBuildDisplay(term.Notifier{IO: io}, time.Now)
}

func errText(io *term.IOStreams) string { return io.ErrOut.(interface{ String() string }).String() }

// make killed by SIGKILL (what the OOM killer sends) is reported as such,
// not as an ordinary failure, with what to do next.
func TestRunReportsSignalKilledMake(t *testing.T) {
	w, io := scratch(t, "\t@echo '>>> busybox 1.37.0 Building'\n\t@kill -KILL $$PPID")
	res, err := w.Build(context.Background(), nil, display(io))
	if err == nil {
		t.Fatal("a killed make succeeded")
	}
	if errs.KindOf(err) != errs.Failed {
		t.Errorf("kind %v", errs.KindOf(err))
	}
	msg := err.Error()
	for _, want := range []string{"make was killed by signal 9 (killed)", "OOM killer", "'dmesg'", "rerun to continue", "see output/build.log"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if res == nil || res.Status != "failed" || res.Package != "busybox" || res.Step != "Building" {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(errText(io), "build failed in busybox 1.37.0 (Building)") {
		t.Errorf("stderr:\n%s", errText(io))
	}
}

// A build that filled the disk says so, with the space free now.
func TestRunReportsFullDisk(t *testing.T) {
	w, io := scratch(t, "\t@echo '>>> linux 6.18.33 Extracting'\n\t@echo 'tar: linux-6.18.33/drivers/gpu/x.c: Cannot write: No space left on device' >&2\n\t@exit 2")
	_, err := w.Build(context.Background(), nil, display(io))
	if err == nil {
		t.Fatal("the build succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"the disk filled up during linux 6.18.33 (Extracting) (No space left on device)", "is free now on the filesystem of output", "rerun to continue"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// Under 20 GiB free on the output or dl filesystem: one warning per
// filesystem before make starts, also in the --json result.
func TestRunWarnsOnLowDiskSpace(t *testing.T) {
	w, io := scratch(t, "\t@echo ok")
	old := fsInfo
	defer func() { fsInfo = old }()
	free := map[string]uint64{}
	fsInfo = func(path string) (uint64, uint64, error) {
		if strings.HasPrefix(path, w.Settings.Project.DL) {
			return free["dl"], 2, nil
		}
		return free["out"], 1, nil
	}

	free["out"], free["dl"] = 100<<30, 100<<30
	res, err := w.Build(context.Background(), nil, display(io))
	if err != nil || len(res.Warnings) != 0 {
		t.Fatalf("plenty of space: %v %v", res.Warnings, err)
	}

	free["out"], free["dl"] = 5<<30, 19<<30
	res, err = w.Build(context.Background(), nil, display(io))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "only 5.0 GiB free on the filesystem of output;") ||
		!strings.Contains(res.Warnings[1], "free on the filesystem of dl;") {
		t.Errorf("warnings %q", res.Warnings)
	}
	if !strings.Contains(errText(io), "warning: only 5.0 GiB free on the filesystem of output; a full IPA build needs about 20 GiB") {
		t.Errorf("stderr:\n%s", errText(io))
	}

	// One filesystem for both: one warning naming both.
	fsInfo = func(string) (uint64, uint64, error) { return 1 << 30, 7, nil }
	res, _ = w.Build(context.Background(), nil, display(io))
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "filesystem of output and dl;") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// The real statfs: the nearest existing parent of a missing directory.
func TestFsInfoWalksUp(t *testing.T) {
	dir := t.TempDir()
	free, dev, err := fsInfo(filepath.Join(dir, "not", "yet"))
	if err != nil || free == 0 || dev == 0 {
		t.Fatalf("fsInfo = %d, %d, %v", free, dev, err)
	}
}
