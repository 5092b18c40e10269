// Package app assembles the root command: global flags, configuration
// layering, exit codes and the streams every command writes to.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/errs"
	_ "github.com/ipabr/ipabr/internal/prefault" // maps the code and some heap at start, in two system calls
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
)

// Set by the linker (-X) in release builds; debug.BuildInfo fills the rest.
var (
	version = "dev"
	commit  = ""
)

// Main runs ipabr with the process's own arguments and streams.
func Main() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipabr: cannot read the working directory:", err)
		return cmdutil.ExitFailure
	}
	return Run(ctx, os.Args[1:], Env{
		IO:     term.System(),
		Runner: process.OS{},
		Getenv: os.Getenv,
		Cwd:    cwd,
		Interrupts: func() (stop func()) {
			return cancelOnSignal(cancel)
		},
	})
}

// cancelOnSignal makes SIGINT and SIGTERM cancel the run, the signal as
// the cause, until stop; later signals are taken and ignored, so that the
// cancelled command's cleanup runs to its end.
func cancelOnSignal(cancel context.CancelCauseFunc) (stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-signals:
			cancel(fmt.Errorf("%v signal received", s))
		case <-done:
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
	}
}

// Env is everything Run takes from the process around it.
type Env struct {
	IO     *term.IOStreams
	Runner process.Runner
	Getenv func(string) string
	Cwd    string
	// Interrupts, when set, starts turning SIGINT and SIGTERM into
	// cancelling the run's context and returns what stops that. Run calls
	// it as a command starts, except for those that only print (version,
	// help): a signal simply ends them, and they start without paying for
	// the signal-handling thread.
	Interrupts func() (stop func())
}

// printsOnly reports whether cmd is one that a signal may simply end.
func printsOnly(cmd *cobra.Command) bool {
	switch cmd.CommandPath() {
	case "ipabr version", "ipabr help":
		return true
	}
	return false
}

// Run executes one ipabr invocation and returns its exit code.
func Run(ctx context.Context, args []string, env Env) int {
	root, f, globals := newRoot(ctx, env, args)
	defer func() {
		if globals.stopInterrupts != nil {
			globals.stopInterrupts()
		}
	}()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	code := cmdutil.ExitCode(err)
	usage, isUsage := cmdutil.UsageOf(err)
	if !globals.parsed {
		// cobra rejected the command line before any command ran.
		code, isUsage = cmdutil.ExitUsage, true
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		code = cmdutil.ExitInterrupted
		err = interruption(ctx, err)
	}
	st := f.IOStreams.Styles()
	fmt.Fprintf(f.IOStreams.ErrOut, "%s %s\n", st.Error("error:"), oneLine(err.Error()))
	if detail := errs.DetailOf(err); detail != "" {
		if globals.verbose {
			fmt.Fprintln(f.IOStreams.ErrOut, strings.TrimRight(detail, "\n"))
		} else {
			fmt.Fprintln(f.IOStreams.ErrOut, st.Faint("(run with -v for details)"))
		}
	}
	if isUsage && code == cmdutil.ExitUsage {
		if usage != nil && usage.Cmd != nil {
			cmd = usage.Cmd
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "Usage: %s\nRun '%s --help' for more.\n", usageLine(cmd), cmd.CommandPath())
	}
	return code
}

// interruption is the error to show for a command stopped by a signal: its
// own words when it has some (an error of kind Interrupted), otherwise just
// that it was interrupted and by what, rather than whatever a library made
// of the cancellation.
func interruption(ctx context.Context, err error) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.Interrupted {
		return err
	}
	cause := context.Cause(ctx)
	if cause == nil || cause == context.Canceled {
		return errs.As(errs.Interrupted, errors.New("interrupted"))
	}
	return errs.As(errs.Interrupted, fmt.Errorf("interrupted (%v)", cause))
}

