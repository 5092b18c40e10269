package qemu

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ipabr/ipabr/internal/process"
)

// ImgBinary makes the scratch disks (Debian package qemu-utils).
const ImgBinary = "qemu-img"

// Disk kinds: the bus a scratch disk is attached to.
const (
	DiskVirtio = "virtio"
	DiskNVMe   = "nvme"
)

// Disk is a scratch disk given to the guest: an empty qcow2 file (it takes
// a few hundred KiB whatever its size) on a virtio-blk or NVMe controller.
type Disk struct {
	Kind   string
	File   string
	Size   int64 // bytes, as the guest sees it
	Serial string
}

// ScratchDisks are the disks --check attaches; their sizes differ so that
// each can be recognised in the agent's inventory.
var ScratchDisks = []Disk{
	{Kind: DiskVirtio, Size: 1 << 30, Serial: "ipabr-virtio"},
	{Kind: DiskNVMe, Size: 2 << 30, Serial: "ipabr-nvme"},
}

// DevicePrefix is how the guest kernel names a disk of this kind.
func (d Disk) DevicePrefix() string {
	if d.Kind == DiskNVMe {
		return "/dev/nvme"
	}
	return "/dev/vd"
}

// Describe names the disk for messages: "the NVMe disk (2 GiB, /dev/nvme*)".
func (d Disk) Describe() string {
	kind := "virtio"
	if d.Kind == DiskNVMe {
		kind = "NVMe"
	}
	return fmt.Sprintf("the %s disk (%d GiB, %s*)", kind, d.Size>>30, d.DevicePrefix())
}

// args are the disk's -drive and -device options; n numbers it.
func (d Disk) args(n int) []string {
	id := "disk" + strconv.Itoa(n)
	dev := "virtio-blk-pci"
	if d.Kind == DiskNVMe {
		dev = "nvme"
	}
	return []string{
		"-drive", "if=none,id=" + id + ",format=qcow2,file=" + optValue(d.File),
		"-device", dev + ",drive=" + id + ",serial=" + d.Serial,
	}
}

// MakeDisks creates ScratchDisks in dir with qemu-img and returns them with
// their files.
func MakeDisks(ctx context.Context, r process.Runner, qemuImg, dir string) ([]Disk, error) {
	// Creating an empty qcow2 file takes milliseconds; a minute means a
	// qemu-img that hangs.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var disks []Disk
	for _, d := range ScratchDisks {
		d.File = filepath.Join(dir, d.Kind+".qcow2")
		err := r.Run(ctx, process.Cmd{Name: qemuImg, Args: []string{"create", "-q", "-f", "qcow2", d.File, strconv.FormatInt(d.Size, 10)},
			Group: true, KillWithParent: true})
		if err != nil {
			return nil, fmt.Errorf("making the scratch disks: %w", err)
		}
		disks = append(disks, d)
	}
	return disks, nil
}
