package image

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/testenv"
)

// buildTree makes files under root: path → mode (dirs end in /); content
// "KEY" writes a private key, "LINK:target" a symbolic link, "FIFO" a FIFO.
func buildTree(t *testing.T, root string, files map[string]string, modes map[string]fs.FileMode) {
	t.Helper()
	privKey := pemPrivate(t, newEd25519(t, "host"))["openssh"]
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case content == "KEY":
			err = os.WriteFile(full, []byte("# host key\n"+privKey), 0o600)
		case strings.HasPrefix(content, "LINK:"):
			err = os.Symlink(strings.TrimPrefix(content, "LINK:"), full)
		case content == "FIFO":
			err = syscall.Mkfifo(full, 0o644)
		default:
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for p, m := range modes { // after creation: umask-free
		if err := os.Chmod(filepath.Join(root, filepath.FromSlash(p)), m); err != nil {
			t.Fatal(err)
		}
	}
}

var testOverlay = map[string]string{
	"etc/motd":                       "hello\n",
	"etc/motd~":                      "old hello\n",
	"etc/#motd#":                     "emacs autosave: copied",
	"etc/.empty":                     "",
	".git/config":                    "[core]\n",
	"sub/.hg/x":                      "",
	"sub/CVS/Root":                   "",
	"sub/.svn/x":                     "",
	"sub/.bzr/x":                     "",
	"sub/.git":                       "gitdir: elsewhere\n", // a .git file is skipped too
	"backup~/inside":                 "a directory ending in ~ is skipped whole",
	"open/":                          "",
	"open/file":                      "x",
	"etc/shared":                     "x",
	"etc/ssh/ssh_host_ed25519_key":   "KEY",
	"etc/ssh/ssh_host_rsa_key":       "KEY",
	"etc/ssh/ssh_host_ecdsa_key.pub": "ecdsa-sha2-nistp256 AAAA host\n",
	"etc/ssh/sshd_config":            "# no Include line\nPermitRootLogin yes\n",
	"usr/lib/systemd/system/ironic-python-agent.service":      "[Service]\n",
	"etc/systemd/system/ironic-python-agent.service":          "[Service]\n",
	"etc/systemd/system/ironic-python-agent.service.d/x.conf": "[Service]\n",
	"etc/systemd/network/10-mine.network":                     "[Match]\n",
	"etc/systemd/network/README":                              "not a .network file",
	"etc/localtime":                                           "LINK:/usr/share/zoneinfo/UTC",
	"run/fifo":                                                "FIFO",
	"root/.ssh/authorized_keys":                               "ssh-ed25519 AAAA x\n",
}

var testModes = map[string]fs.FileMode{
	"open":                         0o777,
	"etc/shared":                   0o666,
	"etc/ssh/ssh_host_ed25519_key": 0o644,
	"etc/ssh/ssh_host_rsa_key":     0o600,
}

