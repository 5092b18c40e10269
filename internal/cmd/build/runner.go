package build

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/cmd/configure"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

// LogFile is the build log in each output directory.
const LogFile = "build.log"

// tailLines is how much of the log a failure shows.
const tailLines = 40

// Result is a build's outcome (the --json output).
type Result struct {
	Status         string            `json:"status"` // succeeded, failed, interrupted
	Output         string            `json:"output"`
	Log            string            `json:"log"`
	ElapsedSeconds float64           `json:"elapsed_seconds"`
	Package        string            `json:"package,omitempty"` // where a failed or interrupted build stopped
	Step           string            `json:"step,omitempty"`
	Images         []buildroot.Image `json:"images,omitempty"`
	Warnings       []string          `json:"warnings,omitempty"` // e.g. low disk space (farm.go)
}

// Run runs make ARGS in out with the log, the progress display and, on
// success, the images table data and SHA256SUMS. build and rebuild use it.
func Run(ctx context.Context, f *cmdutil.Factory, s *cmdutil.Settings, out *cmdutil.Output, args []string) (*Result, error) {
	streams := f.IOStreams
	logPath := filepath.Join(out.Dir, LogFile)
	res := &Result{Output: out.Dir, Log: logPath}
	// Build-farm settings and the free-space check (farm.go).
	if err := configure.ApplyFarm(ctx, f, s, out); err != nil {
		return nil, err
	}
	res.Warnings = spaceWarnings(s, out)
	for _, w := range res.Warnings {
		if !s.Quiet {
			fmt.Fprintf(streams.ErrOut, "%s %s\n", streams.Styles().Warning("warning:"), w)
		}
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, cmdutil.Failure("opening the build log: %v", err)
	}
	defer lf.Close()
	logw := bufio.NewWriterSize(lf, 256<<10)

	cmd := out.Make.Cmd(args...)
	version, _ := buildroot.Version(s.Project.Buildroot)
	fmt.Fprintf(logw, "### %s ipabr build: %s (Buildroot %s %s)\n",
		f.Now().UTC().Format(time.RFC3339), cmd.String(), gitsub.Head(s.Project.Buildroot), version)

	tr := &tracker{done: map[string]bool{}}
	showLive := !s.Quiet && !s.Verbose
	if showLive {
		tr.total = countPackages(ctx, f, out)
	}
	display := term.NewStatusLine(streams.ErrOut, streams.IsStderrTTY(), f.Now)
	var sink io.Writer = logw
	if s.Verbose {
		sink = io.MultiWriter(logw, streams.ErrOut)
	}
	scanner := &buildroot.StreamScanner{Log: sink, OnStep: func(st buildroot.Step) {
		if done, total, label, changed := tr.observe(st); changed && showLive {
			display.Set(done, total, label)
		}
	}}
	cmd.Stdout, cmd.Stderr = scanner, scanner
	cmd.Group = true

	stopTicker := make(chan struct{})
	var wg sync.WaitGroup
	if showLive && streams.IsStderrTTY() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stopTicker:
					return
				case <-t.C:
					display.Tick()
				}
			}
		}()
	}
	runErr := f.Runner.Run(ctx, cmd)
	close(stopTicker)
	wg.Wait()
	scanner.Flush()
	flushErr := logw.Flush()
	display.Clear()
	res.ElapsedSeconds = display.Elapsed().Seconds()
	last := tr.last()
	res.Package, res.Step = last.Package, last.Step
	rel := s.Project.Rel(logPath)

	switch {
	case ctx.Err() != nil:
		res.Status = "interrupted"
		fmt.Fprintf(streams.ErrOut, "build interrupted during %s; make's processes were stopped. Run 'ipabr build' again to continue (log: %s)\n", where(last), rel)
		return res, ctx.Err()
	case runErr != nil:
		res.Status = "failed"
		fmt.Fprintf(streams.ErrOut, "%s build failed in %s\n", streams.Styles().Error("✗"), where(last))
		tail, tailErr := tailOf(logPath, tailLines)
		if tailErr == nil {
			fmt.Fprintf(streams.ErrOut, "--- last %d lines of %s ---\n%s--- end of log ---\n", tailLines, rel, tail)
		}
		fmt.Fprintf(streams.ErrOut, "full log: %s\n", logPath)
		reason := fmt.Sprintf("build failed in %s", where(last))
		if sig, ok := process.Signal(runErr); ok {
			reason = fmt.Sprintf("make was killed by signal %d (%v)", int(sig), sig)
			if sig == syscall.SIGKILL {
				reason += ": the kernel's OOM killer is the usual cause; check 'dmesg' and free memory, then rerun to continue"
			}
		}
		if r, full := diskFullReason(s, out, tail, where(last)); full {
			reason = r
		}
		return res, cmdutil.WithDetail(cmdutil.Failure("%s; see %s", reason, rel), cmd.String())
	case flushErr != nil:
		return res, cmdutil.Failure("writing %s: %v", rel, flushErr)
	}
	res.Status = "succeeded"
	if w := writeSBOM(ctx, f, s, out); w != "" {
		res.Warnings = append(res.Warnings, w)
		if !s.Quiet {
			fmt.Fprintf(streams.ErrOut, "%s %s\n", streams.Styles().Warning("warning:"), w)
		}
	}
	imagesDir := filepath.Join(out.Dir, "images")
	if _, err := os.Stat(imagesDir); err == nil {
		images, err := buildroot.Images(imagesDir)
		if err != nil {
			return res, cmdutil.Failure("listing %s: %v", imagesDir, err)
		}
		res.Images = images
		if len(images) > 0 {
			if err := project.WriteFileAtomic(filepath.Join(imagesDir, buildroot.SumsFile), []byte(buildroot.SumsText(images)), 0o644); err != nil {
				return res, cmdutil.Failure("writing SHA256SUMS: %v", err)
			}
		}
	}
	return res, nil
}

