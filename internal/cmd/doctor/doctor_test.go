package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/term"
)

// host fakes a machine: programs on PATH with the version line they
// print. Each program doctor finds is asked its --version once, and the
// interpreter ipabr ipa lock runs its pip's.
func host(t *testing.T, missing []string, versions map[string]string) (*Options, *term.IOStreams) {
	io, _, _, _ := term.Test()
	gone := map[string]bool{}
	for _, m := range missing {
		gone[m] = true
	}
	stub := processtest.New(t)
	for _, req := range Requirements {
		for _, prog := range req.Programs {
			if gone[prog] {
				continue
			}
			line := "GNU " + prog + " 9.9.9"
			if v, ok := versions[prog]; ok {
				line = v
			}
			stub.Register("^"+regexp.QuoteMeta("/usr/bin/"+prog)+" --version$", func(c process.Cmd) error {
				fmt.Fprintln(c.Stdout, line)
				return nil
			})
			break
		}
	}
	stub.Register(` -m pip --version$`, func(c process.Cmd) error {
		// As pip and Python answer it.
		if gone["pip"] {
			fmt.Fprintln(c.Stderr, "/usr/bin/"+filepath.Base(c.Name)+": No module named pip")
			return errors.New("exit status 1")
		}
		line := "pip 23.0.1 from /usr/lib/python3/dist-packages/pip (python 3.11)"
		if v, ok := versions["pip"]; ok {
			line = v
		}
		fmt.Fprintln(c.Stdout, line)
		return nil
	})
	return &Options{
		IO:      io,
		Runner:  stub,
		Context: context.Background(),
		LookPath: func(p string) (string, error) {
			if gone[p] {
				return "", errors.New("not found")
			}
			return "/usr/bin/" + p, nil
		},
		FileExists: func(p string) bool { return !gone["ncurses"] && p == "/usr/include/ncurses.h" },
	}, io
}

func TestDoctorAllPresent(t *testing.T) {
	opts, io := host(t, nil, map[string]string{"git": "git version 2.39.5"})
	if err := runDoctor(opts); err != nil {
		t.Fatalf("runDoctor: %v", err)
	}
	out := io.Out.(interface{ String() string }).String()
	if !strings.Contains(out, "git              2.39.5") {
		t.Errorf("git version not shown:\n%s", out)
	}
	if strings.Contains(out, "apt-get") {
		t.Errorf("install command printed with nothing missing:\n%s", out)
	}
}

func TestDoctorMissingAndTooOld(t *testing.T) {
	opts, io := host(t, []string{"g++", "c++", "rsync", "qemu-system-x86_64", "ncurses"}, map[string]string{"git": "git version 1.9.1"})
	err := runDoctor(opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Fatalf("exit code %d, want 1 (err %v)", cmdutil.ExitCode(err), err)
	}
	if !strings.Contains(err.Error(), "3 required dependencies are missing or too old") {
		t.Errorf("error = %q", err)
	}
	out := io.Out.(interface{ String() string }).String()
	for _, want := range []string{
		"too old  git              1.9.1, need 2.0 or newer",
		"missing  rsync            required by Buildroot",
		"missing  qemu             optional, for ipabr qemu",
		"Debian/Ubuntu: sudo apt-get install g++ git libncurses-dev qemu-system-x86 rsync\n",
		"Fedora:        sudo dnf install gcc-c++ git ncurses-devel qemu-system-x86-core rsync\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDoctorPip: the pip of the interpreter `ipabr ipa lock` runs is
// shown; an old or missing one is not Buildroot's problem (exit 0), and
// the fix for an old one is a virtual environment, not the package
// manager's pip.
func TestDoctorPip(t *testing.T) {
	opts, io := host(t, nil, nil)
	if err := runDoctor(opts); err != nil {
		t.Fatal(err)
	}
	out := io.Out.(interface{ String() string }).String()
	if !strings.Contains(out, "pip              23.0.1 of python3\n") {
		t.Errorf("pip not shown:\n%s", out)
	}
	opts, io = host(t, nil, map[string]string{"pip": "pip 22.0.2 from /usr/lib/python3/dist-packages/pip (python 3.10)"})
	opts.Python = "/opt/py/bin/python3"
	if err := runDoctor(opts); err != nil {
		t.Fatalf("an old pip made doctor fail: %v", err)
	}
	out = io.Out.(interface{ String() string }).String()
	for _, want := range []string{
		"too old  pip              22.0.2 of /opt/py/bin/python3, need 22.2 or newer for ipabr ipa lock",
		"pip: a virtual environment with a current pip, named as ipa.python (doc/ipa.md): /opt/py/bin/python3 -m venv",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "apt-get") {
		t.Errorf("the package manager's pip offered for an old pip:\n%s", out)
	}
	opts, io = host(t, []string{"pip"}, nil)
	if err := runDoctor(opts); err != nil {
		t.Fatalf("a missing pip made doctor fail: %v", err)
	}
	out = io.Out.(interface{ String() string }).String()
	for _, want := range []string{"missing  pip              optional, for ipabr ipa lock (python3)", "sudo apt-get install python3-pip\n", "sudo dnf install python3-pip\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDoctorOptionalMissingStillSucceeds(t *testing.T) {
	opts, _ := host(t, []string{"qemu-system-x86_64"}, nil)
	if err := runDoctor(opts); err != nil {
		t.Fatalf("optional qemu missing made doctor fail: %v", err)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"3.81", "3.81", 0}, {"4.3", "3.81", 1}, {"3.8", "3.81", -1}, {"2.39.5", "2.0", 1}, {"1.9.1", "2.0", -1}} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestDoctorColourPerStream: 'ipabr doctor > report.txt' from a terminal
// writes no escape codes into the file; with stdout on the terminal the
// marks are coloured.
func TestDoctorColourPerStream(t *testing.T) {
	for _, stdoutTTY := range []bool{false, true} {
		opts, io := host(t, []string{"rsync"}, nil)
		io.SetTTY(true, stdoutTTY, true)
		if err := runDoctor(opts); err == nil {
			t.Fatal("runDoctor succeeded without rsync")
		}
		out := io.Out.(interface{ String() string }).String()
		if got := strings.Contains(out, "\x1b["); got != stdoutTTY {
			t.Errorf("stdout a terminal: %v; escape codes in the report: %v\n%q", stdoutTTY, got, out)
		}
	}
}

// TestDoctorJSON: --json lists every check with its status and keeps the
// exit code.
func TestDoctorJSON(t *testing.T) {
	opts, io := host(t, []string{"rsync"}, map[string]string{"git": "git version 1.9.1"})
	opts.JSON = true
	err := runDoctor(opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Fatalf("exit code %d, want 1 (err %v)", cmdutil.ExitCode(err), err)
	}
	var got []checked
	if err := json.Unmarshal(io.Out.(interface{ Bytes() []byte }).Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	status := map[string]string{}
	for _, c := range got {
		status[c.Name] = c.Status
	}
	if len(got) < len(Requirements) || status["rsync"] != "missing" || status["git"] != "too old" || status["make"] != "ok" {
		t.Errorf("checks: %+v", got)
	}
}
