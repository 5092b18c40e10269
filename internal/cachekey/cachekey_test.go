package cachekey

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/project"
)

const pin = "679b9ead7620bbf193620d1ebf56f53c1764d37a"

func tree(t *testing.T, root string) *project.Project {
	t.Helper()
	files := map[string]string{
		"buildroot-ipa/external.desc": "name: IPA\n",
		"buildroot-ipa/configs/openstack_ipa_defconfig": "BR2_x86_64=y\nBR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES=\"$(BR2_EXTERNAL_IPA_PATH)/board/linux.fragment\"\n" +
			"BR2_PACKAGE_BUSYBOX_CONFIG=\"package/busybox/busybox.config\"\n",
		"buildroot-ipa/package/ironic-python-agent/ironic-python-agent.mk": "IRONIC_PYTHON_AGENT_VERSION = 1\n",
		"buildroot-ipa/package/ironic-python-agent/2026.1/lock.mk":         "wheels\n",
		"buildroot-ipa/patches/linux/linux.hash":                           "sha256 abc linux.tar.xz\n",
		"buildroot-ipa/patches/linux/0001-fix.patch":                       "--- a\n+++ b\n",
		"buildroot-ipa/board/linux.fragment":                               "CONFIG_E1000=y\n",
		"buildroot-ipa/board/post-build.sh":                                "#!/bin/sh\n",
		"buildroot-ipa/board/rootfs-overlay/etc/issue":                     "IPA\n",
		"buildroot/package/busybox/busybox.config":                         "CONFIG_ASH=y\n",
		"overlay/README.md":                                                "the user's overlay\n",
		"overlay/etc/motd":                                                 "hello\n",
		"scripts/README.md":                                                "hooks\n",
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &project.Project{Root: root, Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "buildroot-ipa"),
		Output: filepath.Join(root, "output"), DL: filepath.Join(root, "dl"), CCache: filepath.Join(root, "ccache")}
}

func keys(t *testing.T, p *project.Project) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range Kinds {
		key, err := Compute(context.Background(), k, Options{Project: p, Pin: pin, Defconfig: "openstack_ipa_defconfig"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key.Key, "ipabr-"+k+"-") || len(key.Key) != len("ipabr-"+k+"-")+32 {
			t.Fatalf("key %q", key.Key)
		}
		out[k] = key.Key
	}
	return out
}

func TestKeysAreStableAndFollowTheirInputs(t *testing.T) {
	a := tree(t, filepath.Join(t.TempDir(), "a"))
	b := tree(t, filepath.Join(t.TempDir(), "elsewhere", "b"))
	base := keys(t, a)
	if got := keys(t, b); got["dl"] != base["dl"] || got["ccache"] != base["ccache"] || got["output"] != base["output"] {
		t.Fatalf("the same project at another path has other keys:\n%v\n%v", base, got)
	}
	if base["dl"] == base["ccache"] || base["ccache"] == base["output"] {
		t.Fatal("different caches share a key")
	}
	// Which cache each change reaches.
	cases := []struct {
		file    string
		changes string // caches whose key must change, the others must not
	}{
		{"buildroot-ipa/package/ironic-python-agent/2026.1/lock.mk", "dl ccache output"},
		{"buildroot-ipa/configs/openstack_ipa_defconfig", "dl ccache output"},
		{"buildroot-ipa/patches/linux/linux.hash", "dl ccache output"},
		{"buildroot-ipa/patches/linux/0001-fix.patch", "ccache output"},
		{"buildroot-ipa/board/linux.fragment", "ccache output"},
		{"buildroot/package/busybox/busybox.config", "ccache"},
		{"buildroot-ipa/board/post-build.sh", "output"},
		{"buildroot-ipa/board/rootfs-overlay/etc/issue", "output"},
		{"overlay/etc/motd", "output"},
		{"overlay/README.md", ""},
		{"output/.config", ""},
	}
	for _, c := range cases {
		p := tree(t, t.TempDir())
		path := filepath.Join(p.Root, c.file)
		os.MkdirAll(filepath.Dir(path), 0o755)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("# changed\n")
		f.Close()
		got := keys(t, p)
		for _, k := range Kinds {
			want := strings.Contains(" "+c.changes+" ", " "+k+" ")
			if changed := got[k] != base[k]; changed != want {
				t.Errorf("changing %s: %s key changed=%v, want %v", c.file, k, changed, want)
			}
		}
	}
	// An executable bit counts; the pin counts.
	p := tree(t, t.TempDir())
	os.Chmod(filepath.Join(p.Root, "buildroot-ipa/package/ironic-python-agent/ironic-python-agent.mk"), 0o755)
	if keys(t, p)["dl"] == base["dl"] {
		t.Error("an executable bit does not change the key")
	}
	other, _ := Compute(context.Background(), "dl", Options{Project: a, Pin: strings.Repeat("0", 40), Defconfig: "openstack_ipa_defconfig"})
	if other.Key == base["dl"] {
		t.Error("the pin does not change the key")
	}
}

func TestComputeRefusals(t *testing.T) {
	p := tree(t, t.TempDir())
	if _, err := Compute(context.Background(), "images", Options{Project: p, Pin: pin, Defconfig: "openstack_ipa_defconfig"}); err == nil {
		t.Error("unknown cache accepted")
	}
	if _, err := Compute(context.Background(), "dl", Options{Project: p, Pin: pin, Defconfig: "nosuch_defconfig"}); err == nil || !strings.Contains(err.Error(), "is neither in") {
		t.Errorf("missing defconfig: %v", err)
	}
	if _, err := Compute(context.Background(), "dl", Options{Project: p, Pin: pin, Defconfig: "../x_defconfig"}); err == nil {
		t.Error("a path accepted as defconfig name")
	}
	key, err := Compute(context.Background(), "ccache", Options{Project: p, Pin: pin, Defconfig: "openstack_ipa_defconfig"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range key.Inputs {
		names = append(names, in.Name)
	}
	all := strings.Join(names, "\n")
	for _, want := range []string{"config-file:buildroot-ipa/board/linux.fragment", "config-file:buildroot/package/busybox/busybox.config", "external/patches/linux/0001-fix.patch"} {
		if !strings.Contains(all, want) {
			t.Errorf("ccache inputs lack %s:\n%s", want, all)
		}
	}
}

// TestComputeCancelled: reading the trees stops when ctx is cancelled,
// with ctx's error rather than a key.
func TestComputeCancelled(t *testing.T) {
	p := tree(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, k := range Kinds {
		if key, err := Compute(ctx, k, Options{Project: p, Pin: pin, Defconfig: "openstack_ipa_defconfig"}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Compute = %v, %v; want context.Canceled", k, key, err)
		}
	}
}
