// Package sbom makes a CycloneDX SBOM of a configured output directory:
// Buildroot's own utils/generate-cyclonedx on `make show-info` (which needs
// a configuration, not a build), plus each wheel of the agent's lock as a
// pkg:pypi component with its sha256 and license, and the Buildroot pin
// and ipabr version in the metadata. Nothing here prints.
package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/ipa"
	"github.com/ipabr/ipabr/internal/process"
)

// File is the SBOM `ipabr build` writes beside the images.
const File = "sbom.cdx.json"

// Input is what an SBOM is made of.
type Input struct {
	Make         buildroot.Make    // the output directory's make
	Root         string            // the project root, for the Buildroot pin
	Config       *buildroot.Config // the output's .config
	IpabrVersion string
	Now          time.Time
}

// Result is the SBOM and what went into it.
type Result struct {
	JSON       []byte
	Components int      // Buildroot's packages and the wheels
	Wheels     int      // the wheels among them
	Series     string   // the agent's OpenStack series ("" when the package is off)
	Notes      []string // what is missing from it, and why
}

// ErrGenerate marks a failure of Buildroot's generate-cyclonedx.
var ErrGenerate = errors.New("utils/generate-cyclonedx (Buildroot's) failed")

// Generate makes the SBOM.
func Generate(ctx context.Context, r process.Runner, in Input) (*Result, error) {
	info, err := process.Output(ctx, r, in.Make.QuietCmd("show-info"))
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp("", "ipabr-show-info-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(info); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	gen := process.Cmd{
		Name: filepath.Join(in.Make.Buildroot, "utils", "generate-cyclonedx"),
		Args: []string{"-i", tmp.Name(), "--project-name", "openstack-ipa-ramdisk"},
		// It caches the SPDX license list in $BR2_DL_DIR/cyclonedx/.
		Env:   []string{"BR2_DL_DIR=" + in.Make.DL},
		Unset: []string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS"},
	}
	text, err := process.Output(ctx, r, gen)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v (it downloads the SPDX license list into %s once; on a machine without network, copy spdx-1.6.schema.json there)",
			ErrGenerate, err, filepath.Join(in.Make.DL, "cyclonedx"))
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var bom map[string]any
	if err := dec.Decode(&bom); err != nil {
		return nil, fmt.Errorf("%w: its output is not JSON: %v", ErrGenerate, err)
	}
	res := &Result{}
	lock, err := agentLock(in, res)
	if err != nil {
		return nil, err
	}
	spdx := readSPDX(filepath.Join(in.Make.DL, "cyclonedx", "spdx-"+fmt.Sprint(bom["specVersion"])+".schema.json"))
	if lock != nil {
		addWheels(bom, lock, spdx)
		res.Wheels = len(lock.Wheels)
	}
	addMetadata(bom, in, res.Series, lock)
	if cs, ok := bom["components"].([]any); ok {
		res.Components = len(cs)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bom); err != nil {
		return nil, err
	}
	res.JSON = b.Bytes()
	return res, nil
}

// agentLock reads the lock of the configured series, if the agent is on.
func agentLock(in Input, res *Result) (*ipa.Lock, error) {
	if in.Config == nil || !in.Config.Enabled(ipa.EnableSymbol) {
		return nil, nil
	}
	res.Series = in.Config.Values[ipa.SeriesSymbol]
	if err := ipa.ValidateSeries(res.Series); err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("no wheels: %v", err))
		return nil, nil
	}
	if !ipa.HasLock(in.Make.External, res.Series) {
		res.Notes = append(res.Notes, fmt.Sprintf("no wheels: OpenStack series %s has no lock yet (%s)", res.Series, ipa.LockCommand(res.Series, "", "", nil)))
		return nil, nil
	}
	lock, err := ipa.ReadLock(in.Make.External, res.Series)
	if err != nil {
		return nil, fmt.Errorf("reading the lock of %s: %v", res.Series, err)
	}
	return lock, nil
}

// Purl is the package URL of a PyPI distribution: the name lowercased
// with "_" as "-" (the purl specification's rule for pypi), both parts
// percent-encoded.
func Purl(name, version string) string {
	return "pkg:pypi/" + purlEscape(strings.ReplaceAll(strings.ToLower(name), "_", "-")) + "@" + purlEscape(version)
}

func purlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// addWheels adds each locked wheel as a component the agent's package
// depends on.
func addWheels(bom map[string]any, lock *ipa.Lock, spdx map[string]bool) {
	components, _ := bom["components"].([]any)
	var refs []any
	for _, w := range lock.Wheels {
		purl := Purl(w.Name, w.Version)
		c := map[string]any{
			"bom-ref": purl,
			"type":    "library",
			"name":    w.Name,
			"version": w.Version,
			"purl":    purl,
			"hashes":  []any{map[string]any{"alg": "SHA-256", "content": w.SHA256}},
			"properties": []any{
				map[string]any{"name": "ipabr:wheel", "value": w.Filename},
				map[string]any{"name": "ipabr:openstack-series", "value": lock.Series},
			},
		}
		if l := licenses(w.License, spdx); l != nil {
			c["licenses"] = l
		}
		if strings.HasPrefix(w.URL, "https://") || strings.HasPrefix(w.URL, "http://") {
			c["externalReferences"] = []any{map[string]any{"type": "distribution", "url": w.URL}}
		}
		components = append(components, c)
		refs = append(refs, purl)
	}
	bom["components"] = components
	deps, _ := bom["dependencies"].([]any)
	for _, d := range deps {
		if m, ok := d.(map[string]any); ok && m["ref"] == ipa.Package {
			on, _ := m["dependsOn"].([]any)
			m["dependsOn"] = append(on, refs...)
		}
	}
	for _, ref := range refs {
		deps = append(deps, map[string]any{"ref": ref, "dependsOn": []any{}})
	}
	bom["dependencies"] = deps
}

// licenses is a wheel's license in CycloneDX: an SPDX id, an SPDX
// expression of known ids, else a name; nil for none.
func licenses(l string, spdx map[string]bool) []any {
	l = strings.TrimSpace(l)
	if l == "" || strings.EqualFold(l, "unknown") {
		return nil
	}
	if spdx[l] {
		return []any{map[string]any{"license": map[string]any{"id": l}}}
	}
	if isExpression(l, spdx) {
		return []any{map[string]any{"expression": l}}
	}
	return []any{map[string]any{"license": map[string]any{"name": l}}}
}

// isExpression tells an SPDX license expression ("MIT OR Apache-2.0")
// from a license name: operators between known ids only.
func isExpression(l string, spdx map[string]bool) bool {
	operators := 0
	for _, f := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(l)) {
		switch {
		case f == "AND" || f == "OR" || f == "WITH":
			operators++
		case spdx[strings.TrimSuffix(f, "+")] || strings.HasPrefix(f, "LicenseRef-"):
		default:
			return false
		}
	}
	return operators > 0
}

// readSPDX reads the SPDX license ids of a CycloneDX spdx schema (the one
// generate-cyclonedx cached); none when it is missing.
func readSPDX(path string) map[string]bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var schema struct {
		Enum []string `json:"enum"`
	}
	if json.Unmarshal(data, &schema) != nil {
		return nil
	}
	ids := map[string]bool{}
	for _, id := range schema.Enum {
		ids[id] = true
	}
	return ids
}

// addMetadata records ipabr as a tool, the time, and the Buildroot pin,
// the OpenStack series and IPA's version as properties.
func addMetadata(bom map[string]any, in Input, series string, lock *ipa.Lock) {
	meta, _ := bom["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		bom["metadata"] = meta
	}
	meta["timestamp"] = in.Now.UTC().Format(time.RFC3339)
	tools, _ := meta["tools"].(map[string]any)
	if tools == nil {
		tools = map[string]any{}
		meta["tools"] = tools
	}
	tc, _ := tools["components"].([]any)
	tools["components"] = append(tc, map[string]any{"type": "application", "name": "ipabr", "version": in.IpabrVersion})

	pin := gitsub.Head(in.Make.Buildroot)
	if sub, err := gitsub.Read(in.Root); err == nil {
		pin = sub.Commit.String()
	}
	props := []any{map[string]any{"name": "ipabr:version", "value": in.IpabrVersion}}
	add := func(name, value string) {
		if value != "" {
			props = append(props, map[string]any{"name": name, "value": value})
		}
	}
	add("ipabr:buildroot:pin", pin)
	if v, err := buildroot.Version(in.Make.Buildroot); err == nil {
		add("ipabr:buildroot:version", v)
	}
	add("ipabr:openstack-series", series)
	if lock != nil {
		add("ipabr:ipa:version", lock.IPAVersion)
		add("ipabr:ipa:source", lock.IPASource())
	}
	old, _ := meta["properties"].([]any)
	meta["properties"] = append(old, props...)
}
