package cmdutil

import (
	"context"
	"time"

	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

// Settings are the resolved configuration a command works with: plain
// values, already layered (flags, IPABR_*, BR2_*, ipabr.yaml, defaults).
type Settings struct {
	Project      *project.Project
	BuildrootURL string // empty: the URL in .gitmodules
	Defconfig    string
	ConfigFile   string // the ipabr.yaml that was read, or ""
	Verbose      bool
	Quiet        bool
	Farm         FarmSettings
}

// FarmSettings are the shared-cache and mirror keys (doc/farm.md).
type FarmSettings struct {
	// CCacheRemoteStorage goes into $BR2_CCACHE_DIR/ccache.conf as
	// remote_storage; "" leaves that file alone.
	CCacheRemoteStorage string
	// PrimarySite becomes BR2_PRIMARY_SITE at configure time; "" keeps the
	// defconfig's value.
	PrimarySite     string
	PrimarySiteOnly bool // BR2_PRIMARY_SITE_ONLY (with PrimarySite)
}

// Factory hands each command what it needs from the process around it.
type Factory struct {
	IOStreams *term.IOStreams
	Runner    process.Runner
	// Settings loads the configuration; it fails (exit 2) outside a project.
	Settings func() (*Settings, error)
	Now      func() time.Time
	Getenv   func(string) string
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
