//go:build unix

package testenv

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/sbom/sbomtest"
)

// keys lists a JSON object's keys, sorted.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Real Buildroot's utils/generate-cyclonedx and the fake's, on the same
// show-info, write valid CycloneDX of the same shape: the same keys at
// the top, in the metadata and in each component, the same components
// with the same versions and licenses.
func TestFakeGenerateCycloneDXConformance(t *testing.T) {
	top := UpstreamCheckout(t)
	Program(t, "upstream", "python3")
	e := newFakeEnv(t)
	e.configure()
	info := e.mustMake("-s", "show-info").Stdout
	in := filepath.Join(t.TempDir(), "show-info.json")
	if err := os.WriteFile(in, []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sbomtest.InstallSPDX(e.DL, "1.6"); err != nil {
		t.Fatal(err)
	}
	var docs [2]map[string]any
	for i, tree := range []string{top, e.Top} {
		cmd := exec.Command(filepath.Join(tree, "utils", "generate-cyclonedx"), "-i", in, "--project-name", "ipa")
		cmd.Env = makeEnviron("BR2_DL_DIR=" + e.DL)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s/utils/generate-cyclonedx: %v", tree, err)
		}
		if err := sbomtest.Validate(out); err != nil {
			t.Errorf("%s/utils/generate-cyclonedx: %v", tree, err)
		}
		if err := json.Unmarshal(out, &docs[i]); err != nil {
			t.Fatal(err)
		}
	}
	real, fake := docs[0], docs[1]
	if r, f := keys(real), keys(fake); !slices.Equal(r, f) {
		t.Errorf("top-level keys: real %q, fake %q", r, f)
	}
	if r, f := keys(real["metadata"]), keys(fake["metadata"]); !slices.Equal(r, f) {
		t.Errorf("metadata keys: real %q, fake %q", r, f)
	}
	comps := func(doc map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		list, _ := doc["components"].([]any)
		for _, c := range list {
			m := c.(map[string]any)
			out[m["bom-ref"].(string)] = m
		}
		return out
	}
	rc, fc := comps(real), comps(fake)
	var names []string
	for name, r := range rc {
		names = append(names, name)
		f, ok := fc[name]
		if !ok {
			t.Errorf("the fake has no component %s", name)
			continue
		}
		if rk, fk := keys(r), keys(f); !slices.Equal(rk, fk) {
			t.Errorf("%s: keys real %q, fake %q", name, rk, fk)
		}
		for _, k := range []string{"name", "version", "type"} {
			if r[k] != f[k] {
				t.Errorf("%s: %s real %v, fake %v", name, k, r[k], f[k])
			}
		}
		rl, _ := json.Marshal(r["licenses"])
		fl, _ := json.Marshal(f["licenses"])
		if string(rl) != string(fl) {
			t.Errorf("%s: licenses real %s, fake %s", name, rl, fl)
		}
	}
	if len(rc) != len(fc) || !strings.Contains(strings.Join(names, " "), "busybox") {
		t.Errorf("components: real %v, fake %d", names, len(fc))
	}
}
