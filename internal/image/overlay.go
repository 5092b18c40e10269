package image

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// BuildrootSkippedNames are the names Buildroot's overlay copy excludes at
// any depth, files and directories alike: RSYNC_VCS_EXCLUSIONS in
// buildroot/Makefile plus ".empty" from SYSTEM_RSYNC in system/system.mk,
// which also excludes every name ending in "~".
var BuildrootSkippedNames = []string{".svn", ".git", ".hg", ".bzr", "CVS", ".empty"}

// skippedByBuildroot reports whether the overlay copy leaves name out.
func skippedByBuildroot(name string) bool {
	if strings.HasSuffix(name, "~") {
		return true
	}
	for _, s := range BuildrootSkippedNames {
		if name == s {
			return true
		}
	}
	return false
}

// Severity orders findings.
type Severity int

const (
	SeverityInfo    Severity = iota // worth knowing, nothing to fix
	SeverityWarning                 // likely a mistake
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "info"
}

// FindingKind names a kind of finding.
type FindingKind string

const (
	FindingEditorBackup  FindingKind = "editor-backup"    // *~: Buildroot skips it
	FindingWorldWritable FindingKind = "world-writable"   // others can change it before a build
	FindingPrivateKey    FindingKind = "private-key-mode" // SSH private key readable by others
	FindingShadowsBoard  FindingKind = "shadows-board"    // replaces or overrides a board file
	FindingSpecialFile   FindingKind = "special-file"     // device, FIFO or socket
	FindingUnreadable    FindingKind = "unreadable"       // the copy would fail
	FindingSSHDInclude   FindingKind = "sshd-no-include"  // sshd_config that ignores the drop-ins
)

// Finding is one problem found in the overlay.
type Finding struct {
	Path     string // relative to the overlay, with /, e.g. "etc/motd"
	Kind     FindingKind
	Severity Severity
	Message  string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Severity, f.Path, f.Message) }

// OverlayEntry is a file (regular, symbolic link or special) that the
// overlay puts into the image.
type OverlayEntry struct {
	Path string      // relative to the overlay with /; the image path is "/" + Path
	Mode fs.FileMode // type and permission bits in the overlay (not in the image)
}

// ImagePath is the entry's absolute path in the image.
func (e OverlayEntry) ImagePath() string { return "/" + e.Path }

// OverlayReport is what CheckOverlay found.
type OverlayReport struct {
	Files    []OverlayEntry // what goes into the image, in lexical order
	Skipped  []string       // overlay paths Buildroot leaves out (a directory once)
	Findings []Finding      // in path order
}

// Warnings counts the findings of SeverityWarning.
func (r *OverlayReport) Warnings() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == SeverityWarning {
			n++
		}
	}
	return n
}

// ShadowRule flags overlay files matching Pattern (path.Match syntax,
// relative to the overlay) as shadowing something the board provides.
type ShadowRule struct {
	Pattern string
	Reason  string
}

// DefaultShadowRules cover the board overlay's agent service and network
// configuration, used when the board overlay itself cannot be read. A unit
// in /etc/systemd/system replaces the one in /usr/lib, and systemd-networkd
// uses, for each interface, the first matching .network file in lexical
// order, so any .network file can override the board's DHCP setup.
var DefaultShadowRules = []ShadowRule{
	{"usr/lib/systemd/system/ironic-python-agent.service", "replaces the board's agent service: the agent may not start"},
	{"etc/systemd/system/ironic-python-agent.service", "overrides the board's agent service (/etc wins over /usr/lib): the agent may not start"},
	{"etc/systemd/network/*.network", "may override the board's network configuration (DHCP on every wired interface): the first matching .network file wins"},
}

// BoardShadowRules makes one rule for each file of the board overlay
// (buildroot-ipa/board/openstack/ipa/rootfs-overlay), plus, for each
// systemd unit under usr/lib/systemd/system, one for its /etc override.
func BoardShadowRules(boardOverlay string) ([]ShadowRule, error) {
	rep, err := CheckOverlay(boardOverlay, []ShadowRule{})
	if err != nil {
		return nil, err
	}
	var rules []ShadowRule
	for _, f := range rep.Files {
		pat := escapeGlob(f.Path)
		rules = append(rules, ShadowRule{pat, "replaces the board overlay's /" + f.Path})
		if unit, ok := strings.CutPrefix(f.Path, "usr/lib/systemd/system/"); ok && !strings.Contains(unit, "/") {
			rules = append(rules, ShadowRule{"etc/systemd/system/" + escapeGlob(unit), "overrides the board's unit /" + f.Path + " (/etc wins over /usr/lib)"})
		}
	}
	return rules, nil
}

