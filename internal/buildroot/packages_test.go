package buildroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPackage(t *testing.T) {
	br, ext := t.TempDir(), t.TempDir()
	for _, f := range []string{
		"package/busybox/busybox.mk", "package/python3/python3.mk", "package/nginx/nginx.mk",
		"package/skeleton/skeleton.mk", "package/skeleton-init-systemd/skeleton-init-systemd.mk",
		"package/x11r7/xapp-xclock/xapp-xclock.mk", "package/pkg-generic.mk",
		"linux/linux.mk", "linux/linux-ext-rtai.mk", "boot/grub2/grub2.mk",
		"toolchain/toolchain-external/toolchain-external-bootlin/toolchain-external-bootlin.mk",
	} {
		writeFile(t, filepath.Join(br, f))
	}
	writeFile(t, filepath.Join(ext, "package/ironic-python-agent/ironic-python-agent.mk"))
	pkgs, err := FindPackages(br, ext)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(strings.NewReader(`BR2_PACKAGE_BUSYBOX=y
BR2_PACKAGE_PYTHON3=y
BR2_PACKAGE_HAS_SKELETON=y
BR2_PACKAGE_SKELETON_INIT_SYSTEMD=y
BR2_LINUX_KERNEL=y
BR2_TARGET_GRUB2=y
BR2_TOOLCHAIN_EXTERNAL_BOOTLIN=y
BR2_PACKAGE_IRONIC_PYTHON_AGENT=y
# BR2_PACKAGE_NGINX is not set
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"busybox":                    "",
		"python3":                    "",
		"host-python3":               "",
		"skeleton":                   "", // virtual: BR2_PACKAGE_HAS_SKELETON
		"skeleton-init-systemd":      "",
		"linux":                      "",
		"grub2":                      "", // boot/: BR2_TARGET_GRUB2
		"toolchain-external-bootlin": "", // toolchain/: BR2_TOOLCHAIN_EXTERNAL_BOOTLIN
		"ironic-python-agent":        "", // the external tree's
		"nginx":                      `package "nginx" is not enabled in this output (BR2_PACKAGE_NGINX is not set); enable it with 'ipabr menuconfig' first`,
		"xapp-xclock":                `package "xapp-xclock" is not enabled in this output (BR2_PACKAGE_XAPP_XCLOCK is not set)`,
		"busybx":                     `"busybx" is not a Buildroot package (no busybx.mk in Buildroot or the external tree); did you mean "busybox"?`,
		"host-pyhton3":               `"host-pyhton3" is not a Buildroot package (no pyhton3.mk in Buildroot or the external tree); did you mean "host-python3"?`,
		"pkg-generic":                `"pkg-generic" is not a Buildroot package`,
		"nosuchthing":                `"nosuchthing" is not a Buildroot package (no nosuchthing.mk in Buildroot or the external tree)`,
	} {
		err := CheckPackage(pkgs, cfg, name)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
			t.Errorf("%s: %v, want %s", name, err, want)
		}
	}
	if err := CheckPackage(pkgs, cfg, "nosuchthing"); err != nil && strings.Contains(err.Error(), "did you mean") {
		t.Errorf("suggestion for a name close to nothing: %v", err)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("# "+filepath.Base(path)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
