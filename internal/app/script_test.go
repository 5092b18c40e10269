package app_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ipabr/ipabr/internal/app"
	"github.com/ipabr/ipabr/internal/testenv"
)

func TestMain(m *testing.M) {
	testscript.Main(cleanupAfter{m}, map[string]func(){
		"ipabr": func() { os.Exit(app.Main()) },
	})
}

// cleanupAfter removes what the tests shared across the package (the
// upstream project) once every test has run.
type cleanupAfter struct{ m *testing.M }

func (c cleanupAfter) Run() int {
	code := c.m.Run()
	if upstream.dir != "" {
		os.RemoveAll(upstream.dir)
	}
	return code
}

// TestScripts runs the CLI scenarios in testdata/script against throwaway
// projects, a fake Buildroot repository and a real git smart-HTTP server on
// 127.0.0.1.
func TestScripts(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required for the hermetic tests")
	}
	source, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// The project's own tree, for scripts that need its real files
			// (the board's converters) in a throwaway project.
			env.Setenv("IPABR_SOURCE", source)
			home := filepath.Join(env.WorkDir, ".home")
			env.Setenv("HOME", home)
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("GIT_AUTHOR_NAME", "ipabr test")
			env.Setenv("GIT_AUTHOR_EMAIL", "test@ipabr.invalid")
			env.Setenv("GIT_COMMITTER_NAME", "ipabr test")
			env.Setenv("GIT_COMMITTER_EMAIL", "test@ipabr.invalid")
			env.Setenv("NO_COLOR", "")
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fakebuildroot": cmdFakeBuildroot,
			"mkproject":     cmdMkproject,
			"gitserve":      cmdGitserve,
			"gitrequests":   cmdGitrequests,
			"code":          cmdCode,
		},
	})
}

// fakebuildroot DIR: a fake Buildroot git repo; sets BR_OLD, BR_PIN, BR_TIP.
func cmdFakeBuildroot(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: fakebuildroot DIR")
	}
	c, err := testenv.MakeFakeBuildrootRepo(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Setenv("BR_OLD", c.Old)
	ts.Setenv("BR_PIN", c.Tagged)
	ts.Setenv("BR_TIP", c.Tip)
}

// mkproject DIR PIN [URL]: a project repo with the buildroot gitlink at PIN.
func cmdMkproject(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: mkproject DIR PIN [URL]")
	}
	url := "https://gitlab.com/buildroot.org/buildroot.git"
	if len(args) == 3 {
		url = args[2]
	}
	ts.Check(testenv.MakeProject(ts.MkAbs(args[0]), args[1], url))
}

// gitserve ROOT: serve the repositories under ROOT over smart HTTP on
// 127.0.0.1; sets GITURL.
func cmdGitserve(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: gitserve ROOT")
	}
	srv, err := testenv.StartGitServer(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("GITURL", srv.URL)
	servers.Store(ts, srv)
	ts.Defer(func() { servers.Delete(ts) })
}

// servers maps each running script to its git server.
var servers sync.Map

// gitrequests N: the server answered exactly N requests since the last check.
func cmdGitrequests(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := servers.Load(ts)
	if !ok || len(args) != 1 {
		ts.Fatalf("usage: gitrequests N (after gitserve)")
	}
	want, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	last, _ := strconv.ParseInt(ts.Getenv("GIT_REQUESTS_SEEN"), 10, 64)
	srv := v.(*testenv.GitServer)
	got := srv.Requests() - last
	ts.Setenv("GIT_REQUESTS_SEEN", fmt.Sprint(srv.Requests()))
	if (got == want) == neg {
		ts.Fatalf("git server answered %d requests, want %s%d", got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// code N PROG ARGS...: run PROG like exec and require exit status N, keeping
// stdout and stderr for the following assertions.
func cmdCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: code N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
