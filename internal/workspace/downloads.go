package workspace

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/errs"
)

// MissingDownloadsError is a download directory that lacks files the
// configuration needs.
type MissingDownloadsError struct {
	Missing []buildroot.Download
	Total   int
	DL      string // as shown
	// Offline is the --offline check (before a build), not the check
	// after 'make source'.
	Offline bool
}

func (e *MissingDownloadsError) Error() string {
	if e.Offline {
		return fmt.Sprintf("--offline: %d of the %d files this configuration downloads are missing from %s; run 'ipabr source' where the network or a mirror (download.primary_site) is reachable, or copy %s from a machine that has them",
			len(e.Missing), e.Total, e.DL, e.DL)
	}
	return fmt.Sprintf("make source finished but %d of %d files are still missing from %s", len(e.Missing), e.Total, e.DL)
}

// Downloads is every file the configuration downloads (sources, patches,
// extra downloads such as the IPA wheels), from Buildroot's show-info.
func (w *Workspace) Downloads(ctx context.Context) ([]buildroot.Download, error) {
	text, err := w.Output(ctx, "show-info")
	if err != nil {
		return nil, err
	}
	downloads, err := buildroot.ParseDownloads([]byte(text))
	if err != nil {
		return nil, errs.Failedf("%w", err)
	}
	return downloads, nil
}

// CheckOffline refuses an --offline build when the download directory
// lacks a file the configuration needs (a *MissingDownloadsError).
func (w *Workspace) CheckOffline(ctx context.Context) error {
	downloads, err := w.Downloads(ctx)
	if err != nil {
		return err
	}
	dl := w.Settings.Project.DL
	if missing := buildroot.MissingDownloads(dl, downloads); len(missing) > 0 {
		return &MissingDownloadsError{Missing: missing, Total: len(downloads), DL: w.Rel(dl), Offline: true}
	}
	w.Notes.Detail("offline: all %d files this configuration downloads are in %s", len(downloads), w.Rel(dl))
	return nil
}

// SourceResult is what Source fetched (the --json output of ipabr source).
type SourceResult struct {
	DL    string `json:"dl"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
}

// Source runs make source with its output on progress (nil: kept, and
// its tail shown on failure through errOut), then checks with show-info
// that every file arrived.
func (w *Workspace) Source(ctx context.Context, progress, errOut io.Writer) (*SourceResult, error) {
	var captured bytes.Buffer
	out := progress
	if out == nil {
		out = &captured
	}
	if err := w.RunMake(ctx, out, out, "source"); err != nil {
		if progress == nil {
			errOut.Write(tailBytes(captured.Bytes(), 4096))
		}
		return nil, err
	}
	downloads, err := w.Downloads(ctx)
	if err != nil {
		return nil, err
	}
	dl := w.Settings.Project.DL
	if missing := buildroot.MissingDownloads(dl, downloads); len(missing) > 0 {
		return nil, &MissingDownloadsError{Missing: missing, Total: len(downloads), DL: w.Rel(dl)}
	}
	res := &SourceResult{DL: dl, Files: len(downloads)}
	for _, d := range downloads {
		if st, err := os.Stat(d.Path(dl)); err == nil {
			res.Bytes += st.Size()
		}
	}
	return res, nil
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
