// Package doctor implements `ipabr doctor`: does this host have what
// Buildroot 2026.02 (support/dependencies/dependencies.sh) and ipabr need?
package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/lazyregexp"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
)

// Options are doctor's inputs.
type Options struct {
	IO         *term.IOStreams
	Runner     process.Runner
	Context    context.Context
	LookPath   func(string) (string, error)
	FileExists func(string) bool
	// Python is the host interpreter whose pip `ipabr ipa lock` runs.
	Python string
	JSON   bool
}

// NewCmdDoctor builds the command; runF replaces runDoctor in tests.
func NewCmdDoctor(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Runner: f.Runner, LookPath: f.LookPath, FileExists: f.FileExists}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the host for Buildroot's build dependencies",
		Long: `Check the host for every program Buildroot 2026.02 requires (its
support/dependencies/dependencies.sh), the ncurses headers menuconfig needs,
QEMU for 'ipabr qemu', and pip 22.2 or newer for the Python 'ipabr ipa lock'
runs (ipa.python, else python3). Prints each with its version, then the
apt-get (Debian, Ubuntu) and dnf (Fedora) command that installs exactly what
is missing. Exits 1 when something mandatory is missing or too old.
--json prints an array of objects instead (name, mandatory, found, version,
of, min, status: ok, missing or too old), with the same exit code.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Python = f.Value("ipa.python")
			if runF != nil {
				return runF(opts)
			}
			return runDoctor(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the checks as a JSON array")
	return cmd
}

// checked is one result as --json shows it.
type checked struct {
	Name      string `json:"name"`
	Mandatory bool   `json:"mandatory"`
	Status    string `json:"status"` // ok, missing, too old
	Found     string `json:"found"`
	Version   string `json:"version"`
	Of        string `json:"of,omitempty"`
	Min       string `json:"min,omitempty"`
}

func (r Result) checked() checked {
	c := checked{Name: r.Req.Name, Mandatory: r.Req.Mandatory, Status: "ok", Found: r.Found, Version: r.Version, Of: r.Of, Min: r.Req.Min}
	switch {
	case r.TooOld:
		c.Status = "too old"
	case r.Found == "":
		c.Status = "missing"
	}
	return c
}

// Requirement is one thing the host needs.
type Requirement struct {
	Name      string   // what is shown
	Programs  []string // any of these on PATH satisfies it
	Headers   []string // or: any of these files exists
	Min       string   // minimum version, empty for any
	Mandatory bool
	Purpose   string
	Apt, Dnf  string // package names
	// TooOldFix replaces the install commands when the package managers'
	// version is the old one.
	TooOldFix string
}

// Requirements is Buildroot's list plus what ipabr's extras need.
var Requirements = []Requirement{
	{Name: "which", Programs: []string{"which"}, Mandatory: true, Apt: "debianutils", Dnf: "which"},
	{Name: "sed", Programs: []string{"sed"}, Mandatory: true, Apt: "sed", Dnf: "sed"},
	{Name: "make", Programs: []string{"make"}, Min: "3.81", Mandatory: true, Apt: "make", Dnf: "make"},
	{Name: "binutils", Programs: []string{"ld"}, Mandatory: true, Apt: "binutils", Dnf: "binutils"},
	{Name: "gcc", Programs: []string{"gcc", "cc"}, Min: "4.8", Mandatory: true, Apt: "gcc", Dnf: "gcc"},
	{Name: "g++", Programs: []string{"g++", "c++"}, Min: "4.8", Mandatory: true, Apt: "g++", Dnf: "gcc-c++"},
	{Name: "bash", Programs: []string{"bash"}, Mandatory: true, Apt: "bash", Dnf: "bash"},
	{Name: "patch", Programs: []string{"patch"}, Mandatory: true, Apt: "patch", Dnf: "patch"},
	{Name: "gzip", Programs: []string{"gzip"}, Mandatory: true, Apt: "gzip", Dnf: "gzip"},
	{Name: "bzip2", Programs: []string{"bzip2"}, Mandatory: true, Apt: "bzip2", Dnf: "bzip2"},
	{Name: "perl", Programs: []string{"perl"}, Mandatory: true, Apt: "perl", Dnf: "perl"},
	{Name: "tar", Programs: []string{"tar"}, Mandatory: true, Apt: "tar", Dnf: "tar"},
	{Name: "cpio", Programs: []string{"cpio"}, Mandatory: true, Apt: "cpio", Dnf: "cpio"},
	{Name: "unzip", Programs: []string{"unzip"}, Mandatory: true, Apt: "unzip", Dnf: "unzip"},
	{Name: "rsync", Programs: []string{"rsync"}, Mandatory: true, Apt: "rsync", Dnf: "rsync"},
	{Name: "file", Programs: []string{"file"}, Mandatory: true, Apt: "file", Dnf: "file"},
	{Name: "bc", Programs: []string{"bc"}, Mandatory: true, Apt: "bc", Dnf: "bc"},
	{Name: "findutils", Programs: []string{"find"}, Mandatory: true, Apt: "findutils", Dnf: "findutils"},
	{Name: "xargs", Programs: []string{"xargs"}, Mandatory: true, Apt: "findutils", Dnf: "findutils"},
	{Name: "cmp", Programs: []string{"cmp"}, Mandatory: true, Apt: "diffutils", Dnf: "diffutils"},
	{Name: "awk", Programs: []string{"awk", "gawk"}, Mandatory: true, Apt: "gawk", Dnf: "gawk"},
	{Name: "wget", Programs: []string{"wget"}, Mandatory: true, Apt: "wget", Dnf: "wget"},
	{Name: "git", Programs: []string{"git"}, Min: "2.0", Mandatory: true, Apt: "git", Dnf: "git"},
	{Name: "python3", Programs: []string{"python3"}, Min: "3.4", Mandatory: true, Apt: "python3", Dnf: "python3"},
	{Name: "ncurses headers", Headers: []string{"/usr/include/ncurses.h", "/usr/include/ncursesw/ncurses.h", "/usr/include/ncurses/ncurses.h"},
		Purpose: "for ipabr menuconfig", Apt: "libncurses-dev", Dnf: "ncurses-devel"},
	{Name: "qemu", Programs: []string{"qemu-system-x86_64"}, Purpose: "for ipabr qemu", Apt: "qemu-system-x86", Dnf: "qemu-system-x86-core"},
}

// Result is one checked requirement.
type Result struct {
	Req     Requirement
	Found   string // path of the program or header
	Version string
	Of      string // what the version belongs to, when not Found itself
	TooOld  bool
}

// OK reports whether the requirement is met.
func (r Result) OK() bool { return r.Found != "" && !r.TooOld }

var versionRE = lazyregexp.New(`\d+(\.\d+)+`)

// Check examines every requirement.
func Check(ctx context.Context, opts *Options) []Result {
	var results []Result
	for _, req := range Requirements {
		res := Result{Req: req}
		for _, h := range req.Headers {
			if opts.FileExists(h) {
				res.Found = h
				break
			}
		}
		for _, prog := range req.Programs {
			path, err := opts.LookPath(prog)
			if err != nil {
				continue
			}
			res.Found = path
			res.Version = programVersion(ctx, opts.Runner, path)
			if req.Min != "" && res.Version != "" && compareVersions(res.Version, req.Min) < 0 {
				res.TooOld = true
			}
			break
		}
		results = append(results, res)
	}
	return append(results, checkPip(ctx, opts))
}

// checkPip is the pip `ipabr ipa lock` resolves with; Buildroot does not
// need it, so it is not mandatory.
func checkPip(ctx context.Context, opts *Options) Result {
	python := ipa.Interpreter(opts.Python)
	res := Result{Req: Requirement{
		Name: "pip", Min: ipa.MinPip, Purpose: "for ipabr ipa lock", Apt: "python3-pip", Dnf: "python3-pip",
		TooOldFix: fmt.Sprintf("a virtual environment with a current pip, named as ipa.python (doc/ipa.md): %s -m venv ~/.venvs/ipabr && ~/.venvs/ipabr/bin/python -m pip install --upgrade pip", python),
	}, Of: python}
	info, err := ipa.CheckPip(ctx, opts.Runner, python)
	var old *ipa.PipTooOldError
	switch {
	case err == nil:
		res.Found, res.Version = python, info.Version
	case errors.As(err, &old):
		res.Found, res.Version, res.TooOld = python, old.Version, true
	}
	return res
}

func programVersion(ctx context.Context, r process.Runner, path string) string {
	for _, args := range [][]string{{"--version"}, {"-V"}, {"-W", "version"}, {"-v"}} {
		// Some tools (bzip2) print their version on stderr.
		var out bytes.Buffer
		if err := r.Run(ctx, process.Cmd{Name: path, Args: args, Stdout: &out, Stderr: &out}); err != nil {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
		if v := versionRE.FindString(first); v != "" {
			return v
		}
	}
	return ""
}

// compareVersions compares dotted numeric versions.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func runDoctor(opts *Options) error {
	st := opts.IO.StylesFor(opts.IO.Out)
	results := Check(opts.Context, opts)
	if opts.JSON {
		out := make([]checked, 0, len(results))
		for _, r := range results {
			out = append(out, r.checked())
		}
		return cmdutil.PrintJSONResult(opts.IO.Out, out, missingError(results))
	}
	apt, dnf := map[string]bool{}, map[string]bool{}
	var fixes []string
	for _, r := range results {
		version := r.Version
		if r.Of != "" {
			version += " of " + r.Of
		}
		mark, note := st.Success("ok     "), version
		if r.Version == "" {
			note = r.Found
		}
		tooOld := st.Error("too old")
		if !r.Req.Mandatory {
			tooOld = st.Warning("too old")
		}
		switch {
		case r.TooOld:
			mark, note = tooOld, fmt.Sprintf("%s, need %s or newer", version, r.Req.Min)
			if !r.Req.Mandatory {
				note += " " + r.Req.Purpose
			}
		case r.Found == "" && r.Req.Mandatory:
			mark, note = st.Error("missing"), "required by Buildroot"
		case r.Found == "":
			mark, note = st.Warning("missing"), "optional, "+r.Req.Purpose
			if r.Of != "" {
				note += " (" + r.Of + ")"
			}
		}
		if !r.OK() {
			if r.TooOld && r.Req.TooOldFix != "" {
				fixes = append(fixes, r.Req.Name+": "+r.Req.TooOldFix)
			} else {
				apt[r.Req.Apt], dnf[r.Req.Dnf] = true, true
			}
		}
		fmt.Fprintf(opts.IO.Out, "%s  %-16s %s\n", mark, r.Req.Name, note)
	}
	if len(apt) > 0 {
		fmt.Fprintf(opts.IO.Out, "\nInstall what is missing:\n  Debian/Ubuntu: sudo apt-get install %s\n  Fedora:        sudo dnf install %s\n",
			strings.Join(sorted(apt), " "), strings.Join(sorted(dnf), " "))
	}
	for _, fix := range fixes {
		fmt.Fprintf(opts.IO.Out, "\n%s\n", fix)
	}
	return missingError(results)
}

// missingError is the failure when mandatory requirements are not met.
func missingError(results []Result) error {
	n := 0
	for _, r := range results {
		if r.Req.Mandatory && !r.OK() {
			n++
		}
	}
	if n > 0 {
		return errs.Failedf("%d required dependenc%s missing or too old", n, map[bool]string{true: "y is", false: "ies are"}[n == 1])
	}
	return nil
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
