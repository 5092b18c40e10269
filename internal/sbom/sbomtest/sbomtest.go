// Package sbomtest checks SBOMs in tests: against the CycloneDX JSON
// schema of the version they declare (testdata/cyclonedx, from the npm
// package @cyclonedx/cyclonedx-library 10.3.0), and provides the SPDX
// license list Buildroot's generate-cyclonedx reads.
package sbomtest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/cyclonedx/*.json
var schemas embed.FS

// schemaBase is where the schemas' $id and $ref point.
const schemaBase = "http://cyclonedx.org/schema/"

// Validate checks a CycloneDX JSON document against the schema of its
// specVersion.
func Validate(doc []byte) error {
	var head struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return err
	}
	if head.BOMFormat != "CycloneDX" {
		return fmt.Errorf("bomFormat %q, want CycloneDX", head.BOMFormat)
	}
	main := "bom-" + head.SpecVersion + ".SNAPSHOT.schema.json"
	if _, err := schemas.Open("testdata/cyclonedx/" + main); err != nil {
		return fmt.Errorf("no schema for specVersion %q in testdata/cyclonedx", head.SpecVersion)
	}
	c := jsonschema.NewCompiler()
	entries, err := schemas.ReadDir("testdata/cyclonedx")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := schemas.ReadFile("testdata/cyclonedx/" + e.Name())
		if err != nil {
			return err
		}
		s, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %v", e.Name(), err)
		}
		if err := c.AddResource(schemaBase+e.Name(), s); err != nil {
			return err
		}
	}
	sch, err := c.Compile(schemaBase + main)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// InstallSPDX puts the SPDX license list where Buildroot's
// generate-cyclonedx looks for it before downloading it:
// <dl>/cyclonedx/spdx-<spec>.schema.json.
func InstallSPDX(dl, spec string) error {
	data, err := schemas.ReadFile("testdata/cyclonedx/spdx.SNAPSHOT.schema.json")
	if err != nil {
		return err
	}
	dir := filepath.Join(dl, "cyclonedx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "spdx-"+spec+".schema.json"), data, 0o644)
}