func TestCheckOverlay(t *testing.T) {
	overlay := t.TempDir()
	buildTree(t, overlay, testOverlay, testModes)
	rep, err := CheckOverlay(overlay, nil)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range rep.Files {
		files = append(files, f.Path)
	}
	wantFiles := []string{
		"etc/#motd#", "etc/localtime", "etc/motd", "etc/shared",
		"etc/ssh/ssh_host_ecdsa_key.pub", "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_rsa_key", "etc/ssh/sshd_config",
		"etc/systemd/network/10-mine.network", "etc/systemd/network/README",
		"etc/systemd/system/ironic-python-agent.service",
		"etc/systemd/system/ironic-python-agent.service.d/x.conf",
		"open/file", "root/.ssh/authorized_keys", "run/fifo",
		"usr/lib/systemd/system/ironic-python-agent.service",
	}
	if !slices.Equal(files, wantFiles) {
		t.Errorf("Files:\n%q\nwant:\n%q", files, wantFiles)
	}
	wantSkipped := []string{".git", "backup~", "etc/.empty", "etc/motd~", "sub/.bzr", "sub/.git", "sub/.hg", "sub/.svn", "sub/CVS"}
	if !slices.Equal(rep.Skipped, wantSkipped) {
		t.Errorf("Skipped:\n%q\nwant:\n%q", rep.Skipped, wantSkipped)
	}
	var findings []string
	for _, f := range rep.Findings {
		findings = append(findings, fmt.Sprintf("%s %s %s", f.Severity, f.Kind, f.Path))
	}
	wantFindings := []string{
		"info editor-backup backup~",
		"info editor-backup etc/motd~",
		"warning world-writable etc/shared",
		"warning private-key-mode etc/ssh/ssh_host_ed25519_key",
		"warning sshd-no-include etc/ssh/sshd_config",
		"warning shadows-board etc/systemd/network/10-mine.network",
		"warning shadows-board etc/systemd/system/ironic-python-agent.service",
		"warning world-writable open",
		"warning special-file run/fifo",
		"warning shadows-board usr/lib/systemd/system/ironic-python-agent.service",
	}
	if !slices.Equal(findings, wantFindings) {
		t.Errorf("Findings:\n%s\nwant:\n%s", strings.Join(findings, "\n"), strings.Join(wantFindings, "\n"))
	}
	if rep.Warnings() != 8 {
		t.Errorf("Warnings() = %d, want 8", rep.Warnings())
	}
	for _, f := range rep.Findings {
		switch f.Kind {
		case FindingEditorBackup:
			if f.Message != "editor backup, skipped by Buildroot" {
				t.Errorf("backup message %q", f.Message)
			}
		case FindingPrivateKey:
			if !strings.Contains(f.Message, "0644") || !strings.Contains(f.Message, "0600") || strings.Contains(f.Message, "PRIVATE") {
				t.Errorf("private key message %q", f.Message)
			}
		case FindingWorldWritable:
			if !strings.Contains(f.Message, "world-writable") {
				t.Errorf("world-writable message %q", f.Message)
			}
		}
	}
	if s := rep.Findings[0].String(); s != "info: backup~: editor backup, skipped by Buildroot" {
		t.Errorf("Finding.String() = %q", s)
	}
}

func TestCheckOverlaySSHDConfigInclude(t *testing.T) {
	for content, want := range map[string]bool{
		"Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n": false,
		"  include   \"/etc/ssh/sshd_config.d/*.conf\"\n":             false,
		"Include /etc/ssh/other.conf /etc/ssh/sshd_config.d/a.conf\n": false,
		"# Include /etc/ssh/sshd_config.d/*.conf\n":                   true,
		"Include /etc/ssh/other/*.conf\n":                             true,
		"":                                                            true,
	} {
		overlay := t.TempDir()
		buildTree(t, overlay, map[string]string{"etc/ssh/sshd_config": content}, nil)
		rep, err := CheckOverlay(overlay, []ShadowRule{})
		if err != nil {
			t.Fatal(err)
		}
		got := len(rep.Findings) == 1 && rep.Findings[0].Kind == FindingSSHDInclude
		if got != want || len(rep.Findings) > 1 {
			t.Errorf("sshd_config %q: findings %+v, want a missing-Include finding: %v", content, rep.Findings, want)
		}
	}
	// The board's own sshd_config, where it exists, includes the drop-ins.
	board := filepath.Join("..", "..", "buildroot-ipa", "board", "openstack", "ipa", "rootfs-overlay", "etc", "ssh", "sshd_config")
	if _, err := os.Stat(board); err == nil {
		if ok, err := includesDropIns(board); !ok || err != nil {
			t.Errorf("the board's sshd_config does not include sshd_config.d: %v", err)
		}
	}
}

