package user

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

func testOptions(t *testing.T, name string) (*Options, *project.Project) {
	root := t.TempDir()
	p := &project.Project{Root: root, Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "buildroot-ipa"),
		Output: filepath.Join(root, "output")}
	ios, _, _, _ := term.Test()
	f := &cmdutil.Factory{IOStreams: ios, Runner: &process.Recorder{}, Now: time.Now, Context: context.Background(),
		Settings: func() (*cmdutil.Settings, error) { return &cmdutil.Settings{Project: p}, nil }}
	return &Options{Factory: f, Context: context.Background(), Name: name}, p
}

// Names testscript cannot pass: newlines and other control characters.
func TestAddRefusesControlCharacters(t *testing.T) {
	for _, name := range []string{"a\nb", "alice\n", "a\tb", "a b", "\x00"} {
		opts, p := testOptions(t, name)
		err := runAdd(opts)
		if cmdutil.Code(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "use lowercase letters") {
			t.Errorf("%q: err = %v", name, err)
		}
		if _, err := os.Stat(p.Scripts()); err == nil {
			t.Errorf("%q: scripts/ was created", name)
		}
	}
}

func TestTableRef(t *testing.T) {
	opts, p := testOptions(t, "x")
	s, _ := opts.Factory.Settings()
	if got := TableRef(s); got != "$(BR2_EXTERNAL_IPA_PATH)/../scripts/users.table" {
		t.Fatalf("TableRef = %q", got)
	}
	if !wired(s, "/other "+TableRef(s)) || !wired(s, filepath.Join(p.Root, "scripts", "users.table")) || wired(s, "/other") {
		t.Fatal("wired() does not resolve the table's names")
	}
	// An external tree elsewhere: the absolute path.
	p.External = "/elsewhere/buildroot-ipa"
	if got := TableRef(s); got != filepath.Join(p.Root, "scripts", "users.table") {
		t.Fatalf("TableRef with a moved external tree = %q", got)
	}
}
