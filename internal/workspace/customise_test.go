package workspace

import (
	"path/filepath"
	"testing"

	"github.com/ipabr/ipabr/internal/project"
)

func TestUsersTableRef(t *testing.T) {
	root := t.TempDir()
	p := &project.Project{Root: root, Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "buildroot-ipa"),
		Output: filepath.Join(root, "output")}
	if got := usersTableRef(p); got != "$(BR2_EXTERNAL_IPA_PATH)/../scripts/users.table" {
		t.Fatalf("usersTableRef = %q", got)
	}
	if !UsesUsersTable(p, p.Output, "/other "+usersTableRef(p)) || !UsesUsersTable(p, p.Output, filepath.Join(p.Root, "scripts", "users.table")) || UsesUsersTable(p, p.Output, "/other") {
		t.Fatal("UsesUsersTable does not resolve the table's names")
	}
	// An external tree elsewhere: the absolute path.
	p.External = "/elsewhere/buildroot-ipa"
	if got := usersTableRef(p); got != filepath.Join(p.Root, "scripts", "users.table") {
		t.Fatalf("usersTableRef with a moved external tree = %q", got)
	}
}
