package workspace

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
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

// LogFile is the build log in each output directory.
const LogFile = project.BuildLogFile

// TailLines is how much of the log a failure shows.
const TailLines = 40

// BuildObserver follows a build: its notes, the package steps as make
// announces them, and its end.
type BuildObserver interface {
	Notes
	// Live says whether Progress is wanted (counting the packages costs
	// a show-info).
	Live() bool
	// Progress: a package step began; done of total packages are
	// installed (total 0: unknown).
	Progress(done, total int, step string)
	// Stopped: make has ended.
	Stopped()
	// Failed: the build failed in the package step where; tail holds the
	// last lines (lines of them, at most TailLines) of this run's part of
	// the log at logPath (logShown as shown to the user), as make wrote
	// them (escape sequences included).
	Failed(where, tail string, lines int, logShown, logPath string)
	// Succeeded: the build succeeded after elapsed.
	Succeeded(elapsed time.Duration)
}

// logHeader starts a run's part of the build log: when, which ipabr
// command, the make command line and the Buildroot it ran on.
func (w *Workspace) logHeader(log io.Writer, command string, cmd process.Cmd) {
	p := w.Settings.Project
	version, _ := buildroot.Version(p.Buildroot)
	fmt.Fprintf(log, "### %s ipabr %s: %s (Buildroot %s %s)\n",
		w.Now().UTC().Format(time.RFC3339), command, cmd.String(), gitsub.Head(p.Buildroot), version)
}

// BuildResult is a build's outcome (the --json output).
type BuildResult struct {
	Status         string            `json:"status"` // succeeded, failed, interrupted
	Output         string            `json:"output"`
	Log            string            `json:"log"`
	ElapsedSeconds float64           `json:"elapsed_seconds"`
	Package        string            `json:"package,omitempty"` // where a failed or interrupted build stopped
	Step           string            `json:"step,omitempty"`
	Images         []buildroot.Image `json:"images,omitempty"`
	Warnings       []string          `json:"warnings,omitempty"` // e.g. low disk space
	// Where names the package step a failed build stopped in, and Tail
	// holds the log's last lines.
	Where string `json:"-"`
	Tail  string `json:"-"`
}