func where(st buildroot.Step) string {
	if st == (buildroot.Step{}) {
		return "make (before any package step)"
	}
	if st.Package == "" {
		return st.Step
	}
	name := st.Package
	if st.Version != "" {
		name += " " + st.Version
	}
	return fmt.Sprintf("%s (%s)", name, st.Step)
}

// PrintImages shows the images table.
func PrintImages(f *cmdutil.Factory, s *cmdutil.Settings, res *Result) {
	w := f.IOStreams.Out
	st := f.IOStreams.Styles()
	if !s.Quiet {
		fmt.Fprintf(f.IOStreams.ErrOut, "%s built in %s\n", st.Success("✓"), (time.Duration(res.ElapsedSeconds) * time.Second).Round(time.Second))
	}
	if len(res.Images) == 0 {
		fmt.Fprintf(w, "no files in %s/images\n", s.Project.Rel(res.Output))
		return
	}
	fmt.Fprintf(w, "%-28s %10s  %s\n", "FILE", "SIZE", "SHA256")
	for _, im := range res.Images {
		fmt.Fprintf(w, "%-28s %10s  %s\n", im.File, term.HumanBytes(im.Size), im.SHA256)
	}
	fmt.Fprintf(w, "(%s/images, checksums in %s)\n", s.Project.Rel(res.Output), buildroot.SumsFile)
}

// tracker turns step lines into packages done / total.
type tracker struct {
	mu      sync.Mutex
	total   int
	done    map[string]bool
	current buildroot.Step
}

func (t *tracker) observe(st buildroot.Step) (done, total int, label string, changed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st.Installed() {
		t.done[st.Package] = true
	}
	t.current = st
	return len(t.done), t.total, st.String(), true
}

func (t *tracker) last() buildroot.Step {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

// countPackages asks Buildroot how many packages the configuration builds
// (show-info lists them with their host dependencies); 0 when unknown.
func countPackages(ctx context.Context, f *cmdutil.Factory, out *cmdutil.Output) int {
	text, err := process.Output(ctx, f.Runner, out.Make.QuietCmd("show-info"))
	if err != nil {
		return 0
	}
	var info map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &info) != nil {
		return 0
	}
	return len(info)
}

// tailOf returns the last n lines of the file at path.
func tailOf(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	const window = 256 << 10
	off := max(st.Size()-window, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	lines := strings.SplitAfter(strings.TrimRight(string(buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "") + "\n", nil
}
