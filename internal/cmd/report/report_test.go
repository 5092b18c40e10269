package reportcmd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/report"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveFakeImage()
	os.Exit(code)
}

// built is a copy of the fake image build with the stand-in agent.
func built(t *testing.T) string {
	t.Helper()
	image := testenv.FakeImage(t)
	dir := filepath.Join(t.TempDir(), "output")
	if err := os.CopyFS(dir, os.DirFS(image)); err != nil {
		t.Fatal(err)
	}
	// The fake's image names its own path; a fixed size instead.
	if err := os.WriteFile(filepath.Join(dir, "images", "rootfs.cpio.xz"), make([]byte, 1234), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type env struct {
	opts     *Options
	rec      *processtest.Stub
	out, err func() string
}

func newEnv(t *testing.T, output string) *env {
	ios, _, stdout, stderr := term.Test()
	p := &project.Project{Root: filepath.Dir(output), Output: output}
	rec := processtest.New(t)
	f := &cmdutil.Factory{IOStreams: ios, Runner: rec, Now: func() time.Time { return time.Unix(1767225600, 0) }, Context: context.Background(),
		Settings: func() (*config.Settings, error) { return &config.Settings{Project: p}, nil },
		LookPath: func(name string) (string, error) { return "/usr/bin/" + name, nil }}
	return &env{opts: &Options{Factory: f, Context: context.Background()}, rec: rec, out: stdout.String, err: stderr.String}
}

func TestReportWritesPageAndSummary(t *testing.T) {
	out := built(t)
	e := newEnv(t, out)
	if err := runReport(e.opts); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "report", "index.html"))
	if err != nil || !strings.Contains(string(page), `<svg id="treemap"`) || !strings.Contains(string(page), "generated 2026-01-01T00:00:00Z") {
		t.Fatalf("page: %v\n%.300s", err, page)
	}
	for _, want := range []string{`(?m)^initramfs   1\.2 KiB \(rootfs.cpio.xz; budget 60 MB\)$`, `(?m)^rootfs      4\.5 MiB in 9 packages`,
		`(?m)^  python3 +1\.5 MiB$`, `(?m)^agent       ironic-python-agent 11\.1\.0 for OpenStack 2026\.1, 5 wheels$`, `(?m)^report: output/report/index.html$`} {
		if !regexp.MustCompile(want).MatchString(e.out()) {
			t.Errorf("summary lacks %s:\n%s", want, e.out())
		}
	}
	if len(e.rec.Calls()) != 0 {
		t.Errorf("ran %v without --open", e.rec.Commands())
	}

	e = newEnv(t, out)
	e.opts.JSON = true
	if err := runReport(e.opts); err != nil {
		t.Fatal(err)
	}
	var res struct {
		HTML   string `json:"html"`
		Rootfs struct {
			Packages []struct {
				Name  string                  `json:"name"`
				Parts []struct{ Name string } `json:"parts"`
			} `json:"packages"`
		} `json:"rootfs"`
		BuildTime struct {
			Packages []struct{ Steps []struct{ Step string } }
		} `json:"build_time"`
		IPA struct{ Series string } `json:"ipa"`
	}
	if err := json.Unmarshal([]byte(e.out()), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, e.out())
	}
	if res.HTML != filepath.Join(out, File) || res.Rootfs.Packages[1].Name != report.AgentPackage || len(res.Rootfs.Packages[1].Parts) != 6 ||
		len(res.BuildTime.Packages) != 9 || res.IPA.Series != "2026.1" {
		t.Errorf("--json: %+v", res)
	}
}

