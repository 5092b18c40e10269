package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/project"
)

func TestEditConfigReportsChanges(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".config")
	before := "BR2_x86_64=y\n# BR2_TARGET_ENABLE_ROOT_LOGIN is not set\nBR2_TARGET_GENERIC_PASSWD_SHA512=y\nBR2_OLD=\"gone\"\n"
	after := "BR2_x86_64=y\nBR2_TARGET_ENABLE_ROOT_LOGIN=y\nBR2_TARGET_GENERIC_PASSWD_SHA512=y\nBR2_TARGET_GENERIC_ROOT_PASSWD=\"$$6$$s$$h\"\nBR2_PACKAGE_HOST_MKPASSWD=y\n"
	if err := os.WriteFile(cfg, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	stub := processtest.New(t)
	stub.Register("^/br/utils/config --file "+cfg+" ", nil)
	stub.Register(` olddefconfig$`, func(process.Cmd) error { return os.WriteFile(cfg, []byte(after), 0o644) }) // the new configuration
	w := &Workspace{Settings: &config.Settings{Project: &project.Project{Root: dir}}, Dir: dir, Runner: stub,
		Make: buildroot.Make{Buildroot: "/br", External: "/ext", Output: dir}}
	got, err := w.EditConfig(context.Background(), buildroot.Enable("BR2_TARGET_ENABLE_ROOT_LOGIN"))
	if err != nil {
		t.Fatal(err)
	}
	want := []buildroot.ConfigChange{
		{Symbol: "BR2_TARGET_ENABLE_ROOT_LOGIN", Old: "n", New: "y"},
		{Symbol: "BR2_TARGET_GENERIC_ROOT_PASSWD", New: `"$$6$$s$$h"`},
		{Symbol: "BR2_PACKAGE_HOST_MKPASSWD", New: "y"},
		{Symbol: "BR2_OLD", Old: `"gone"`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n%q\nwant:\n%q", got, want)
	}
	if cmds := stub.Commands(); len(cmds) != 2 || !strings.HasPrefix(cmds[0], "/br/utils/config --file "+cfg) || !strings.HasSuffix(cmds[1], "olddefconfig") {
		t.Fatalf("commands: %q", cmds)
	}

	// A failing tool: its error, nothing reported.
	boom := errors.New("boom")
	stub.Register("^/br/utils/config ", func(process.Cmd) error { return boom })
	if _, err := w.EditConfig(context.Background(), buildroot.Enable("BR2_X")); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

// Off Linux, every make-running command stops before make with the reason
// (exit 2), while the checkout is there.
func TestBuildrootNeedsLinux(t *testing.T) {
	dir := t.TempDir()
	br := filepath.Join(dir, "buildroot")
	if err := os.MkdirAll(br, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(br, "Makefile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &config.Settings{Project: &project.Project{Root: dir, Buildroot: br, Output: filepath.Join(dir, "output")}}
	if err := RequireBuildroot(s); err != nil {
		t.Fatalf("on linux: %v", err)
	}
	defer func(old string) { hostOS = old }(hostOS)
	hostOS = "darwin"
	_, err := Open(s, Options{Runner: processtest.New(t)})
	if !errs.Is(err, errs.NotConfigured) || !strings.Contains(err.Error(), "Buildroot builds only on Linux, and this is darwin") {
		t.Errorf("Open on darwin: %v", err)
	}
}