func TestCheckOverlayClean(t *testing.T) {
	overlay := t.TempDir()
	buildTree(t, overlay, map[string]string{"etc/motd": "hi", "etc/ssh/key": "KEY", "empty/": ""}, map[string]fs.FileMode{"etc/ssh/key": 0o600})
	rep, err := CheckOverlay(overlay, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || len(rep.Skipped) != 0 || len(rep.Files) != 2 {
		t.Errorf("clean overlay: %+v", rep)
	}
	if rep.Files[1].Path != "etc/ssh/key" || rep.Files[1].ImagePath() != "/etc/ssh/key" || rep.Files[1].Mode.Perm() != 0o600 {
		t.Errorf("Files[1] = %+v", rep.Files[1])
	}
	// An empty overlay is fine too.
	rep, err = CheckOverlay(t.TempDir(), nil)
	if err != nil || len(rep.Files)+len(rep.Findings) != 0 {
		t.Errorf("empty overlay: %+v, %v", rep, err)
	}
}

func TestCheckOverlayBadDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "overlay")
	os.WriteFile(file, []byte("x"), 0o644)
	_, err := CheckOverlay(file, nil)
	if err == nil || !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "is not a directory") || !strings.Contains(err.Error(), file) {
		t.Errorf("overlay is a file: %v", err)
	}
	_, err = CheckOverlay(filepath.Join(dir, "missing"), nil)
	if err == nil || !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing overlay: %v", err)
	}
	// A symbolic link to a directory is followed, as Buildroot's "dir/" is.
	real := filepath.Join(dir, "real")
	buildTree(t, real, map[string]string{"etc/motd": "hi"}, nil)
	link := filepath.Join(dir, "link")
	os.Symlink(real, link)
	rep, err := CheckOverlay(link, nil)
	if err != nil || len(rep.Files) != 1 || rep.Files[0].Path != "etc/motd" {
		t.Errorf("overlay through a link: %+v, %v", rep, err)
	}
}

func TestBoardShadowRules(t *testing.T) {
	dir := t.TempDir()
	board := filepath.Join(dir, "board")
	buildTree(t, board, map[string]string{
		"usr/lib/systemd/system/ironic-python-agent.service": "[Service]\n",
		"etc/systemd/network/50-dhcp.network":                "[Match]\n",
		"etc/odd[1].conf":                                    "glob characters in a name",
		"etc/x~":                                             "skipped by Buildroot: shadows nothing",
	}, nil)
	rules, err := BoardShadowRules(board)
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for _, r := range rules {
		pats = append(pats, r.Pattern)
	}
	want := []string{`etc/odd\[1].conf`, "etc/systemd/network/50-dhcp.network",
		"usr/lib/systemd/system/ironic-python-agent.service", "etc/systemd/system/ironic-python-agent.service"}
	if !slices.Equal(pats, want) {
		t.Errorf("patterns %q, want %q", pats, want)
	}
	overlay := filepath.Join(dir, "overlay")
	buildTree(t, overlay, map[string]string{
		"etc/systemd/network/50-dhcp.network":            "",
		"etc/systemd/network/10-other.network":           "",
		"etc/systemd/system/ironic-python-agent.service": "",
		"etc/odd[1].conf":                                "",
		"etc/odd1.conf":                                  "",
	}, nil)
	rep, err := CheckOverlay(overlay, rules)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Path+": "+f.Message)
	}
	wantFindings := []string{
		"etc/odd[1].conf: replaces the board overlay's /etc/odd[1].conf",
		"etc/systemd/network/50-dhcp.network: replaces the board overlay's /etc/systemd/network/50-dhcp.network",
		"etc/systemd/system/ironic-python-agent.service: overrides the board's unit /usr/lib/systemd/system/ironic-python-agent.service (/etc wins over /usr/lib)",
	}
	if !slices.Equal(got, wantFindings) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantFindings, "\n"))
	}
	// With the defaults appended, the other .network file is caught too.
	rep, _ = CheckOverlay(overlay, append(rules, DefaultShadowRules...))
	if len(rep.Findings) != 4 || rep.Findings[1].Path != "etc/systemd/network/10-other.network" {
		t.Errorf("with defaults: %+v", rep.Findings)
	}
	// No rules at all: an empty non-nil list.
	rep, _ = CheckOverlay(overlay, []ShadowRule{})
	if len(rep.Findings) != 0 {
		t.Errorf("no rules: %+v", rep.Findings)
	}
	if _, err := BoardShadowRules(filepath.Join(dir, "nope")); err == nil {
		t.Error("BoardShadowRules(missing) = nil error")
	}
}

