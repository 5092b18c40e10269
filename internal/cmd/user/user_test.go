package user

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

func testOptions(t *testing.T, name string) (*Options, *project.Project) {
	root := t.TempDir()
	p := &project.Project{Root: root, Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "buildroot-ipa"),
		Output: filepath.Join(root, "output")}
	ios, _, _, _ := term.Test()
	f := &cmdutil.Factory{IOStreams: ios, Runner: processtest.New(t), Now: time.Now, Context: context.Background(),
		Settings: func() (*config.Settings, error) { return &config.Settings{Project: p}, nil }}
	return &Options{Factory: f, Context: context.Background(), Name: name}, p
}

// Names testscript cannot pass: newlines and other control characters.
func TestAddRefusesControlCharacters(t *testing.T) {
	for _, name := range []string{"a\nb", "alice\n", "a\tb", "a b", "\x00"} {
		opts, p := testOptions(t, name)
		err := runAdd(opts)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "use lowercase letters") {
			t.Errorf("%q: err = %v", name, err)
		}
		if _, err := os.Stat(p.Scripts()); err == nil {
			t.Errorf("%q: scripts/ was created", name)
		}
	}
}