// --max-initramfs is the CI gate: over it, exit 1 naming the five biggest
// packages (also in the JSON); a bad size is bad input.
func TestReportSizeGate(t *testing.T) {
	out := built(t)
	e := newEnv(t, out)
	e.opts.MaxInitramfs = "60MB"
	if err := runReport(e.opts); err != nil {
		t.Fatalf("under the budget: %v", err)
	}

	e = newEnv(t, out)
	e.opts.MaxInitramfs, e.opts.JSON = "10B", true
	err := runReport(e.opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Fatalf("over the budget: %v", err)
	}
	want := "rootfs.cpio.xz is 1.2 KiB (1234 bytes), over --max-initramfs 10 bytes by 1.2 KiB; the biggest packages unpacked: python3 1.5 MiB, ironic-python-agent 1.0 MiB, linux 768.0 KiB, systemd 640.0 KiB, openssl 320.0 KiB"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	var res Result
	if err := json.Unmarshal([]byte(e.out()), &res); err != nil || !res.OverBudget || len(res.Top) != 5 || res.MaxInitramfs != 10 {
		t.Errorf("--json over budget: %v %+v", err, res)
	}

	e = newEnv(t, out)
	e.opts.MaxInitramfs = "sixty"
	if err := runReport(e.opts); cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), `--max-initramfs: "sixty" is not a size`) {
		t.Errorf("bad size: %v", err)
	}

	if err := os.Remove(filepath.Join(out, "images", "rootfs.cpio.xz")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, "images", "rootfs.cpio"))
	e = newEnv(t, out)
	e.opts.MaxInitramfs = "60MB"
	if err := runReport(e.opts); cmdutil.ExitCode(err) != cmdutil.ExitFailure || !strings.Contains(err.Error(), "no initramfs") {
		t.Errorf("no initramfs: %v", err)
	}
}

// --against: the other build's differences, biggest first.
func TestReportAgainst(t *testing.T) {
	out, other := built(t), built(t)
	// The other build had no systemd and a smaller python3.
	list := filepath.Join(other, report.FileListFile)
	data, _ := os.ReadFile(list)
	if err := os.WriteFile(list, regexp.MustCompile(`(?m)^systemd,.*\n`).ReplaceAll(data, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"usr/lib/fake/systemd.so", "usr/share/fake/systemd"} {
		os.Remove(filepath.Join(other, "target", f))
	}
	if err := os.WriteFile(filepath.Join(other, "target/usr/lib/fake/python3.so"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, out)
	e.opts.Against = other
	if err := runReport(e.opts); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^against     .*output: rootfs \+1\.1 MiB, initramfs \+0 B\n  systemd +\+640\.0 KiB added\n  python3 +\+512\.0 KiB \n`).MatchString(e.out()) {
		t.Errorf("summary:\n%s", e.out())
	}
	page, _ := os.ReadFile(filepath.Join(out, File))
	if !strings.Contains(string(page), `<svg id="sizediff"`) {
		t.Error("the page has no size difference chart")
	}

	e = newEnv(t, out)
	e.opts.Against = t.TempDir()
	if err := runReport(e.opts); cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "--against: ") || !strings.Contains(err.Error(), "run 'ipabr build' first") {
		t.Errorf("--against an empty directory: %v", err)
	}
}

func TestReportNotBuilt(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "output"))
	err := runReport(e.opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != "output has no finished build (no build/packages-file-list.txt): run 'ipabr build' first" {
		t.Errorf("err = %v", err)
	}
}

func TestReportOpen(t *testing.T) {
	out := built(t)
	e := newEnv(t, out)
	e.opts.Open = true
	e.rec.Register(`^/usr/bin/xdg-open `, nil)
	if err := runReport(e.opts); err != nil {
		t.Fatal(err)
	}
	if got := e.rec.Commands(); len(got) != 1 || got[0] != "/usr/bin/xdg-open "+filepath.Join(out, File) {
		t.Errorf("ran %q", got)
	}

	e = newEnv(t, out)
	e.opts.Open = true
	e.opts.Factory.LookPath = func(string) (string, error) { return "", errors.New("not found") }
	if err := runReport(e.opts); cmdutil.ExitCode(err) != cmdutil.ExitFailure || !strings.Contains(err.Error(), "--open: no xdg-open on PATH; open output/report/index.html in a browser") {
		t.Errorf("without xdg-open: %v", err)
	}
}
