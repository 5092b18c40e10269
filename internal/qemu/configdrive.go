package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipabr/ipabr/internal/process"
)

// ConfigDriveLabel is the volume label by which the image (like cloud-init
// and glean) finds an OpenStack config drive.
const ConfigDriveLabel = "config-2"

// ConfigDriveISO writes dir/config-2.iso: an ISO 9660 config drive, as
// Ironic attaches one over virtual media, holding networkData as
// openstack/latest/network_data.json beside a minimal meta_data.json. It
// uses xorriso, else genisoimage, found with lookPath.
func ConfigDriveISO(ctx context.Context, r process.Runner, lookPath func(string) (string, error), networkData []byte, dir string) (string, error) {
	var tool string
	var args []string
	if p, err := lookPath("xorriso"); err == nil {
		tool, args = p, []string{"-as", "mkisofs"}
	} else if p, err := lookPath("genisoimage"); err == nil {
		tool = p
	} else {
		return "", fmt.Errorf("neither xorriso nor genisoimage is installed to make the config drive; install one (apt-get install xorriso)")
	}
	tree := filepath.Join(dir, "config-drive")
	latest := filepath.Join(tree, "openstack", "latest")
	if err := os.MkdirAll(latest, 0o755); err != nil {
		return "", err
	}
	for name, data := range map[string][]byte{
		"network_data.json": networkData,
		"meta_data.json":    []byte(`{"uuid": "00000000-0000-0000-0000-000000000000", "name": "ipabr-qemu", "hostname": "ipabr-qemu"}` + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(latest, name), data, 0o644); err != nil {
			return "", err
		}
	}
	iso := filepath.Join(dir, ConfigDriveLabel+".iso")
	args = append(args, "-quiet", "-o", iso, "-V", ConfigDriveLabel, "-J", "-R", tree)
	if err := r.Run(ctx, process.Cmd{Name: tool, Args: args}); err != nil {
		return "", fmt.Errorf("making the config drive: %w", err)
	}
	return iso, nil
}
