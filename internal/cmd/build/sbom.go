package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/sbom"
)

// writeSBOM writes the SBOM beside the images (internal/sbom). A failure
// comes back as a warning: the image itself is built.
func writeSBOM(ctx context.Context, f *cmdutil.Factory, s *cmdutil.Settings, out *cmdutil.Output) string {
	images := filepath.Join(out.Dir, "images")
	if _, err := os.Stat(images); err != nil {
		return ""
	}
	cfg, _, err := out.Config()
	if err == nil {
		var res *sbom.Result
		res, err = sbom.Generate(ctx, f.Runner, sbom.Input{Make: out.Make, Root: s.Project.Root, Config: cfg, IpabrVersion: f.Version.Version, Now: f.Now()})
		if err == nil {
			err = project.WriteFileAtomic(filepath.Join(images, sbom.File), res.JSON, 0o644)
		}
	}
	if err != nil {
		return fmt.Sprintf("no images/%s: %v", sbom.File, err)
	}
	return ""
}
