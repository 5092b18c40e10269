package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces name with data and mode perm so that readers see
// either the old or the new content: it writes a temporary file in the same
// directory, syncs it and renames it over name. The temporary file's name
// ends in ~, so Buildroot skips one left behind by a crash. It refuses to
// replace a symbolic link or anything that is not a regular file.
func WriteFileAtomic(name string, data []byte, perm fs.FileMode) (err error) {
	if st, err := os.Lstat(name); err == nil {
		if st.Mode()&fs.ModeSymlink != 0 {
			return badInputf("%s is a symbolic link; refusing to replace it", name)
		}
		if !st.Mode().IsRegular() {
			return badInputf("%s is not a regular file", name)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp~")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, name); err != nil {
		return fmt.Errorf("replace %s: %w", name, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: make the rename durable
		d.Close()
	}
	return nil
}

// ensureDir makes dir (and its parents, 0755) and gives dir itself mode
// perm whatever the umask, refusing a symbolic link in its place.
func ensureDir(dir string, perm fs.FileMode) error {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(dir, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		return badInputf("%s is a symbolic link; Buildroot would copy the link, not its target", dir)
	case !st.IsDir():
		return badInputf("%s is not a directory", dir)
	}
	return os.Chmod(dir, perm)
}

// checkOverlayDir makes sure overlay is a directory, creating it when
// create is set and it is missing.
func checkOverlayDir(overlay string, create bool) error {
	st, err := os.Stat(overlay)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return os.MkdirAll(overlay, 0o755)
	case errors.Is(err, fs.ErrNotExist):
		return badInputf("overlay %s does not exist (ipabr init creates it)", overlay)
	case err != nil:
		return err
	case !st.IsDir():
		return badInputf("overlay %s is not a directory: move the file away, then run ipabr init", overlay)
	}
	return nil
}
