package cmdutil

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/workspace"
)

// Factory hands each command what it needs from the process around it.
type Factory struct {
	IOStreams *term.IOStreams
	Runner    process.Runner
	// Settings loads the configuration; it fails (exit 2) outside a project.
	Settings func() (*config.Settings, error)
	// Value is one key's value as far as it is known, also outside a project.
	Value func(key string) string
	Now   func() time.Time
	// LookPath finds programs on PATH (exec.LookPath); tests replace it.
	LookPath func(string) (string, error)
	// FileExists reports whether a host file exists; tests replace it.
	FileExists func(string) bool
	// Context is cancelled on SIGINT/SIGTERM.
	Context context.Context
	Version BuildVersion
}

// BuildVersion describes the ipabr binary.
type BuildVersion struct {
	Version string
	Commit  string
}

// Notes prints a command's progress notes on stderr as the settings ask.
func (f *Factory) Notes(s *config.Settings) term.Notifier {
	return term.Notifier{IO: f.IOStreams, Quiet: s.Quiet, Verbose: s.Verbose}
}

// OpenWorkspace takes the lock of the output directory the settings name
// (or of a fresh one, with unique).
func (f *Factory) OpenWorkspace(s *config.Settings, unique bool) (*workspace.Workspace, error) {
	return workspace.Open(s, workspace.Options{Runner: f.Runner, Notes: f.Notes(s), Now: f.Now, IpabrVersion: f.Version.Version, Unique: unique})
}

// Locker makes the agent's locks of the project.
func (f *Factory) Locker(s *config.Settings) *workspace.Locker {
	return &workspace.Locker{Settings: s, Runner: f.Runner, Now: f.Now, Notes: f.Notes(s)}
}

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// PrintJSONResult writes a command's JSON result and returns the
// command's error, else the writing's.
func PrintJSONResult(w io.Writer, v any, err error) error {
	if werr := PrintJSON(w, v); werr != nil && err == nil {
		return werr
	}
	return err
}
