// Package menuconfig implements `ipabr menuconfig` and its kin
// (nconfig, linux-menuconfig, linux-nconfig, busybox-menuconfig): the
// terminal is handed to Buildroot's configuration menus unchanged.
package menuconfig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
)

// Options are the menu commands' inputs.
type Options struct {
	Factory *cmdutil.Factory
	Context context.Context
	Target  string
}

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

// NewCmdMenu builds the command for one menu; runF replaces runMenu in tests.
func NewCmdMenu(f *cmdutil.Factory, runF func(*Options) error, m Menu) *cobra.Command {
	opts := &Options{Factory: f, Target: m.Target}
	return &cobra.Command{
		Use:   m.Target,
		Short: "Open " + m.Short,
		Long: fmt.Sprintf(`Open %s in this terminal. Needs a terminal on
stdin. Afterwards ipabr says whether the configuration changed; 'ipabr save'
copies changes into buildroot-ipa/.`, m.Short),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runMenu(opts, m)
		},
	}
}

func runMenu(opts *Options, m Menu) error {
	f := opts.Factory
	if !f.IOStreams.IsStdinTTY() {
		return cmdutil.UsageError("%s needs a terminal on stdin; to change options without one use 'ipabr make -- olddefconfig' after editing the output's .config, or run it in a terminal", m.Target)
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	out, err := cmdutil.OpenOutput(s, false, f.Now())
	if err != nil {
		return err
	}
	defer out.Close()
	if _, err := out.RequireConfig(s); err != nil {
		return err
	}
	if m.Prepare != "" && len(Glob(out.Dir, m.File)) == 0 {
		if err := cmdutil.RunMake(opts.Context, f, out.Make, m.Prepare); err != nil {
			return err
		}
	}
	if m.File == LinuxConfig {
		keepBaseline(out.Dir)
	}
	before := snapshot(out.Dir, m.File)
	c := out.Make.Cmd(m.Target)
	c.Stdin, c.Stdout, c.Stderr = f.IOStreams.In, f.IOStreams.Out, f.IOStreams.ErrOut
	if err := f.Runner.Run(opts.Context, c); err != nil {
		return cmdutil.MakeFailure(err)
	}
	if bytes.Equal(before, snapshot(out.Dir, m.File)) {
		fmt.Fprintln(f.IOStreams.ErrOut, "The configuration did not change.")
	} else {
		fmt.Fprintln(f.IOStreams.ErrOut, "The configuration changed. Run 'ipabr save' to keep it in buildroot-ipa/ (or 'ipabr save --dry-run' to see the difference).")
	}
	return nil
}

// Glob lists the files matching pattern under dir.
func Glob(dir, pattern string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, pattern))
	return matches
}

// snapshot hashes the files matching pattern, so any change is detected.
func snapshot(dir, pattern string) []byte {
	h := sha256.New()
	for _, path := range Glob(dir, pattern) {
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
	for _, path := range Glob(dir, LinuxConfig) {
		base := path + BaselineSuffix
		if _, err := os.Stat(base); err == nil {
			continue
		}
		if data, err := os.ReadFile(path); err == nil {
			_ = os.WriteFile(base, data, 0o644)
		}
	}
}
