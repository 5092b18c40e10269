package buildroot

import (
	"strings"
	"testing"
)

func TestDiffConfigNil(t *testing.T) {
	c, _ := ParseConfig(strings.NewReader("BR2_A=y\n"))
	if got := DiffConfig(nil, c); len(got) != 1 || got[0] != (ConfigChange{"BR2_A", "", "y"}) {
		t.Fatalf("DiffConfig(nil, c) = %q", got)
	}
	if got := DiffConfig(c, c); len(got) != 0 {
		t.Fatalf("DiffConfig(c, c) = %q", got)
	}
}

func TestFormatChangesMasksSecrets(t *testing.T) {
	got := FormatChanges("output/.config", []ConfigChange{
		{"BR2_TARGET_ENABLE_ROOT_LOGIN", "n", "y"},
		{"BR2_TARGET_GENERIC_ROOT_PASSWD", `""`, `"$$6$$saltsaltsaltsalt$$hashhash"`},
		{"BR2_ROOTFS_USERS_TABLES", "", `"/p/scripts/users.table"`},
	})
	want := `output/.config:
  BR2_TARGET_ENABLE_ROOT_LOGIN    n → y
  BR2_TARGET_GENERIC_ROOT_PASSWD  "" → $6$…(hash)
  BR2_ROOTFS_USERS_TABLES         (unset) → "/p/scripts/users.table"
`
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	for v, want := range map[string]string{
		`"$5$abc$def"`: "$5$…(hash)", `"hunter2"`: "…(plain text)", "": "(unset)", `"$$1$$x$$y"`: "$1$…(hash)",
	} {
		if got := MaskConfigValue("BR2_TARGET_GENERIC_ROOT_PASSWD", v); got != want {
			t.Errorf("MaskConfigValue(%q) = %q, want %q", v, got, want)
		}
	}
	if got := FormatChanges("o/.config", nil); got != "o/.config: no change\n" {
		t.Errorf("no changes: %q", got)
	}
}

func TestMaskSecrets(t *testing.T) {
	in := "BR2_x86_64=y\nBR2_TARGET_GENERIC_ROOT_PASSWD=\"$$6$$saltsalt$$digest\"\nBR2_TARGET_GENERIC_HOSTNAME=\"ipa\"\n"
	want := "BR2_x86_64=y\nBR2_TARGET_GENERIC_ROOT_PASSWD=$6$…(hash)\nBR2_TARGET_GENERIC_HOSTNAME=\"ipa\"\n"
	if got := string(MaskSecrets([]byte(in))); got != want {
		t.Fatalf("MaskSecrets = %q, want %q", got, want)
	}
}
