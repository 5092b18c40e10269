package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/process"
)

func TestOutputEditConfigReportsChanges(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".config")
	before := "BR2_x86_64=y\n# BR2_TARGET_ENABLE_ROOT_LOGIN is not set\nBR2_TARGET_GENERIC_PASSWD_SHA512=y\nBR2_OLD=\"gone\"\n"
	after := "BR2_x86_64=y\nBR2_TARGET_ENABLE_ROOT_LOGIN=y\nBR2_TARGET_GENERIC_PASSWD_SHA512=y\nBR2_TARGET_GENERIC_ROOT_PASSWD=\"$$6$$s$$h\"\nBR2_PACKAGE_HOST_MKPASSWD=y\n"
	if err := os.WriteFile(cfg, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &process.Recorder{Handler: func(c process.Cmd) error {
		if c.Name == "make" { // olddefconfig: the new configuration
			return os.WriteFile(cfg, []byte(after), 0o644)
		}
		return nil
	}}
	o := &Output{Dir: dir, Make: buildroot.Make{Buildroot: "/br", External: "/ext", Output: dir}}
	got, err := o.EditConfig(context.Background(), rec, buildroot.Enable("BR2_TARGET_ENABLE_ROOT_LOGIN"))
	if err != nil {
		t.Fatal(err)
	}
	want := []ConfigChange{
		{"BR2_TARGET_ENABLE_ROOT_LOGIN", "n", "y"},
		{"BR2_TARGET_GENERIC_ROOT_PASSWD", "", `"$$6$$s$$h"`},
		{"BR2_PACKAGE_HOST_MKPASSWD", "", "y"},
		{"BR2_OLD", `"gone"`, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n%q\nwant:\n%q", got, want)
	}
	if cmds := rec.Commands(); len(cmds) != 2 || !strings.HasPrefix(cmds[0], "/br/utils/config --file "+cfg) || !strings.HasSuffix(cmds[1], "olddefconfig") {
		t.Fatalf("commands: %q", cmds)
	}

	// A failing tool: its error, nothing reported.
	boom := errors.New("boom")
	rec.Handler = func(process.Cmd) error { return boom }
	if _, err := o.EditConfig(context.Background(), rec, buildroot.Enable("BR2_X")); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

func TestDiffConfigNil(t *testing.T) {
	c, _ := buildroot.ParseConfig(strings.NewReader("BR2_A=y\n"))
	if got := DiffConfig(nil, c); len(got) != 1 || got[0] != (ConfigChange{"BR2_A", "", "y"}) {
		t.Fatalf("DiffConfig(nil, c) = %q", got)
	}
	if got := DiffConfig(c, c); len(got) != 0 {
		t.Fatalf("DiffConfig(c, c) = %q", got)
	}
}

func TestPrintConfigChangesMasksSecrets(t *testing.T) {
	var b strings.Builder
	PrintConfigChanges(&b, "output/.config", []ConfigChange{
		{"BR2_TARGET_ENABLE_ROOT_LOGIN", "n", "y"},
		{"BR2_TARGET_GENERIC_ROOT_PASSWD", `""`, `"$$6$$saltsaltsaltsalt$$hashhash"`},
		{"BR2_ROOTFS_USERS_TABLES", "", `"/p/scripts/users.table"`},
	})
	want := `output/.config:
  BR2_TARGET_ENABLE_ROOT_LOGIN    n → y
  BR2_TARGET_GENERIC_ROOT_PASSWD  "" → $6$…(hash)
  BR2_ROOTFS_USERS_TABLES         (unset) → "/p/scripts/users.table"
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	for v, want := range map[string]string{
		`"$5$abc$def"`: "$5$…(hash)", `"hunter2"`: "…(plain text)", "": "(unset)", `"$$1$$x$$y"`: "$1$…(hash)",
	} {
		if got := MaskConfigValue("BR2_TARGET_GENERIC_ROOT_PASSWD", v); got != want {
			t.Errorf("MaskConfigValue(%q) = %q, want %q", v, got, want)
		}
	}
	b.Reset()
	PrintConfigChanges(&b, "o/.config", nil)
	if b.String() != "o/.config: no change\n" {
		t.Errorf("no changes: %q", b.String())
	}
}

func TestClassify(t *testing.T) {
	bad := errors.New("bad input")
	if Classify(nil, bad) != nil {
		t.Fatal("nil became an error")
	}
	if c := Code(Classify(fmt.Errorf("line 3: %w", bad), bad)); c != ExitUsage {
		t.Errorf("bad input: exit %d", c)
	}
	if c := Code(Classify(UsageError("x"), bad)); c != ExitUsage {
		t.Errorf("an ExitError lost its code: %d", c)
	}
	err := Classify(fmt.Errorf("wrapped: %w", context.Canceled), bad)
	if Code(err) != ExitFailure || !errors.Is(err, context.Canceled) {
		t.Errorf("other errors: exit %d, still Canceled: %v", Code(err), errors.Is(err, context.Canceled))
	}
}
