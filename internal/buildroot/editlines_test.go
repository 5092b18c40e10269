package buildroot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/process/processtest"
)

// Values with ':', '&', '\' or '"' (a mirror URL, a query string) would be
// mangled by utils/config's sed; ipabr writes those lines itself and still
// lets olddefconfig validate them.
func TestEditConfigWritesSedUnsafeStringsDirectly(t *testing.T) {
	out := t.TempDir()
	cfg := filepath.Join(out, ".config")
	orig := "BR2_x86_64=y\nBR2_PRIMARY_SITE=\"\"\n# BR2_PRIMARY_SITE_ONLY is not set\nBR2_BACKUP_SITE=\"https://sources.buildroot.net\"\n"
	if err := os.WriteFile(cfg, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	stub := processtest.New(t)
	stub.Register(`^/br/utils/config `, nil)
	stub.Register(` olddefconfig$`, nil)
	m := Make{Buildroot: "/br", External: "/ext", Output: out, DL: "/dl", CCache: "/cc"}
	site := `http://mirror:8080/br?a=1&b="x\y"`
	if err := m.EditConfig(context.Background(), stub, Set("BR2_PRIMARY_SITE", site), Enable("BR2_PRIMARY_SITE_ONLY"), Set("BR2_NEW", "a:b")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/br/utils/config --file " + cfg + " --keep-case --enable BR2_PRIMARY_SITE_ONLY",
		"make --no-print-directory -C /br O=" + out + " BR2_EXTERNAL=/ext -s olddefconfig",
	}
	if got := stub.Commands(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	data, _ := os.ReadFile(cfg)
	c, err := ParseConfig(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Values["BR2_PRIMARY_SITE"] != site || c.Values["BR2_NEW"] != "a:b" || c.Values["BR2_BACKUP_SITE"] != "https://sources.buildroot.net" {
		t.Fatalf(".config after the edit:\n%s", data)
	}
	if !strings.HasPrefix(string(data), "BR2_x86_64=y\nBR2_PRIMARY_SITE=\"http://mirror:8080/br?a=1&b=\\\"x\\\\y\\\"\"\n") {
		t.Errorf("line not written in place the way kconfig writes it:\n%s", data)
	}
	if st, _ := os.Stat(cfg); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}

	// Only sed-unsafe edits: no utils/config call at all.
	stub = processtest.New(t)
	stub.Register(` olddefconfig$`, nil)
	if err := m.EditConfig(context.Background(), stub, Set("BR2_PRIMARY_SITE", "file:///srv/dl")); err != nil {
		t.Fatal(err)
	}
	if got := stub.Commands(); len(got) != 1 || !strings.HasSuffix(got[0], "olddefconfig") {
		t.Fatalf("commands: %v", got)
	}
}
