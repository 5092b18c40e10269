package ipa

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/ipa"
)

// Sources are the ipa.* settings: where the lock's inputs come from, and
// the host Python whose pip resolves them.
type Sources struct {
	RequirementsURL string
	ConstraintsURL  string
	IndexURL        string
	Python          string
}

// sourceKeys are the ipa.* keys of the settings table (internal/app) with
// their environment variables; the app validates ipabr.yaml, this reads it.
var sourceKeys = []struct {
	key, env string
	dst      func(*Sources) *string
}{
	{"requirements_url", "IPABR_IPA_REQUIREMENTS_URL", func(s *Sources) *string { return &s.RequirementsURL }},
	{"constraints_url", "IPABR_IPA_CONSTRAINTS_URL", func(s *Sources) *string { return &s.ConstraintsURL }},
	{"index_url", "IPABR_IPA_INDEX_URL", func(s *Sources) *string { return &s.IndexURL }},
	{"python", "IPABR_IPA_PYTHON", func(s *Sources) *string { return &s.Python }},
}

// LoadSources layers the ipa.* settings: IPABR_IPA_* environment, then
// the ipa: section of ipabr.yaml, then the defaults (flags come on top,
// in the commands).
func LoadSources(f *cmdutil.Factory, s *cmdutil.Settings) (Sources, error) {
	src := Sources{
		RequirementsURL: ipa.DefaultRequirementsURL,
		ConstraintsURL:  ipa.DefaultConstraintsURL,
		IndexURL:        ipa.DefaultIndexURL,
		Python:          ipa.Interpreter(""),
	}
	var file struct {
		IPA map[string]string `yaml:"ipa"`
	}
	if s.ConfigFile != "" {
		data, err := os.ReadFile(s.ConfigFile)
		if err != nil {
			return src, cmdutil.UsageError("reading %s: %v", s.ConfigFile, err)
		}
		// The app has validated the file; a section of other shapes is
		// simply not ours to read.
		if err := yaml.Unmarshal(data, &file); err != nil {
			return src, cmdutil.UsageError("%s: the ipa section must map keys to strings: %v", s.ConfigFile, err)
		}
	}
	for _, k := range sourceKeys {
		if v := file.IPA[k.key]; v != "" {
			*k.dst(&src) = v
		}
		if f.Getenv != nil {
			if v := f.Getenv(k.env); v != "" {
				*k.dst(&src) = v
			}
		}
	}
	for _, v := range []string{src.RequirementsURL, src.ConstraintsURL, src.IndexURL} {
		if v == "" {
			return src, cmdutil.UsageError("an ipa.* URL is empty")
		}
	}
	return src, nil
}

// Python is the host interpreter `ipa lock` runs pip with: ipa.python
// (IPABR_IPA_PYTHON, ipabr.yaml), else python3; outside a project only the
// environment applies.
func Python(f *cmdutil.Factory) string {
	if s, err := f.Settings(); err == nil {
		if src, err := LoadSources(f, s); err == nil {
			return src.Python
		}
	}
	if f.Getenv != nil {
		if v := f.Getenv("IPABR_IPA_PYTHON"); v != "" {
			return v
		}
	}
	return ipa.Interpreter("")
}

func (s Sources) String() string {
	return fmt.Sprintf("requirements %s, constraints %s, index %s, python %s", s.RequirementsURL, s.ConstraintsURL, s.IndexURL, s.Python)
}
