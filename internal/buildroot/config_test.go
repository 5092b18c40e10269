package buildroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	in := `#
# Automatically generated file; DO NOT EDIT.
BR2_x86_64=y
BR2_DEFCONFIG="/src/buildroot-ipa/configs/openstack_ipa_defconfig"
BR2_TARGET_GENERIC_ROOT_PASSWD="$$6$$abc"
# BR2_CCACHE is not set
BR2_JLEVEL=0
garbage line
BR2_TARGET_GENERIC_HOSTNAME="with \"quotes\""
`
	c, err := ParseConfig(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"BR2_x86_64":                     "y",
		"BR2_CCACHE":                     "n",
		"BR2_JLEVEL":                     "0",
		"BR2_TARGET_GENERIC_ROOT_PASSWD": "$$6$$abc",
		"BR2_TARGET_GENERIC_HOSTNAME":    `with "quotes"`,
	}
	for k, want := range checks {
		if got := c.Values[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if c.DefconfigName() != "openstack_ipa_defconfig" {
		t.Errorf("DefconfigName = %q", c.DefconfigName())
	}
	if !c.Enabled("BR2_x86_64") || c.Enabled("BR2_CCACHE") {
		t.Error("Enabled is wrong")
	}
	if len(c.Order) != 6 {
		t.Errorf("order has %d symbols: %v", len(c.Order), c.Order)
	}
}

func TestVersionAndExternalName(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte("# x\nexport BR2_VERSION := 2026.02.3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "external.desc"), []byte("name: IPA\ndesc: x\n"), 0o644)
	if v, err := Version(dir); err != nil || v != "2026.02.3" {
		t.Errorf("Version = %q, %v", v, err)
	}
	if n, err := ExternalName(dir); err != nil || n != "IPA" {
		t.Errorf("ExternalName = %q, %v", n, err)
	}
	if _, err := Version(t.TempDir()); err == nil {
		t.Error("Version of an empty dir succeeded")
	}
}

func TestMergeFragment(t *testing.T) {
	parse := func(s string) *Config {
		c, err := ParseConfig(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	baseline := parse("CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_S=\"old\"\n")
	current := parse("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_S=\"new value\"\nCONFIG_D=64\n")
	fragment := "# NICs\nCONFIG_B=m\n\n# misc\nCONFIG_E=y\n"
	got := string(MergeFragment([]byte(fragment), baseline, current))
	want := "# NICs\n# CONFIG_B is not set\n\n# misc\nCONFIG_E=y\n\n# Added by ipabr save from linux-menuconfig changes\nCONFIG_C=y\nCONFIG_S=\"new value\"\nCONFIG_D=64\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if same := MergeFragment([]byte(fragment), baseline, baseline); string(same) != fragment {
		t.Fatalf("no change rewrote the fragment: %q", same)
	}
}
