package passwd

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

const testPassword = "unit-test-only-password"

// env is a project with a configured output; the runner plays utils/config
// (applying the edits to .config) and olddefconfig (doing nothing).
type env struct {
	opts   *Options
	stub   *processtest.Stub
	cfg    string
	stderr func() string
	stdout func() string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	p := &project.Project{Root: root, Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "buildroot-ipa"),
		Output: filepath.Join(root, "output"), DL: filepath.Join(root, "dl"), CCache: filepath.Join(root, "ccache")}
	for _, d := range []string{p.Buildroot, p.Output} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(p.Buildroot, "Makefile"), nil, 0o644)
	e := &env{cfg: filepath.Join(p.Output, ".config")}
	os.WriteFile(e.cfg, []byte("BR2_x86_64=y\n# BR2_TARGET_ENABLE_ROOT_LOGIN is not set\n"), 0o644)
	e.stub = processtest.New(t)
	ios, _, out, errOut := term.Test()
	e.stdout, e.stderr = out.String, errOut.String
	f := &cmdutil.Factory{IOStreams: ios, Runner: e.stub, Now: time.Now, Context: context.Background(),
		Settings: func() (*config.Settings, error) { return &config.Settings{Project: p}, nil }}
	e.opts = &Options{Factory: f, Context: context.Background()}
	return e
}

// expectEdit expects utils/config, applying the edits to .config, then
// olddefconfig, doing nothing.
func (e *env) expectEdit() {
	e.stub.Register(`/utils/config --file `, e.utilsConfig)
	e.stub.Register(` olddefconfig$`, nil)
}

func (e *env) utilsConfig(c process.Cmd) error {
	{
		var lines []string
		a := c.Args[3:] // --file F --keep-case
		for len(a) > 0 {
			switch a[0] {
			case "--enable":
				lines, a = append(lines, a[1]+"=y"), a[2:]
			case "--disable":
				lines, a = append(lines, "# "+a[1]+" is not set"), a[2:]
			case "--set-str":
				lines, a = append(lines, a[1]+`="`+a[2]+`"`), a[3:]
			default:
				return errors.New("unexpected " + a[0])
			}
		}
		return os.WriteFile(e.cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	}
}

// typed answers the prompts in turn.
func typed(answers ...string) func(context.Context, string) ([]byte, error) {
	return func(_ context.Context, prompt string) ([]byte, error) {
		if len(answers) == 0 {
			return nil, errors.New("unexpected prompt " + prompt)
		}
		a := answers[0]
		answers = answers[1:]
		return []byte(a), nil
	}
}

var fullHash = regexp.MustCompile(`\$\$?6\$\$?[./0-9A-Za-z]{16}\$\$?[./0-9A-Za-z]{86}`)

func TestTerminalPasswordTwice(t *testing.T) {
	e := newEnv(t)
	e.opts.Factory.IOStreams.SetTTY(true, true, true)
	e.opts.ReadSecret = typed(testPassword, testPassword)
	e.expectEdit()
	if err := runPasswd(e.opts); err != nil {
		t.Fatal(err)
	}
	cmds := e.stub.Commands()
	if len(cmds) != 2 || !strings.Contains(cmds[0], "--set-str BR2_TARGET_GENERIC_ROOT_PASSWD '$$6$$") || !strings.HasSuffix(cmds[1], " olddefconfig") {
		t.Fatalf("commands: %q", cmds)
	}
	for _, c := range e.stub.Calls() {
		if strings.Contains(strings.Join(append(c.Args, c.Env...), " "), testPassword) {
			t.Fatalf("the password is in a child's arguments or environment: %s", c.Name)
		}
	}
	data, _ := os.ReadFile(e.cfg)
	m := regexp.MustCompile(`BR2_TARGET_GENERIC_ROOT_PASSWD="([^"]*)"`).FindSubmatch(data)
	if m == nil {
		t.Fatalf(".config:\n%s", data)
	}
	hash, err := image.UndoubleDollars(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := image.VerifyPassword([]byte(testPassword), hash); !ok || err != nil {
		t.Fatalf("the hash does not verify (%v)", err)
	}
	if fullHash.MatchString(e.stdout()+e.stderr()) || strings.Contains(e.stdout()+e.stderr(), testPassword) {
		t.Fatalf("output shows a secret:\n%s%s", e.stdout(), e.stderr())
	}
}

func TestTerminalBadInput(t *testing.T) {
	for name, answers := range map[string][]string{
		"mismatch": {testPassword, testPassword + "x"},
		"empty":    {""},
		"nul":      {"a\x00b"},
	} {
		e := newEnv(t)
		e.opts.Factory.IOStreams.SetTTY(true, true, true)
		e.opts.ReadSecret = typed(answers...)
		err := runPasswd(e.opts)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("%s: err = %v (exit %d), want exit 2", name, err, cmdutil.ExitCode(err))
		}
		if len(e.stub.Calls()) != 0 {
			t.Errorf("%s: ran %q", name, e.stub.Commands())
		}
	}
	// End of input at the prompt (Ctrl-D).
	e := newEnv(t)
	e.opts.Factory.IOStreams.SetTTY(true, true, true)
	e.opts.ReadSecret = func(context.Context, string) ([]byte, error) { return nil, io.EOF }
	if err := runPasswd(e.opts); cmdutil.ExitCode(err) != cmdutil.ExitUsage || !errors.Is(err, image.ErrNoPassword) {
		t.Fatalf("end of input: err = %v", err)
	}
}

// A failing utils/config reports its command line; the hash in it is masked
// in the message and in the -v detail.
func TestFailureMasksHash(t *testing.T) {
	e := newEnv(t)
	e.opts.Stdin = true
	e.opts.Factory.IOStreams.In = strings.NewReader(testPassword + "\n")
	e.stub.Register(`/utils/config --file `, func(c process.Cmd) error {
		return &process.Error{Cmd: c.String(), Err: &exec.ExitError{}, Stderr: "sed: boom " + strings.Join(c.Args, " ")}
	})
	err := runPasswd(e.opts)
	if err == nil || cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Fatalf("err = %v", err)
	}
	all := err.Error() + "\n" + errs.DetailOf(err)
	if fullHash.MatchString(all) || strings.Contains(all, testPassword) {
		t.Fatalf("the error shows a secret: %s", all)
	}
	if !strings.Contains(all, "$6$…(hash)") {
		t.Fatalf("the error lacks the masked hash: %s", all)
	}
}

func TestNotATerminal(t *testing.T) {
	e := newEnv(t)
	err := runPasswd(e.opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "--stdin") {
		t.Fatalf("err = %v", err)
	}
}
