package buildroot_test

// What the Ironic Python Agent needs from the image:
// board/openstack/ipa/ipa-needs.py reads IPA's source and lists the programs
// it runs, the modules it loads, the file systems it mounts and the paths it
// uses. The hermetic test here runs it on a made-up package
// (testdata/ipa-needs/).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/testenv"
)

// needItem is one entry of ipa-needs.py's output.
type needItem struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Expr     string `json:"expr"`
	Use      string `json:"use"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Function string `json:"function"`
	Call     string `json:"call"`
	Via      string `json:"via"`
	Reason   string `json:"reason"`
}

// key is what the table matches: the name, or for a call the extractor
// could not work out, FILE:EXPRESSION.
func (i needItem) key() string {
	if i.Expr != "" {
		return "unresolved " + i.File + ":" + i.Expr
	}
	return i.Kind + " " + i.Name
}

type needsReport struct {
	Files       []string   `json:"files"`
	Programs    []needItem `json:"programs"`
	Modules     []needItem `json:"modules"`
	Filesystems []needItem `json:"filesystems"`
	Paths       []needItem `json:"paths"`
	Unresolved  []needItem `json:"unresolved"`
}

func (r *needsReport) all() []needItem {
	var out []needItem
	for _, list := range [][]needItem{r.Programs, r.Modules, r.Filesystems, r.Paths} {
		out = append(out, list...)
	}
	return append(out, r.Unresolved...)
}

// runIPANeeds runs the extractor with the host's Python on a source tree.
func runIPANeeds(t *testing.T, tier, source string, args ...string) *needsReport {
	t.Helper()
	python := testenv.Program(t, tier, "python3")
	argv := append([]string{filepath.Join(boardDir(t), "ipa-needs.py")}, args...)
	cmd := exec.Command(python, append(argv, source)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ipa-needs.py %s: %v\n%s", source, err, stderr.String())
	}
	var r needsReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("ipa-needs.py printed no JSON: %v\n%.2000s", err, stdout.String())
	}
	return &r
}

// ---------------------------------------------------------------------------
// The extractor on a made-up package.

// TestIPANeedsExtractor runs ipa-needs.py on testdata/ipa-needs/, where
// each construct it must read has one instance, and compares all it finds.
func TestIPANeedsExtractor(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "ipa-needs"))
	if err != nil {
		t.Fatal(err)
	}
	r := runIPANeeds(t, "hermetic", dir, "--package", "sample_agent")
	wantFiles := []string{
		"sample_agent/__init__.py", "sample_agent/extensions/__init__.py",
		"sample_agent/extensions/rescue.py", "sample_agent/hardware.py", "sample_agent/utils.py",
	}
	if strings.Join(r.Files, " ") != strings.Join(wantFiles, " ") {
		t.Errorf("files read: %q, want %q (tests/ skipped)", r.Files, wantFiles)
	}
	got := map[string]bool{}
	for _, i := range r.all() {
		s := fmt.Sprintf("%s %s:%d", i.key(), i.File, i.Line)
		if i.Use != "" {
			s += " " + i.Use
		}
		got[s] = true
	}
	const hw, ut = "sample_agent/hardware.py", "sample_agent/utils.py"
	want := []string{
		// utils.execute(*cmd) hands its arguments to processutils.execute:
		// its callers' arguments are read. So are try_execute's, which
		// hands them to execute, and output_of's, through a dict loop.
		"program modprobe " + hw + ":14", // try_execute('modprobe', module)
		"program modprobe " + hw + ":15", // modprobe -r: a program, no module
		"program df " + ut + ":23",
		"program cat " + ut + ":24",
		"program journalctl " + ut + ":31", // subprocess.check_call([...])
		"program mkswap " + ut + ":36",     // args = [...]; execute(*args)
		"program mkfs " + ut + ":38",
		// shell=True: /bin/sh and each command of the pipeline; what chroot
		// runs is the deployed image's.
		"program /bin/sh " + hw + ":22", "program ipmitool " + hw + ":22", "program awk " + hw + ":22",
		"program /bin/sh " + hw + ":28", "program chroot " + hw + ":28",
		"program /bin/sh " + hw + ":59", "program sync " + hw + ":59", "program echo " + hw + ":59", // os.system
		"program mount " + hw + ":30",
		"program env " + hw + ":33", "program qemu-img " + hw + ":33", // env VAR=x PROGRAM
		"program podman " + hw + ":19", "program docker " + hw + ":19", // self.RUNNERS
		"program reboot " + hw + ":45", // self.power('reboot') -> execute(command)
		"program sync sample_agent/extensions/rescue.py:5",
		"module ipmi_si " + hw + ":13", "module ipmi_devintf " + hw + ":13",
		"filesystem vfat " + hw + ":30",
		"path /etc/rescue/password " + hw + ":48 write", // open(PASSWORD_FILE, 'w')
		"path /run/sample-agent " + hw + ":50 mkdir",
		"path /etc/.rescued " + hw + ":51 check",
		"path /etc/sample-agent " + hw + ":54 mkdir", "path /etc/sample-agent.d " + hw + ":54 mkdir",
		"path /sys/firmware/efi/fw_platform_size " + hw + ":55 read", // os.path.join
		"path /var/lib/sample-agent/steps.yaml " + hw + ":9 other",   // named, not used
		// What it cannot work out, for a reviewer.
		"unresolved " + hw + ":CONF.container.runner " + hw + ":39",
		"unresolved " + hw + ":utils.execute " + hw + ":62", // handed on
		"unresolved " + hw + ":ext.execute " + hw + ":65",   // an object not followed
		"unresolved " + hw + ":program " + hw + ":69",       // nobody calls run_anything
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing: %s", w)
		}
		delete(got, w)
	}
	var extra []string
	for g := range got {
		extra = append(extra, g)
	}
	sort.Strings(extra)
	for _, e := range extra {
		t.Errorf("unexpected: %s", e)
	}
}
