package workspace

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/image"

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

// An interrupted edit stays an interruption once the hash is masked.
func TestRedactKeepsInterruption(t *testing.T) {
	hash := "$6$saltsaltsaltsalt$" + strings.Repeat("a", 86)
	err := redact(fmt.Errorf("utils/config %s: %w", image.DoubleDollars(hash), context.Canceled), hash)
	if !errors.Is(err, context.Canceled) || errs.KindOf(err) != errs.Interrupted {
		t.Fatalf("redact(Canceled) = %v", err)
	}
	if strings.Contains(err.Error(), "saltsalt") || !strings.Contains(err.Error(), "$6$…(hash)") {
		t.Fatalf("redact shows %q", err)
	}
}