// Build runs make ARGS with the log, the observer and, on success, the
// images list and SHA256SUMS. The build-farm settings are applied first.
func (w *Workspace) Build(ctx context.Context, args []string, obs BuildObserver) (*BuildResult, error) {
	logPath := filepath.Join(w.Dir, LogFile)
	res := &BuildResult{Output: w.Dir, Log: logPath}
	if err := w.ApplyFarm(ctx); err != nil {
		return nil, err
	}
	res.Warnings = spaceWarnings(w)
	for _, msg := range res.Warnings {
		obs.Warn("%s", msg)
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, errs.Failedf("opening the build log: %v", err)
	}
	defer lf.Close()
	// This run's part of the log starts here; a failure shows only it.
	runStart, err := lf.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, errs.Failedf("opening the build log: %v", err)
	}
	logw := bufio.NewWriterSize(lf, 256<<10)

	cmd := w.Make.Cmd(args...)
	w.logHeader(logw, "build", cmd)

	tr := &tracker{done: map[string]bool{}}
	if obs.Live() {
		tr.total = w.countPackages(ctx)
	}
	var sink io.Writer = logw
	if raw := obs.Raw(); raw != nil {
		sink = io.MultiWriter(logw, raw)
	}
	scanner := &buildroot.StreamScanner{Log: sink, OnStep: func(st buildroot.Step) {
		done, total := tr.observe(st)
		obs.Progress(done, total, st.String())
	}}
	cmd.Stdout, cmd.Stderr = scanner, scanner
	cmd.Group = true

	start := w.Now()
	runErr := w.Runner.Run(ctx, cmd)
	scanner.Flush()
	flushErr := logw.Flush()
	obs.Stopped()
	res.ElapsedSeconds = w.Now().Sub(start).Seconds()
	last := tr.last()
	res.Package, res.Step, res.Where = last.Package, last.Step, where(last)
	rel := w.Rel(logPath)

	switch {
	case ctx.Err() != nil:
		res.Status = "interrupted"
		return res, errs.As(errs.Interrupted, fmt.Errorf("build interrupted during %s; make's processes were stopped. Run 'ipabr build' again to continue (log: %s): %w", res.Where, rel, ctx.Err()))
	case runErr != nil:
		res.Status = "failed"
		var lines int
		res.Tail, lines, _ = tailOf(logPath, runStart, TailLines)
		reason := "build failed in " + res.Where
		if sig, ok := process.Signal(runErr); ok {
			reason = fmt.Sprintf("make was killed by signal %d (%v)", int(sig), sig)
			if sig == syscall.SIGKILL {
				reason += ": the kernel's OOM killer is the usual cause; check 'dmesg' and free memory, then rerun to continue"
			}
		}
		if r, full := diskFullReason(w, res.Tail, res.Where); full {
			reason = r
		}
		obs.Failed(res.Where, res.Tail, lines, rel, logPath)
		return res, errs.WithDetail(errs.Failedf("%s; see %s", reason, rel), cmd.String())
	case flushErr != nil:
		return res, errs.Failedf("writing %s: %v", rel, flushErr)
	}
	res.Status = "succeeded"
	if msg := w.writeSBOM(ctx); msg != "" {
		res.Warnings = append(res.Warnings, msg)
		obs.Warn("%s", msg)
	}
	imagesDir := filepath.Join(w.Dir, "images")
	if _, err := os.Stat(imagesDir); err == nil {
		images, err := buildroot.Images(imagesDir)
		if err != nil {
			return res, errs.Failedf("listing %s: %v", imagesDir, err)
		}
		res.Images = images
		if len(images) > 0 {
			if err := project.WriteFileAtomic(filepath.Join(imagesDir, buildroot.SumsFile), []byte(buildroot.SumsText(images)), 0o644); err != nil {
				return res, errs.Failedf("writing SHA256SUMS: %v", err)
			}
		}
	}
	obs.Succeeded(res.Elapsed())
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

// ImagesTable is the images of a successful build with their sizes and
// checksums, as the build commands show it.
func (r *BuildResult) ImagesTable(p *project.Project) string {
	var b strings.Builder
	if len(r.Images) == 0 {
		fmt.Fprintf(&b, "no files in %s/images\n", p.Rel(r.Output))
		return b.String()
	}
	fmt.Fprintf(&b, "%-28s %10s  %s\n", "FILE", "SIZE", "SHA256")
	for _, im := range r.Images {
		fmt.Fprintf(&b, "%-28s %10s  %s\n", im.File, term.HumanBytes(im.Size), im.SHA256)
	}
	fmt.Fprintf(&b, "(%s/images, checksums in %s)\n", p.Rel(r.Output), buildroot.SumsFile)
	return b.String()
}

// Elapsed is how long make ran.
func (r *BuildResult) Elapsed() time.Duration {
	return time.Duration(r.ElapsedSeconds * float64(time.Second))
}

// tracker turns step lines into packages done / total.
type tracker struct {
	mu      sync.Mutex
	total   int
	done    map[string]bool
	current buildroot.Step
}

func (t *tracker) observe(st buildroot.Step) (done, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st.Installed() {
		t.done[st.Package] = true
	}
	t.current = st
	return len(t.done), t.total
}

func (t *tracker) last() buildroot.Step {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

// countPackages asks Buildroot how many packages the configuration builds
// (show-info lists them with their host dependencies); 0 when unknown.
func (w *Workspace) countPackages(ctx context.Context) int {
	text, err := w.Output(ctx, "show-info")
	if err != nil {
		return 0
	}
	var info map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &info) != nil {
		return 0
	}
	return len(info)
}

// tailOf returns the last lines, at most n, of the file at path from
// offset start on (one run's part of the log), and how many it returned.
func tailOf(path string, start int64, n int) (string, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	const window = 256 << 10
	off := max(st.Size()-window, start, 0)
	if off >= st.Size() {
		return "", 0, nil
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return "", 0, err
	}
	lines := strings.SplitAfter(strings.TrimRight(string(buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "") + "\n", len(lines), nil
}