// usageLine is cmd's usage as its help shows it; a group's names its
// subcommand.
func usageLine(cmd *cobra.Command) string {
	if cmd.HasAvailableSubCommands() && !strings.Contains(cmd.Use, " ") {
		return cmd.CommandPath() + " COMMAND"
	}
	return cmd.UseLine()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

type globalFlags struct {
	color   string
	verbose bool
	quiet   bool
	parsed  bool // set once flags and args were accepted
	// stopInterrupts ends Env.Interrupts' signal handling.
	stopInterrupts func()
}

// buildVersion is what the linker set, completed from the module's build
// information when it set nothing (go build, go install): reading that
// parses a list of every module, which a release build need not pay for.
func buildVersion() cmdutil.BuildVersion {
	v := cmdutil.BuildVersion{Version: version, Commit: commit}
	if v.Version != "dev" && v.Commit != "" {
		return v
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && v.Commit == "" {
				v.Commit = s.Value
			}
		}
	}
	return v
}

func newRoot(ctx context.Context, env Env, args []string) (*cobra.Command, *cmdutil.Factory, *globalFlags) {
	g := &globalFlags{color: term.ColorAuto}
	root := &cobra.Command{
		Use:   "ipabr",
		Short: "Build a small OpenStack Ironic Python Agent ramdisk with Buildroot",
		Long: `ipabr builds a small OpenStack Ironic Python Agent (IPA) ramdisk with upstream
Buildroot. It manages the pinned buildroot submodule, exports the BR2_*
variables and drives Buildroot's make targets in out-of-tree output directories.

Configuration, highest first: flags, IPABR_* environment, the BR2_* variables
of the original ipa-buildroot README (csmart/ipa-buildroot: BR2_IPA_REPO,
BR2_OUTPUT_DIR, ...), ipabr.yaml at the project root (or --config), defaults.
See 'ipabr help environment'.

Exit codes: 0 success, 1 failure (a failed make included), 2 usage or bad input,
130 interrupted.`,
		// Bare: help; anything else is an unknown command (exit 2).
		Args:          cobra.ArbitraryArgs,
		RunE:          cmdutil.GroupRunE,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(env.IO.In)
	root.SetOut(env.IO.Out)
	root.SetErr(env.IO.ErrOut)
	pf := root.PersistentFlags()
	pf.String("repo", "", "project root (default: the project the working directory is in, else $IPABR_REPO or $BR2_IPA_REPO)")
	pf.StringP("output", "O", "", "Buildroot output directory (default: $BR2_IPA_REPO/output)")
	pf.String("config", "", "configuration file (default: $BR2_IPA_REPO/ipabr.yaml)")
	pf.StringVar(&g.color, "color", term.ColorAuto, "colour: auto (on each of stdout and stderr that is a terminal), always or never")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "more output, and error details")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "only errors and results")

	loader := &config.Loader{Flags: pf, Cwd: env.Cwd, Ctx: ctx}
	var cached *config.Settings
	var f *cmdutil.Factory // its Settings prints warnings through f.Notes
	f = &cmdutil.Factory{
		IOStreams: env.IO,
		Runner:    env.Runner,
		Now:       time.Now,
		LookPath:  exec.LookPath,
		FileExists: func(path string) bool {
			_, err := os.Stat(path)
			return err == nil
		},
		Context: ctx,
		Version: buildVersion(),
		Value: func(key string) string {
			v, _ := loader.Value(key)
			return v
		},
		Settings: func() (*config.Settings, error) {
			if cached != nil {
				return cached, nil
			}
			s, err := loader.Load(g.verbose, g.quiet)
			if err != nil {
				return nil, err
			}
			for _, w := range s.Warnings {
				f.Notes(s).Warn("%s", w)
			}
			cached = s
			return s, nil
		},
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		g.parsed = true
		if env.Interrupts != nil && !printsOnly(cmd) {
			g.stopInterrupts = env.Interrupts()
		}
		// The color key: the flag, IPABR_COLOR or ipabr.yaml (when the
		// project and a valid file are found; a bad file is reported by
		// the commands that read the settings).
		color, origin := loader.Value("color")
		if err := config.CheckColor(color); err != nil {
			return errs.At(origin, err)
		}
		g.color = color
		if g.verbose && g.quiet {
			return errs.BadInputf("--verbose and --quiet cannot be used together")
		}
		env.IO.SetColorMode(g.color)
		return nil
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cmdutil.UsageError{Err: err}
	})
	addSubcommands(root, args, f)
	refuseBadUsage(root)
	root.SetHelpCommand(helpCommand(root))
	return root, f, g
}
