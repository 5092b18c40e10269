package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStartup: every command pays for what the ipabr binary links and
// initialises, `ipabr version` included (doc/architecture.md).
func TestStartup(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ipabr")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/ipabr")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// No package of ipabr runs code when the program starts but prefault,
	// whose work that is: the runtime traces every package init that does
	// (GODEBUG=inittrace=1), and a package whose variables the compiler
	// lays out has none. Regular expressions compile on first use
	// (lazyregexp), tables are switches or slices, not maps. prefault runs
	// before the libraries' inits, which it speeds up.
	t.Run("no package of ipabr works at start-up", func(t *testing.T) {
		cmd := exec.Command(bin, "version")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var trace strings.Builder
		cmd.Stderr = &trace
		if err := cmd.Run(); err != nil {
			t.Fatalf("ipabr version: %v\n%s", err, trace.String())
		}
		var inits []string
		for _, line := range strings.Split(trace.String(), "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[0] == "init" {
				inits = append(inits, f[1])
			}
		}
		if !slices.Contains(inits, "runtime") {
			t.Fatalf("no init trace: this Go does not honour GODEBUG=inittrace=1\n%s", trace.String())
		}
		const prefault = "github.com/ipabr/ipabr/internal/prefault"
		at := slices.Index(inits, prefault)
		for i, pkg := range inits {
			switch {
			case strings.HasPrefix(pkg, "github.com/ipabr/ipabr/") && pkg != prefault:
				t.Errorf("works at start-up: %s (use lazyregexp.New, a switch for a table, sync.OnceValue for the rest)", pkg)
			case strings.HasPrefix(pkg, "github.com/go-git/") && (at < 0 || at > i):
				t.Errorf("prefault initialised at %d, after %s at %d", at, pkg, i)
			}
		}
	})

	// Nothing in the binary executes a text/template or html/template
	// (they reach reflect's MethodByName, and then the linker keeps every
	// exported method of every type: 5 MB more binary to load, and more
	// pages touched at each start). The report's page is written in Go for
	// that reason. The reference generator stays out of the binary.
	t.Run("the linker drops what ipabr does not call", func(t *testing.T) {
		out, err := exec.Command("go", "tool", "nm", bin).Output()
		if err != nil {
			t.Fatalf("go tool nm: %v", err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			if f[2] == "reflect.Value.MethodByName" || f[2] == "reflect.Value.Method" {
				t.Errorf("the binary links %s: something executes a template", f[2])
			}
			for _, heavy := range []string{"github.com/spf13/cobra/doc.", "github.com/russross/blackfriday", "github.com/cpuguy83/go-md2man"} {
				if strings.HasPrefix(f[2], heavy) {
					t.Errorf("the binary links %s (keep the reference generator in internal/app/reference)", f[2])
					break
				}
			}
		}
	})
}
