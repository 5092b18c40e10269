package project

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// readmeText explains a directory `ipabr init` creates, named as in Dirs, as the
// original ipa-buildroot README did.
func readmeText(name string) string {
	switch name {
	case "dl":
		return `Download cache (BR2_DL_DIR)

Buildroot keeps every source tarball and IPA wheel it downloads here, so
rebuilds and other output directories do not download them again. Safe to
share between checkouts and output directories; safe to delete (it refills).
Not tracked by git. Publish it with any static HTTP server to use it as a
mirror (BR2_PRIMARY_SITE).
`
	case "ccache":
		return `Compiler cache (BR2_CCACHE_DIR)

ccache files that speed up later builds of the same sources. Safe to delete.
Not tracked by git.
`
	case "output":
		return `Build output directories (O=)

'ipabr build' works in output/ by default; 'ipabr build --unique' (or
'ipabr env --unique') creates output/<unix-time>-XXXXXX for concurrent builds.
Each holds Buildroot's .config, build/, host/, target/ and images/ (the
kernel, initramfs and ISO). Not tracked by git; 'ipabr clean' empties one.
`
	case "overlay":
		return `Your own rootfs overlay

Files here are copied into the image's root filesystem after the board's
overlay (buildroot-ipa/board/openstack/ipa/rootfs-overlay), so they can add
or replace any file: overlay/etc/motd becomes /etc/motd. They stay owned by
you; ownership in the image is root. Buildroot skips .git/.svn/.hg
directories, files called .empty and files ending in ~.

Only this README is tracked by git. Prefer 'ipabr ssh-key add' for SSH keys:
it sets the modes sshd insists on.
`
	case "scripts":
		return `Your own build hooks

Executable scripts here run after the board's scripts of the same kind:
  post-build.sh     after packages are installed, before the filesystem images
  post-fakeroot.sh  inside fakeroot, just before the images are made
  post-image.sh     after the images are made
Each receives the same arguments as Buildroot's hooks ($1 is TARGET_DIR or
BINARIES_DIR). Not tracked by git.
`
	}
	return ""
}

// EnsureDirs creates the project's working directories, each with its
// README unless one is there already. It returns the directories it created.
func (p *Project) EnsureDirs() ([]string, error) {
	names := map[string]string{
		p.DL: "dl", p.CCache: "ccache", p.OutputRoot(): "output", p.Overlay(): "overlay", p.Scripts(): "scripts",
	}
	var created []string
	for _, dir := range p.Dirs() {
		if err := CheckDirPath(names[dir]+" directory", dir); err != nil {
			return created, err
		}
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			created = append(created, dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return created, err
		}
		readme := filepath.Join(dir, "README.md")
		if _, err := os.Stat(readme); err == nil {
			continue
		}
		if err := WriteFileAtomic(readme, []byte(readmeText(names[dir])), 0o644); err != nil {
			return created, err
		}
	}
	return created, nil
}

// WriteFileAtomic writes data to a temporary file beside path and renames
// it into place, so readers never see half a file.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
