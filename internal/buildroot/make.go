package buildroot

import (
	"github.com/ipabr/ipabr/internal/process"
)

// Make is one Buildroot checkout driven for one output directory: every
// call is `make --no-print-directory -C <buildroot> O=<output>
// BR2_EXTERNAL=<external> ARGS` with the shared caches in the environment
// (doc/farm.md).
// --no-print-directory, as in the wrapper Makefile Buildroot writes into
// each output, keeps make's "Entering directory" lines out, so the output
// is what `make -C OUTPUT TARGET` prints (show-info stays valid JSON).
type Make struct {
	Buildroot string
	External  string
	Output    string
	DL        string
	CCache    string
}

// inheritedMakeVars would leak an outer make's settings (a jobserver, -j,
// a level) into Buildroot's top-level make, which refuses some of them.
var inheritedMakeVars = []string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS"}

// Cmd is the process for make ARGS.
func (m Make) Cmd(args ...string) process.Cmd {
	return process.Cmd{
		Name:  "make",
		Args:  append([]string{"--no-print-directory", "-C", m.Buildroot, "O=" + m.Output, "BR2_EXTERNAL=" + m.External}, args...),
		Env:   []string{"BR2_DL_DIR=" + m.DL, "BR2_CCACHE_DIR=" + m.CCache},
		Unset: inheritedMakeVars,
	}
}

// QuietCmd is Cmd with make's -s, for targets whose output is parsed.
func (m Make) QuietCmd(args ...string) process.Cmd {
	return m.Cmd(append([]string{"-s"}, args...)...)
}
