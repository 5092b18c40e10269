package buildroot

import (
	"context"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/process/processtest"
)

func TestEditConfigRunsUtilsConfigThenOlddefconfig(t *testing.T) {
	stub := processtest.New(t)
	stub.Register(`^/br/utils/config `, nil)
	stub.Register(` olddefconfig$`, nil)
	m := Make{Buildroot: "/br", External: "/ext", Output: "/out", DL: "/dl", CCache: "/cc"}
	err := m.EditConfig(context.Background(), stub,
		Enable("BR2_TARGET_ENABLE_ROOT_LOGIN"), Set("BR2_TARGET_GENERIC_ROOT_PASSWD", "$$6$$salt$$hash"),
		Disable("BR2_CCACHE"), Edit{Symbol: "BR2_JLEVEL", Value: "4", Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	got := stub.Commands()
	want := []string{
		"/br/utils/config --file /out/.config --keep-case --enable BR2_TARGET_ENABLE_ROOT_LOGIN --set-str BR2_TARGET_GENERIC_ROOT_PASSWD '$$6$$salt$$hash' --disable BR2_CCACHE --set-val BR2_JLEVEL 4",
		"make --no-print-directory -C /br O=/out BR2_EXTERNAL=/ext -s olddefconfig",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []Edit{Set("CONFIG_X", "y"), Set("BR2_X Y", "1"), Set("BR2_X", "a\nb"), {Symbol: "BR2_X", Value: "1:2", Raw: true}} {
		if err := m.EditConfig(context.Background(), stub, bad); err == nil {
			t.Errorf("edit %+v accepted", bad)
		}
	}
}