// TestDefaultShadowRulesCoverBoard: once the board overlay exists, the
// defaults must cover its agent service and network files.
func TestDefaultShadowRulesCoverBoard(t *testing.T) {
	board := filepath.Join("..", "..", "buildroot-ipa", "board", "openstack", "ipa", "rootfs-overlay")
	if _, err := os.Stat(board); err != nil {
		t.Skip("SKIP hermetic: buildroot-ipa/board/openstack/ipa/rootfs-overlay does not exist yet")
	}
	rep, err := CheckOverlay(board, []ShadowRule{})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	defer func() {
		if checked == 0 {
			t.Error("the board overlay has neither the agent service nor a .network file")
		}
	}()
	for _, f := range rep.Files {
		if !strings.HasPrefix(f.Path, "etc/systemd/network/") && !strings.HasSuffix(f.Path, "/ironic-python-agent.service") {
			continue
		}
		checked++
		covered := false
		for _, r := range DefaultShadowRules {
			if ok, _ := filepath.Match(r.Pattern, f.Path); ok {
				covered = true
			}
		}
		if !covered {
			t.Errorf("board file %s is not covered by DefaultShadowRules", f.Path)
		}
	}
}

// TestCheckOverlayMatchesBuildrootRsync copies the test overlay with the
// rsync command Buildroot uses for overlays (SYSTEM_RSYNC in
// system/system.mk with RSYNC_VCS_EXCLUSIONS from the Makefile) and
// compares what arrives with Files; it also shows the mode rewrite the
// package comment describes.
func TestCheckOverlayMatchesBuildrootRsync(t *testing.T) {
	rsync := testenv.Program(t, "host", "rsync")
	dir := t.TempDir()
	overlay, target := filepath.Join(dir, "overlay"), filepath.Join(dir, "target")
	files := maps(testOverlay)
	delete(files, "run/fifo") // rsync -a as root would make it; compare regular content only
	buildTree(t, overlay, files, testModes)
	os.MkdirAll(filepath.Join(target, "root"), 0o700)
	cmd := exec.Command(rsync, "-a", "--ignore-times",
		"--exclude", ".svn", "--exclude", ".git", "--exclude", ".hg", "--exclude", ".bzr", "--exclude", "CVS",
		"--chmod=u=rwX,go=rX", "--exclude", ".empty", "--exclude", "*~",
		overlay+"/", target+"/")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rsync: %v\n%s", err, out)
	}
	var copied []string
	filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(target, p)
			copied = append(copied, filepath.ToSlash(rel))
		}
		return nil
	})
	rep, err := CheckOverlay(overlay, nil)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, f := range rep.Files {
		listed = append(listed, f.Path)
	}
	if !slices.Equal(copied, listed) {
		t.Errorf("rsync copied:\n%q\nCheckOverlay lists:\n%q", copied, listed)
	}
	for p, want := range map[string]fs.FileMode{
		"etc/ssh/ssh_host_rsa_key": 0o644, // 0600 in the overlay
		"etc/shared":               0o644, // 0666 in the overlay
		"open":                     0o755, // 0777 in the overlay
		"root":                     0o755, // 0700 in the target before the copy
		"root/.ssh":                0o755,
	} {
		if got := modeOf(t, filepath.Join(target, p)); got != want {
			t.Errorf("%s in the image: %04o, want %04o", p, got, want)
		}
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
