package qemu

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/testenv"
)

const networkData = `{"links": [{"id": "p0", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}]}` + "\n"

func TestConfigDriveISO(t *testing.T) {
	for _, tool := range []string{"xorriso", "genisoimage"} {
		t.Run(tool, func(t *testing.T) {
			path := testenv.Program(t, "hermetic", tool)
			only := func(name string) (string, error) {
				if name == tool {
					return path, nil
				}
				return "", errors.New("not found")
			}
			iso, err := ConfigDriveISO(context.Background(), process.OS{}, only, []byte(networkData), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			testenv.CheckConfigDriveISO(t, iso, networkData)
		})
	}
}

func TestConfigDriveISOWithoutTools(t *testing.T) {
	none := func(string) (string, error) { return "", errors.New("not found") }
	_, err := ConfigDriveISO(context.Background(), process.OS{}, none, []byte(networkData), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "neither xorriso nor genisoimage is installed") {
		t.Errorf("err = %v", err)
	}
}

func TestArgsAttachTheConfigDrive(t *testing.T) {
	c := Config{Kernel: "/k", Initrd: "/i", Accel: TCG, Memory: "1G", CPUs: 1, HostPort: 9999, ConfigDrive: "/tmp/a,b/config-2.iso"}
	args := strings.Join(c.Args(), " ")
	want := "-append console=ttyS0 -drive if=none,id=cfg0,media=cdrom,readonly=on,format=raw,file=/tmp/a,,b/config-2.iso -device ide-cd,drive=cfg0 -nic "
	if !strings.Contains(args, want) {
		t.Errorf("args:\n%s\nwant:\n%s", args, want)
	}
	c.ConfigDrive = ""
	if strings.Contains(strings.Join(c.Args(), " "), "cfg0") {
		t.Error("a config drive without one")
	}
}
