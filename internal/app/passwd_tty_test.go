package app_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/image"
	"github.com/ipabr/ipabr/internal/testenv"
)

// passwdProject is a project whose buildroot/ is the fake Buildroot of
// testdata/script/passwd.txtar (utils/config and olddefconfig that record
// their calls) and whose output/ is configured.
func passwdProject(t *testing.T) string {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", "script", "passwd.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range ar.Files {
		files[f.Name] = f.Data
	}
	dir := t.TempDir()
	if err := testenv.MakeProject(dir, "679b9ead7620bbf193620d1ebf56f53c1764d37a", "https://example.invalid/buildroot.git"); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"buildroot/Makefile":     "fakebr/Makefile",
		"buildroot/utils/config": "fakebr/config",
		"output/.config":         "dotconfig",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, files[src], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// randomPassword is a fresh password for one test; it is never printed.
func randomPassword(t *testing.T) string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "pw-" + base64.RawURLEncoding.EncodeToString(b)
}

// ttySession runs ipabr passwd on a pseudo-terminal.
type ttySession struct {
	t      *testing.T
	cmd    *exec.Cmd
	ptmx   *os.File
	screen lockedBuffer
	secret string
}

func startPasswdTTY(t *testing.T, dir, secret string) *ttySession {
	t.Helper()
	s := &ttySession{t: t, secret: secret}
	s.cmd = exec.Command(ipabrExecutable(t), "--repo", dir, "passwd")
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), "IPABR_COLOR=never", "TERM=dumb")
	var err error
	if s.ptmx, err = pty.Start(s.cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ptmx.Close() })
	go func() { _, _ = copyAll(&s.screen, s.ptmx) }()
	return s
}

// shown is the screen with the secret replaced, safe to print.
func (s *ttySession) shown() string {
	return strings.ReplaceAll(s.screen.String(), s.secret, "<PASSWORD>")
}

func (s *ttySession) waitFor(what string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.screen.String(), what) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("never saw %q; screen:\n%s", what, s.shown())
}

func (s *ttySession) send(text string) {
	s.t.Helper()
	if _, err := s.ptmx.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}

// wait returns the exit code once ipabr has ended.
func (s *ttySession) wait() int {
	s.t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Fatalf("ipabr passwd did not end; screen:\n%s", s.shown())
		return -1
	}
}

// TestPasswdTerminal types the password twice on a real terminal: nothing
// is echoed, a mismatch or an empty password changes nothing, Ctrl-C exits
// 130, and a match stores a hash that verifies.
func TestPasswdTerminal(t *testing.T) {
	dir := passwdProject(t)
	cfgPath := filepath.Join(dir, "output", ".config")
	orig, _ := os.ReadFile(cfgPath)
	pw := randomPassword(t)

	s := startPasswdTTY(t, dir, pw)
	s.waitFor("New root password: ")
	s.send(pw + "\r")
	s.waitFor("Retype new root password: ")
	s.send(pw + "-other\r")
	if code := s.wait(); code != 2 {
		t.Fatalf("mismatch: exit %d, screen:\n%s", code, s.shown())
	}
	s.waitFor("error: the passwords do not match")
	if strings.Contains(s.screen.String(), pw) {
		t.Fatal("the password was echoed")
	}
	if now, _ := os.ReadFile(cfgPath); !bytes.Equal(now, orig) {
		t.Fatal("a mismatch changed .config")
	}

	s = startPasswdTTY(t, dir, pw)
	s.waitFor("New root password: ")
	s.send("\r")
	if code := s.wait(); code != 2 {
		t.Fatalf("empty: exit %d, screen:\n%s", code, s.shown())
	}
	s.waitFor("error: empty password refused")
	if strings.Contains(s.screen.String(), "Retype") {
		t.Fatalf("an empty password was asked again:\n%s", s.shown())
	}

	s = startPasswdTTY(t, dir, pw)
	s.waitFor("New root password: ")
	s.send("\x03") // Ctrl-C: SIGINT to the foreground process group
	if code := s.wait(); code != 130 {
		t.Fatalf("Ctrl-C: exit %d, screen:\n%s", code, s.shown())
	}
	if now, _ := os.ReadFile(cfgPath); !bytes.Equal(now, orig) {
		t.Fatal("an interrupted passwd changed .config")
	}

	s = startPasswdTTY(t, dir, pw)
	s.waitFor("New root password: ")
	s.send(pw + "\r")
	s.waitFor("Retype new root password: ")
	s.send(pw + "\r")
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d, screen:\n%s", code, s.shown())
	}
	s.waitFor("It takes effect at the next 'ipabr build'")
	screen := s.screen.String()
	if strings.Contains(screen, pw) {
		t.Fatal("the password was echoed or printed")
	}
	if !strings.Contains(screen, "BR2_TARGET_GENERIC_ROOT_PASSWD") || !strings.Contains(screen, "$6$…(hash)") {
		t.Fatalf("changes not shown:\n%s", s.shown())
	}
	cfg, err := buildroot.ReadConfigFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := image.UndoubleDollars(cfg.Values["BR2_TARGET_GENERIC_ROOT_PASSWD"])
	if err != nil {
		t.Fatalf("the hash in .config is not doubled: %v", err)
	}
	if strings.Contains(screen, hash) {
		t.Fatal("the hash was printed unmasked")
	}
	if ok, err := image.VerifyPassword([]byte(pw), hash); err != nil || !ok {
		t.Fatalf("the stored hash does not verify the typed password (%v)", err)
	}
	for _, f := range []string{"calls.log", "env.log"} {
		data, _ := os.ReadFile(filepath.Join(dir, "buildroot", f))
		if len(data) == 0 || bytes.Contains(data, []byte(pw)) {
			t.Fatalf("buildroot/%s is empty or holds the password", f)
		}
	}
}
