package workspace

import (
	"path/filepath"
	"testing"

	"github.com/ipabr/ipabr/internal/project"
)

// One expansion for every path .config names (save, ssh-key, user).
func TestConfigPath(t *testing.T) {
	t.Setenv("HOME", "/home/me")
	p := &project.Project{Root: "/p", Buildroot: "/p/buildroot", External: "/p/buildroot-ipa"}
	for raw, want := range map[string]string{
		"$(BR2_EXTERNAL_IPA_PATH)/configs/x_defconfig": "/p/buildroot-ipa/configs/x_defconfig",
		"${BR2_EXTERNAL_IPA_PATH}/../overlay":          "/p/overlay",
		"$(TOPDIR)/board/x":                            "/p/buildroot/board/x",
		"${TOPDIR}/board/x":                            "/p/buildroot/board/x",
		"$(CONFIG_DIR)/users.table":                    "/p/output/users.table",
		"${CONFIG_DIR}/users.table":                    "/p/output/users.table",
		"~/overlay":                                    "/home/me/overlay",
		"board/qemu/overlay":                           "/p/buildroot/board/qemu/overlay",
		"/abs//dir/":                                   "/abs/dir",
	} {
		if got := ConfigPath(p, filepath.Join(p.Root, "output"), raw); got != want {
			t.Errorf("ConfigPath(%q) = %q, want %q", raw, got, want)
		}
	}
}