// escapeGlob quotes path.Match's special characters.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// privateKeyScanLimit bounds how much of a file is searched for a key.
const privateKeyScanLimit = 64 << 10

// CheckOverlay walks the overlay directory dir as Buildroot would copy it
// and reports what it puts into the image and what looks wrong: editor
// backups (skipped), world-writable files and directories, SSH private keys
// readable by others, files matching a shadow rule, an sshd_config that
// does not include the sshd_config.d drop-ins, special files and
// unreadable entries. rules nil means DefaultShadowRules and an empty
// non-nil slice no rules; a list from BoardShadowRules (with the defaults
// appended) is more exact when the board overlay exists. dir missing or
// not a directory is an error.
func CheckOverlay(dir string, rules []ShadowRule) (*OverlayReport, error) {
	if rules == nil {
		rules = DefaultShadowRules
	}
	if err := checkOverlayDir(dir, false); err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(dir) // Buildroot copies "dir/": a link to a directory is followed
	if err != nil {
		return nil, err
	}
	rep := &OverlayReport{}
	add := func(p string, k FindingKind, s Severity, msg string) {
		rep.Findings = append(rep.Findings, Finding{Path: p, Kind: k, Severity: s, Message: msg})
	}
	err = filepath.WalkDir(root, func(full string, d fs.DirEntry, walkErr error) error {
		rel, err := filepath.Rel(root, full)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if walkErr != nil {
			if rel == "." {
				return walkErr
			}
			reason := walkErr
			var pe *fs.PathError
			if errors.As(walkErr, &pe) {
				reason = pe.Err
			}
			add(rel, FindingUnreadable, SeverityWarning, "cannot be read ("+reason.Error()+"): Buildroot's copy would fail")
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if rel == "." {
			return nil
		}
		if skippedByBuildroot(d.Name()) {
			rep.Skipped = append(rep.Skipped, rel)
			if strings.HasSuffix(d.Name(), "~") {
				add(rel, FindingEditorBackup, SeverityInfo, "editor backup, skipped by Buildroot")
			}
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			add(rel, FindingUnreadable, SeverityWarning, "cannot be read: Buildroot's copy would fail")
			return nil
		}
		mode := info.Mode()
		if mode&fs.ModeSymlink == 0 && mode.Perm()&0o002 != 0 {
			add(rel, FindingWorldWritable, SeverityWarning, fmt.Sprintf("world-writable (mode %04o): anyone on this machine can change what goes into the image", mode.Perm()))
		}
		if d.IsDir() {
			return nil
		}
		rep.Files = append(rep.Files, OverlayEntry{Path: rel, Mode: mode})
		switch {
		case mode.IsRegular():
			isKey, err := fileHasPrivateKey(full, info.Size())
			if err != nil {
				add(rel, FindingUnreadable, SeverityWarning, "cannot be read: Buildroot's copy would fail")
			} else if isKey && mode.Perm()&0o077 != 0 {
				add(rel, FindingPrivateKey, SeverityWarning, fmt.Sprintf("SSH private key with mode %04o, looser than 0600: chmod 600 it (in the image Buildroot makes it 0644; restrict it in a post-build script)", mode.Perm()))
			}
			if rel == sshdConfigPath {
				if ok, err := includesDropIns(full); err == nil && !ok {
					add(rel, FindingSSHDInclude, SeverityWarning, "replaces the board's sshd_config without \"Include /etc/ssh/sshd_config.d/*.conf\": SSH drop-ins, ipabr's included, have no effect")
				}
			}
		case mode&fs.ModeSymlink != 0:
		default:
			add(rel, FindingSpecialFile, SeverityWarning, "a device, FIFO or socket: create it with a device table (BR2_ROOTFS_DEVICE_TABLE) instead")
		}
		for _, r := range rules {
			if ok, _ := path.Match(r.Pattern, rel); ok {
				add(rel, FindingShadowsBoard, SeverityWarning, r.Reason)
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// sshdConfigPath is sshd's configuration, relative to an overlay.
const sshdConfigPath = "etc/ssh/sshd_config"

// includesDropIns reports whether an sshd_config has an Include line
// naming /etc/ssh/sshd_config.d/ (keywords are case-insensitive).
func includesDropIns(name string) (bool, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], "Include") {
			for _, arg := range f[1:] {
				if strings.HasPrefix(strings.Trim(arg, `"`), "/etc/ssh/sshd_config.d/") {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// fileHasPrivateKey looks for a private key's first line in the start of a
// file of at most 1 MiB.
func fileHasPrivateKey(name string, size int64) (bool, error) {
	if size > 1<<20 {
		return false, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, privateKeyScanLimit))
	if err != nil {
		return false, err
	}
	defer clear(data)
	return privateKeyLine(data) > 0, nil
}
