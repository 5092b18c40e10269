package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/ccache"
)

// TestUpstreamFarmSettings: the build-farm keys against real Buildroot at
// the pin: the mirror URL (with ':' and '&', which utils/config cannot
// write) and BR2_PRIMARY_SITE_ONLY survive real olddefconfig, the remote
// ccache enables nothing unexpected, and show-info's download list is
// what `ipabr build --offline` and `ipabr source` read.
func TestUpstreamFarmSettings(t *testing.T) {
	dir := upstreamProject(t)
	cfgFile := filepath.Join(t.TempDir(), "farm.yaml")
	ccacheDir := filepath.Join(t.TempDir(), "ccache")
	site := "http://mirror.example:8080/dl?x=1&y=2"
	if err := os.WriteFile(cfgFile, []byte("download:\n  primary_site: \""+site+"\"\n  primary_site_only: true\nccache:\n  remote_storage: redis://127.0.0.1:6379\ndl_dir: "+filepath.Join(t.TempDir(), "dl")+"\nccache_dir: "+ccacheDir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runIpabr(dir, "--config", cfgFile, "-O", "output/farm", "configure")
	if code != 0 {
		t.Fatalf("configure: %d\n%s", code, out)
	}
	cfg, err := buildroot.ReadConfigFile(filepath.Join(dir, "output", "farm", ".config"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Values["BR2_PRIMARY_SITE"] != site || !cfg.Enabled("BR2_PRIMARY_SITE_ONLY") || !cfg.Enabled("BR2_CCACHE") {
		t.Fatalf("after real olddefconfig: BR2_PRIMARY_SITE=%q ONLY=%q CCACHE=%q\n%s", cfg.Values["BR2_PRIMARY_SITE"], cfg.Values["BR2_PRIMARY_SITE_ONLY"], cfg.Values["BR2_CCACHE"], out)
	}
	if _, ok := cfg.Values["BR2_BACKUP_SITE"]; ok {
		t.Errorf("BR2_BACKUP_SITE still set with BR2_PRIMARY_SITE_ONLY (it depends on !BR2_PRIMARY_SITE_ONLY)")
	}

	info, code := runIpabr(dir, "--config", cfgFile, "-O", "output/farm", "-q", "make", "--", "-s", "show-info")
	if code != 0 {
		t.Fatalf("show-info: %d\n%.2000s", code, info)
	}
	downloads, err := buildroot.ParseDownloads([]byte(info))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range downloads {
		names = append(names, d.DLDir+"/"+d.Source)
		if len(d.URIs) == 0 || !strings.Contains(d.URIs[0], "mirror.example") {
			t.Errorf("%s/%s: the mirror is not the first URI: %v", d.DLDir, d.Source, d.URIs)
		}
	}
	all := strings.Join(names, "\n")
	for _, want := range []string{"linux/linux-6.18.33.tar.xz", "busybox/busybox-", "python3/Python-"} {
		if !strings.Contains(all, want) {
			t.Errorf("show-info downloads lack %s (%d files)", want, len(downloads))
		}
	}

	// --offline without the agent's lock: refused before anything else,
	// naming the command that makes it.
	out, code = runIpabr(dir, "--config", cfgFile, "-O", "output/farm", "build", "--offline")
	if code != 2 || !strings.Contains(out, "has no IPA lock, and --offline does not make one; run ipabr ipa lock --release") {
		t.Errorf("build --offline without a lock: %d\n%.3000s", code, out)
	}
	// --offline with an empty dl/ (a goal that needs no lock): refused,
	// listing the files.
	out, code = runIpabr(dir, "--config", cfgFile, "-O", "output/farm", "build", "--offline", "linux-rebuild")
	if code != 1 || !strings.Contains(out, "busybox/busybox-1.37.0.tar.bz2 (busybox)") || !strings.Contains(out, "more (-v lists them all)") || !strings.Contains(out, "files this configuration downloads are missing") {
		t.Errorf("build --offline with an empty dl/: %d\n%.3000s", code, out)
	}
	if rs := ccache.ReadRemoteStorage(ccacheDir); rs != "redis://127.0.0.1:6379" {
		t.Errorf("ccache.conf remote storage %q", rs)
	}
}
