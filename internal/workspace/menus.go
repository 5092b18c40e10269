package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Menu is one configuration menu: its make target, the config file it
// edits (a glob relative to the output directory) and the make target that
// creates that file when it is missing.
type Menu struct {
	Target  string
	Short   string
	File    string
	Prepare string
}

// LinuxConfig and BusyboxConfig locate the package configurations.
const (
	LinuxConfig   = "build/linux-*/.config"
	BusyboxConfig = "build/busybox-*/.config"
	// BaselineSuffix marks the kernel configuration as Buildroot made it
	// (defconfig + fragments), kept so 'ipabr save --linux' can turn the
	// menu's changes into fragment lines.
	BaselineSuffix = ".ipabr-baseline"
)

// Menus are the menus ipabr offers.
var Menus = []Menu{
	{"menuconfig", "Buildroot's configuration menu (make menuconfig)", ".config", ""},
	{"nconfig", "Buildroot's configuration menu, ncurses style (make nconfig)", ".config", ""},
	{"linux-menuconfig", "the Linux kernel's configuration menu (make linux-menuconfig)", LinuxConfig, "linux-configure"},
	{"linux-nconfig", "the Linux kernel's configuration menu, ncurses style", LinuxConfig, "linux-configure"},
	{"busybox-menuconfig", "BusyBox's configuration menu (make busybox-menuconfig)", BusyboxConfig, "busybox-configure"},
}

// OpenMenu runs the menu on the terminal given (make prepares the file it
// edits first when needed) and reports whether the configuration changed.
func (w *Workspace) OpenMenu(ctx context.Context, m Menu, stdin io.Reader, stdout, stderr io.Writer) (changed bool, err error) {
	if _, err := w.RequireConfig(); err != nil {
		return false, err
	}
	if m.Prepare != "" && len(glob(w.Dir, m.File)) == 0 {
		if err := w.RunMake(ctx, stdout, stderr, m.Prepare); err != nil {
			return false, err
		}
	}
	if m.File == LinuxConfig {
		keepBaseline(w.Dir)
	}
	before := snapshot(w.Dir, m.File)
	c := w.Make.Cmd(m.Target)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	if err := w.Runner.Run(ctx, c); err != nil {
		return false, MakeFailure(err)
	}
	return !bytes.Equal(before, snapshot(w.Dir, m.File)), nil
}

// glob lists the files matching pattern under dir.
func glob(dir, pattern string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, pattern))
	return matches
}

// firstMatch is the first file matching pattern under dir, or "".
func firstMatch(dir, pattern string) string {
	if matches := glob(dir, pattern); len(matches) > 0 {
		return matches[0]
	}
	return ""
}

// snapshot hashes the files matching pattern, so any change is detected.
func snapshot(dir, pattern string) []byte {
	h := sha256.New()
	for _, path := range glob(dir, pattern) {
		fmt.Fprintln(h, path)
		if f, err := os.Open(path); err == nil {
			_, _ = io.Copy(h, f)
			f.Close()
		}
	}
	return h.Sum(nil)
}

// keepBaseline copies the kernel configuration aside the first time a menu
// opens it, before any change.
func keepBaseline(dir string) {
	for _, path := range glob(dir, LinuxConfig) {
		base := path + BaselineSuffix
		if _, err := os.Stat(base); err == nil {
			continue
		}
		if data, err := os.ReadFile(path); err == nil {
			_ = os.WriteFile(base, data, 0o644)
		}
	}
}
