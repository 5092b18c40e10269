package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// initWork is a package-level variable that does work when the program
// starts: compiling a regular expression or parsing a template.
var initWork = regexp.MustCompile(`(?m)^var \w+ = (regexp\.MustCompile|template\.Must)\(`)

// TestNothingWorksAtStartup: every command pays for what the ipabr binary
// links and initialises, `ipabr version` included (doc/architecture.md).
// No package of ipabr compiles or parses at start-up (lazyregexp,
// sync.OnceValue), and the binary does not link the reference generator.
func TestNothingWorksAtStartup(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \" \"}}", "../../cmd/ipabr").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			continue
		}
		path, dir, files := f[0], f[1], strings.Fields(f[2])
		for _, heavy := range []string{"github.com/spf13/cobra/doc", "github.com/russross/blackfriday", "github.com/cpuguy83/go-md2man"} {
			if strings.HasPrefix(path, heavy) {
				t.Errorf("the ipabr binary links %s (keep the reference generator in internal/app/reference)", path)
			}
		}
		if !strings.HasPrefix(path, "github.com/ipabr/ipabr/") {
			continue
		}
		for _, name := range files {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if m := initWork.Find(data); m != nil {
				t.Errorf("%s/%s works at start-up: %s (use lazyregexp.New or sync.OnceValue)", path, name, m)
			}
		}
	}
}

// TestLinkerDropsUnusedMethods: nothing in the ipabr binary executes a
// text/template or html/template (they reach reflect's MethodByName, and
// then the linker keeps every exported method of every type: 5 MB more
// binary to load, and more pages touched at each start). The report's page
// is written in Go for that reason.
func TestLinkerDropsUnusedMethods(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ipabr")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/ipabr")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && (f[2] == "reflect.Value.MethodByName" || f[2] == "reflect.Value.Method") {
			t.Errorf("the binary links %s: something executes a template", f[2])
		}
	}
}
