package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/sbom"
	"github.com/ipabr/ipabr/internal/sbom/sbomtest"
)

// TestUpstreamSBOM: `ipabr sbom` with real Buildroot at the pin and this
// repository's buildroot-ipa, for a series with a lock: Buildroot's own
// generate-cyclonedx on real show-info, valid against the CycloneDX schema
// it declares, with every locked wheel as a pkg:pypi component the agent
// depends on and the pin in the metadata.
func TestUpstreamSBOM(t *testing.T) {
	dir := upstreamProject(t)
	ext := filepath.Join(dir, "buildroot-ipa")
	const series = "2099.1" // a series no other test uses
	lock := &ipa.Lock{Series: series, Created: time.Unix(1767225600, 0), Target: ipa.Target{Python: "3.14", Glibc: "2.42"},
		Index: "https://pypi.example/simple", IPAVersion: "11.1.0"}
	for _, w := range []ipa.Wheel{
		{Name: "ironic-python-agent", Version: "11.1.0", License: "Apache-2.0", SHA256: strings.Repeat("1", 64)},
		{Name: "oslo.config", Version: "10.0.0", License: "Apache Software License", SHA256: strings.Repeat("2", 64)},
		{Name: "pyudev", Version: "0.24.3", License: "LGPL-2.1-or-later", SHA256: strings.Repeat("3", 64)},
	} {
		w.Filename = strings.ReplaceAll(w.Name, "-", "_") + "-" + w.Version + "-py3-none-any.whl"
		w.URL = "https://files.example/" + w.Filename
		w.Size = 1000
		lock.Wheels = append(lock.Wheels, w)
	}
	if err := lock.Write(ext); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ipa.LockDir(ext, series)) })
	// Where generate-cyclonedx would download it from the network.
	if err := sbomtest.InstallSPDX(filepath.Join(dir, "dl"), "1.6"); err != nil {
		t.Fatal(err)
	}
	if out, code := runIpabr(dir, "-O", "output/sbom", "ipa", "use", series); code != 0 {
		t.Fatalf("ipa use: %d\n%s", code, out)
	}
	file := filepath.Join(t.TempDir(), "sbom.cdx.json")
	out, code := runIpabr(dir, "-O", "output/sbom", "sbom", "--file", file)
	if code != 0 || !strings.Contains(out, "components (3 wheels of OpenStack "+series+")") {
		t.Fatalf("sbom: %d\n%s", code, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := sbomtest.Validate(data); err != nil {
		t.Fatalf("not valid CycloneDX: %v", err)
	}
	var doc struct {
		Metadata struct {
			Properties []struct{ Name, Value string } `json:"properties"`
			Tools      struct {
				Components []struct{ Name, Version string } `json:"components"`
			} `json:"tools"`
		} `json:"metadata"`
		Components []struct {
			Ref      string `json:"bom-ref"`
			Version  string `json:"version"`
			Purl     string `json:"purl"`
			Licenses []map[string]any
			Hashes   []struct{ Alg, Content string } `json:"hashes"`
		} `json:"components"`
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	refs := map[string]string{}
	for _, c := range doc.Components {
		refs[c.Ref] = c.Version
		if strings.HasPrefix(c.Ref, "pkg:pypi/") && (c.Purl != c.Ref || len(c.Hashes) != 1 || c.Hashes[0].Alg != "SHA-256" || len(c.Licenses) != 1) {
			t.Errorf("wheel component %+v", c)
		}
	}
	for _, want := range []string{"busybox", "python3", "linux", "systemd", "ironic-python-agent",
		"pkg:pypi/ironic-python-agent@11.1.0", "pkg:pypi/oslo.config@10.0.0", "pkg:pypi/pyudev@0.24.3"} {
		if _, ok := refs[want]; !ok {
			t.Errorf("no component %s (%d components)", want, len(refs))
		}
	}
	if refs["ironic-python-agent"] != series || refs["linux"] != "6.18.33" {
		t.Errorf("versions: ironic-python-agent %q, linux %q", refs["ironic-python-agent"], refs["linux"])
	}
	for _, d := range doc.Dependencies {
		if d.Ref == "ironic-python-agent" && !strings.Contains(strings.Join(d.DependsOn, " "), sbom.Purl("oslo.config", "10.0.0")) {
			t.Errorf("ironic-python-agent depends on %v", d.DependsOn)
		}
	}
	props := map[string]string{}
	for _, p := range doc.Metadata.Properties {
		props[p.Name] = p.Value
	}
	if props["ipabr:buildroot:pin"] != gitsub.DefaultPin || props["ipabr:buildroot:version"] != "2026.02.3" || props["ipabr:openstack-series"] != series {
		t.Errorf("metadata properties %v", props)
	}
	// (generate-cyclonedx's own version comes from git describe, which a
	// checkout without tags makes "-g<commit>": hence the property above.)
	if tools := doc.Metadata.Tools.Components; len(tools) != 2 || tools[0].Name != "Buildroot generate-cyclonedx" || tools[1].Name != "ipabr" {
		t.Errorf("tools %+v", tools)
	}
}
