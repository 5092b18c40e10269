package report_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/report"
	"github.com/ipabr/ipabr/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveFakeImage()
	os.Exit(code)
}

// The fixture build's report: packages by size, the agent split by its
// wheels, build times per step, the manifest, the images.
func TestReportOfFixtureBuild(t *testing.T) {
	r, err := report.Build(testenv.FakeImage(t))
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Rootfs.Packages[0]; p.Name != "python3" || p.Size != 1536<<10+int64(len("python3 3.14.5\n")) {
		t.Errorf("biggest package %+v", p)
	}
	var agent *report.PackageSize
	for i, p := range r.Rootfs.Packages {
		if p.Name == report.AgentPackage {
			agent = &r.Rootfs.Packages[i]
		}
	}
	if agent == nil {
		t.Fatalf("no %s in %+v", report.AgentPackage, r.Rootfs.Packages)
	}
	var sum int64
	names := map[string]bool{}
	for _, p := range agent.Parts {
		sum += p.Size
		names[p.Name] = true
	}
	if sum != agent.Size || agent.Parts[0].Name != "cryptography" || !names["oslo.config"] || !names[report.OtherPart] {
		t.Errorf("agent %d bytes, parts %+v", agent.Size, agent.Parts)
	}
	for _, w := range agent.Parts {
		// ironic-python-agent: agent.py, agent.pyc (claimed through .py), hardware.py, __init__.py, the script, METADATA, RECORD
		if w.Name == "ironic-python-agent" && w.Files != 7 {
			t.Errorf("ironic-python-agent wheel: %+v", w)
		}
	}
	if r.IPA == nil || r.IPA.Series != "2026.1" || r.IPA.AgentVersion() != "11.1.0" || len(r.IPA.Packages) != len(testenv.FakeImageWheels) {
		t.Errorf("manifest %+v", r.IPA)
	}
	if r.Images.Initramfs == nil || r.Images.Initramfs.File != "rootfs.cpio.xz" || r.Images.Kernel == nil || r.Images.Kernel.File != "bzImage" {
		t.Errorf("images %+v", r.Images)
	}
	if len(r.BuildTime.Packages) != len(strings.Fields(testenv.FakeImagePackages))-1 || r.BuildTime.TotalSeconds <= 0 { // all but rootfs-cpio
		t.Errorf("build time %+v", r.BuildTime)
	}
}

// chromium runs Debian's chromium headless on page with args, with its
// console messages on stderr.
func chromium(t *testing.T, page string, args ...string) (stdout, stderr string) {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		testenv.Skip(t, "chromium", "no chromium on PATH (apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, append(args, "file://"+page)...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, errOut.String())
	}
	return out.String(), errOut.String()
}

// consoleErrors are the page's uncaught errors and console.error lines in
// chromium's log.
var consoleErrors = regexp.MustCompile(`(?m)^.*(:CONSOLE\(\d+\)\] "(Uncaught|Error|TypeError|ReferenceError|SyntaxError).*|Uncaught .*)$`)

// The fixture's report in a real browser: no console errors, the script
// ran, the treemap shows the biggest package and the agent's wheels, and
// the screenshot is a picture of it (kept in IPABR_TEST_SCREENSHOT_DIR
// when that is set).
func TestReportInChromium(t *testing.T) {
	r, err := report.Build(testenv.FakeImage(t))
	if err != nil {
		t.Fatal(err)
	}
	r.Against = report.Compare(r, r)
	dir := t.TempDir()
	page := filepath.Join(dir, "index.html")
	var b bytes.Buffer
	if err := report.Render(&b, r, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	// The check finds errors where there are some.
	broken := filepath.Join(dir, "broken.html")
	if err := os.WriteFile(broken, []byte("<!DOCTYPE html><script>nosuchfunction();</script>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs := chromium(t, broken, "--dump-dom"); !consoleErrors.MatchString(errs) {
		t.Fatalf("a page calling an undefined function showed no console error:\n%s", errs)
	}

	dom, errs := chromium(t, page, "--dump-dom")
	if m := consoleErrors.FindAllString(errs, -1); len(m) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(m, "\n"))
	}
	if !strings.Contains(dom, `title="sort by this column"`) {
		t.Error("the page's script did not run")
	}
	start := strings.Index(dom, `<svg id="treemap"`)
	end := strings.Index(dom[max(start, 0):], "</svg>")
	if start < 0 || end < 0 {
		t.Fatalf("no treemap in the rendered page:\n%.2000s", dom)
	}
	treemap := dom[start : start+end]
	biggest := r.Rootfs.Packages[0].Name
	for _, want := range []string{">" + biggest + "<", ">cryptography<", report.AgentPackage + " "} {
		if !strings.Contains(treemap, want) {
			t.Errorf("the rendered treemap lacks %q", want)
		}
	}

	shot := filepath.Join(dir, "report.png")
	chromium(t, page, "--window-size=1200,2400", "--screenshot="+shot)
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	if keep := os.Getenv("IPABR_TEST_SCREENSHOT_DIR"); keep != "" {
		if err := os.WriteFile(filepath.Join(keep, "report.png"), png, 0o644); err != nil {
			t.Error(err)
		}
		fmt.Printf("screenshot of the fixture's report: %s\n", filepath.Join(keep, "report.png"))
	}
}
