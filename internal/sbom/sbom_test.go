package sbom_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/sbom"
	"github.com/ipabr/ipabr/internal/sbom/sbomtest"
	"github.com/ipabr/ipabr/internal/testenv"
)

// testWheels are the lock's wheels: an SPDX id, an SPDX expression, a
// license name, none, and a version purls must escape.
var testWheels = []ipa.Wheel{
	{Name: "ironic-python-agent", Version: "11.1.0", License: "Apache-2.0"},
	{Name: "cryptography", Version: "46.0.3", License: "Apache-2.0 OR BSD-3-Clause"},
	{Name: "oslo.config", Version: "10.0.0", License: "Apache Software License"},
	{Name: "Paste_Deploy", Version: "3.1.0+ipa", License: "unknown"},
}

// fakeProject is the fake Buildroot configured with ironic-python-agent
// enabled for series 2026.1, and that series' lock in the external tree.
func fakeProject(t *testing.T) sbom.Input {
	t.Helper()
	testenv.Program(t, "hermetic", "make")
	testenv.Program(t, "hermetic", "python3")
	root := t.TempDir()
	m := buildroot.Make{Buildroot: filepath.Join(root, "buildroot"), External: filepath.Join(root, "ext"),
		Output: filepath.Join(root, "output"), DL: filepath.Join(root, "dl"), CCache: filepath.Join(root, "ccache")}
	if err := testenv.CopyFakeBuildroot(m.Buildroot); err != nil {
		t.Fatal(err)
	}
	if err := testenv.MakeExternalTree(m.External, "IPA", "", map[string]string{"ipa_defconfig": "BR2_x86_64=y\n" +
		`BR2_FAKE_PACKAGES="host-skeleton skeleton busybox python3 ironic-python-agent rootfs-cpio"` + "\n"}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(ipa.PackageDir(m.External), 0o755); err != nil {
		t.Fatal(err)
	}
	lock := &ipa.Lock{Series: "2026.1", Created: time.Unix(1767225600, 0), Target: ipa.Target{Python: "3.14", Glibc: "2.42"},
		Index: "https://pypi.example/simple", IPAVersion: "11.1.0"}
	for i, w := range testWheels {
		w.Filename = strings.ReplaceAll(w.Name, "-", "_") + "-" + strings.ReplaceAll(w.Version, "+", "_") + "-py3-none-any.whl"
		w.URL = "https://files.example/" + w.Filename
		w.SHA256 = strings.Repeat(string(rune('a'+i)), 64)
		w.Size = 1000
		lock.Wheels = append(lock.Wheels, w)
	}
	if err := lock.Write(m.External); err != nil {
		t.Fatal(err)
	}
	if _, err := process.Output(context.Background(), process.OS{}, m.QuietCmd("ipa_defconfig")); err != nil {
		t.Fatal(err)
	}
	cfg, err := buildroot.ReadConfigFile(filepath.Join(m.Output, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Values[ipa.EnableSymbol] = "y"
	cfg.Values[ipa.SeriesSymbol] = "2026.1"
	if err := sbomtest.InstallSPDX(m.DL, "1.6"); err != nil {
		t.Fatal(err)
	}
	return sbom.Input{Make: m, Root: root, Config: cfg, IpabrVersion: "v1.2.3", Now: time.Unix(1767225600, 0)}
}

type component struct {
	Ref      string `json:"bom-ref"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Purl     string `json:"purl"`
	Licenses []struct {
		License    struct{ ID, Name string } `json:"license"`
		Expression string                    `json:"expression"`
	} `json:"licenses"`
	Hashes []struct{ Alg, Content string } `json:"hashes"`
}

type bom struct {
	SpecVersion string `json:"specVersion"`
	Metadata    struct {
		Timestamp string `json:"timestamp"`
		Tools     struct {
			Components []struct{ Name, Version string } `json:"components"`
		} `json:"tools"`
		Properties []struct{ Name, Value string } `json:"properties"`
	} `json:"metadata"`
	Components   []component `json:"components"`
	Dependencies []struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	} `json:"dependencies"`
}

func TestGenerate(t *testing.T) {
	in := fakeProject(t)
	res, err := sbom.Generate(context.Background(), process.OS{}, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := sbomtest.Validate(res.JSON); err != nil {
		t.Fatalf("not valid CycloneDX: %v\n%s", err, res.JSON)
	}
	var b bom
	if err := json.Unmarshal(res.JSON, &b); err != nil {
		t.Fatal(err)
	}
	byRef := map[string]component{}
	for _, c := range b.Components {
		byRef[c.Ref] = c
	}
	for _, want := range []string{"busybox", "python3", "ironic-python-agent", "host-skeleton"} {
		if _, ok := byRef[want]; !ok {
			t.Errorf("no Buildroot component %s", want)
		}
	}
	wantLicense := map[string]string{
		"pkg:pypi/ironic-python-agent@11.1.0": "id Apache-2.0",
		"pkg:pypi/cryptography@46.0.3":        "expression Apache-2.0 OR BSD-3-Clause",
		"pkg:pypi/oslo.config@10.0.0":         "name Apache Software License",
		"pkg:pypi/paste-deploy@3.1.0%2Bipa":   "",
	}
	for i, w := range testWheels {
		purl := sbom.Purl(w.Name, w.Version)
		c, ok := byRef[purl]
		if !ok {
			t.Errorf("no component %s", purl)
			continue
		}
		var lic string
		for _, l := range c.Licenses {
			switch {
			case l.Expression != "":
				lic = "expression " + l.Expression
			case l.License.ID != "":
				lic = "id " + l.License.ID
			default:
				lic = "name " + l.License.Name
			}
		}
		if want, ok := wantLicense[purl]; !ok || lic != want {
			t.Errorf("%s: license %q, want %q", purl, lic, want)
		}
		if c.Purl != purl || c.Name != w.Name || c.Version != w.Version || len(c.Hashes) != 1 ||
			c.Hashes[0].Alg != "SHA-256" || c.Hashes[0].Content != strings.Repeat(string(rune('a'+i)), 64) {
			t.Errorf("wheel component %+v", c)
		}
	}
	var agentDeps []string
	refs := map[string]bool{}
	for _, d := range b.Dependencies {
		refs[d.Ref] = true
		if d.Ref == "ironic-python-agent" {
			agentDeps = d.DependsOn
		}
	}
	for _, w := range testWheels {
		purl := sbom.Purl(w.Name, w.Version)
		if !strings.Contains(strings.Join(agentDeps, " "), purl) || !refs[purl] {
			t.Errorf("ironic-python-agent does not depend on %s: %v", purl, agentDeps)
		}
	}
	props := map[string]string{}
	for _, p := range b.Metadata.Properties {
		props[p.Name] = p.Value
	}
	if props["ipabr:version"] != "v1.2.3" || props["ipabr:buildroot:version"] != "2026.02.3-fake" || props["ipabr:openstack-series"] != "2026.1" ||
		props["ipabr:ipa:version"] != "11.1.0" || len(props["ipabr:buildroot:pin"]) != 0 && len(props["ipabr:buildroot:pin"]) != 40 {
		t.Errorf("metadata properties %v", props)
	}
	tools := b.Metadata.Tools.Components
	if len(tools) != 2 || tools[0].Name != "Buildroot generate-cyclonedx" || tools[1].Name != "ipabr" || tools[1].Version != "v1.2.3" {
		t.Errorf("tools %+v", tools)
	}
	if b.Metadata.Timestamp != "2026-01-01T00:00:00Z" || res.Wheels != 4 || res.Series != "2026.1" || res.Components != len(b.Components) || len(res.Notes) != 0 {
		t.Errorf("timestamp %s, result %+v", b.Metadata.Timestamp, res)
	}
}

// The validator rejects what the schema does not allow.
func TestValidateRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown SPDX id":  `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","licenses":[{"license":{"id":"Not-A-License"}}]}]}`,
		"unknown property": `{"bomFormat":"CycloneDX","specVersion":"1.6","colour":"red"}`,
		"no schema":        `{"bomFormat":"CycloneDX","specVersion":"9.9"}`,
	} {
		if err := sbomtest.Validate([]byte(doc)); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
	if err := sbomtest.Validate([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","licenses":[{"license":{"id":"MIT"}}]}]}`)); err != nil {
		t.Errorf("a valid document: %v", err)
	}
}

// Without a lock the SBOM has Buildroot's packages and says why it has no
// wheels; a failing generate-cyclonedx is an error naming it.
func TestGenerateWithoutLockAndFailure(t *testing.T) {
	in := fakeProject(t)
	in.Config.Values[ipa.SeriesSymbol] = "2025.2"
	res, err := sbom.Generate(context.Background(), process.OS{}, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Wheels != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "series 2025.2 has no lock yet (ipabr ipa lock --release 2025.2)") {
		t.Errorf("result %+v", res)
	}
	if err := sbomtest.Validate(res.JSON); err != nil {
		t.Error(err)
	}

	if err := os.WriteFile(filepath.Join(in.Make.Buildroot, "utils", "generate-cyclonedx"), []byte("#!/bin/sh\necho 'urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = sbom.Generate(context.Background(), process.OS{}, in)
	if !errors.Is(err, sbom.ErrGenerate) || !strings.Contains(err.Error(), "Temporary failure in name resolution") || !strings.Contains(err.Error(), filepath.Join(in.Make.DL, "cyclonedx")) {
		t.Errorf("err = %v", err)
	}
}

func TestPurl(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"oslo.config", "10.0.0"}:      "pkg:pypi/oslo.config@10.0.0",
		{"Paste_Deploy", "3.1.0+ipa"}:  "pkg:pypi/paste-deploy@3.1.0%2Bipa",
		{"ironic-python-agent", "1!2"}: "pkg:pypi/ironic-python-agent@1%212",
	} {
		if got := sbom.Purl(in[0], in[1]); got != want {
			t.Errorf("Purl(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
