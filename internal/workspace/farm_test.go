package workspace

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/config"
)

func cfg(t *testing.T, text string) *buildroot.Config {
	t.Helper()
	c, err := buildroot.ParseConfig(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFarmEdits(t *testing.T) {
	cases := []struct {
		fs   config.Farm
		conf string
		want string
	}{
		{config.Farm{}, "BR2_PRIMARY_SITE=\"http://x\"\n# BR2_CCACHE is not set\n", "[]"},
		{config.Farm{PrimarySite: "http://m/dl"}, "BR2_CCACHE=y\n", `[{BR2_PRIMARY_SITE http://m/dl false}]`},
		{config.Farm{PrimarySite: "http://m/dl"}, "BR2_PRIMARY_SITE=\"http://m/dl\"\nBR2_PRIMARY_SITE_ONLY=y\n", `[{BR2_PRIMARY_SITE_ONLY n false}]`},
		{config.Farm{PrimarySite: "http://m/dl", PrimarySiteOnly: true}, "BR2_PRIMARY_SITE=\"http://m/dl\"\nBR2_PRIMARY_SITE_ONLY=y\n", "[]"},
		{config.Farm{CCacheRemoteStorage: "redis://c"}, "# BR2_CCACHE is not set\n", `[{BR2_CCACHE y false}]`},
		{config.Farm{CCacheRemoteStorage: "redis://c"}, "BR2_CCACHE=y\n", "[]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(FarmEdits(c.fs, cfg(t, c.conf))); got != c.want {
			t.Errorf("FarmEdits(%+v, %q) = %s, want %s", c.fs, c.conf, got, c.want)
		}
	}
}

func TestDropFarmLines(t *testing.T) {
	def := "BR2_x86_64=y\nBR2_PRIMARY_SITE=\"http://m/dl\"\nBR2_PRIMARY_SITE_ONLY=y\nBR2_CCACHE=y\n"
	if got := string(DropFarmLines([]byte(def), config.Farm{PrimarySite: "http://m/dl"})); got != "BR2_x86_64=y\nBR2_CCACHE=y\n" {
		t.Errorf("dropped: %q", got)
	}
	// A mirror that is not the key's is the defconfig's own: kept.
	for _, fs := range []config.Farm{{}, {PrimarySite: "http://other/"}} {
		if got := string(DropFarmLines([]byte(def), fs)); got != def {
			t.Errorf("%+v: %q", fs, got)
		}
	}
}
