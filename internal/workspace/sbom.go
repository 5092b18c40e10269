package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/sbom"
)

// writeSBOM writes the SBOM beside the images (internal/sbom), before
// SHA256SUMS so that the sums cover it. A failure comes back as a warning:
// the image itself is built.
func (w *Workspace) writeSBOM(ctx context.Context) string {
	images := filepath.Join(w.Dir, "images")
	if _, err := os.Stat(images); err != nil {
		return ""
	}
	cfg, err := w.RequireConfig()
	if err == nil {
		var res *sbom.Result
		res, err = sbom.Generate(ctx, w.Runner, sbom.Input{Make: w.Make, Root: w.Settings.Project.Root, Config: cfg, IpabrVersion: w.IpabrVersion, Now: w.Now()})
		if err == nil {
			err = project.WriteFileAtomic(filepath.Join(images, sbom.File), res.JSON, 0o644)
		}
	}
	if err != nil {
		return fmt.Sprintf("no images/%s: %v", sbom.File, err)
	}
	return ""
}
