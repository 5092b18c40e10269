// Package ci_test validates the CI recipes in doc/ci: both files parse as
// YAML, have the shape doc/farm.md describes, every ipabr command line in
// them is one ipabr accepts, their shell passes shellcheck, and the GitHub
// workflow passes actionlint.
package ci_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ipabr/ipabr/internal/app"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/term"
	"github.com/ipabr/ipabr/internal/testenv"
)

// actionlintVersion is run with `go run` from the Go module proxy.
const actionlintVersion = "v1.7.12"

func load(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", name, err)
	}
	return doc
}

// get walks a decoded YAML document by keys and list indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func strs(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// ipabrCall matches an ipabr command line inside shell text.
var ipabrCall = regexp.MustCompile(`\./ipabr((?: +[^ \n|>&;)]+)*)`)

// checkIpabrCalls runs every ipabr command line of script with --help in
// process: an unknown command or flag fails, so the recipes follow the CLI.
func checkIpabrCalls(t *testing.T, where, script string) int {
	t.Helper()
	n := 0
	for _, m := range ipabrCall.FindAllStringSubmatch(script, -1) {
		var args []string
		for _, f := range strings.Fields(m[1]) {
			f = strings.Trim(f, `"'`)
			if strings.ContainsAny(f, "${}") {
				f = "x" // a variable: any value will do for --help
			}
			args = append(args, f)
		}
		if len(args) == 0 {
			continue // `make ipabr` or a path
		}
		io, _, out, errOut := term.Test()
		code := app.Run(context.Background(), append(args, "--help"), app.Env{
			IO: io, Runner: processtest.New(t), Cwd: t.TempDir(),
		})
		if code != 0 || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%s: ipabr %s: exit %d\n%s%s", where, strings.Join(args, " "), code, out.String(), errOut.String())
		}
		n++
	}
	return n
}

func TestGitHubActionsWorkflow(t *testing.T) {
	doc := load(t, "github-actions.yml")
	job := get(t, doc, "jobs", "image")
	if series := strs(get(t, job, "strategy", "matrix", "series")); len(series) < 2 {
		t.Errorf("the matrix builds %v; want several series", series)
	}
	var runs, uses []string
	steps, _ := get(t, job, "steps").([]any)
	for i := range steps {
		if r, ok := get(t, steps, i, "run").(string); ok {
			runs = append(runs, r)
			checkIpabrCalls(t, "github-actions.yml step "+get(t, steps, i, "name").(string), r)
		}
		if u, ok := get(t, steps, i, "uses").(string); ok {
			uses = append(uses, u)
			if with, ok := get(t, steps, i, "with").(map[string]any); ok {
				if k, ok := with["key"].(string); ok {
					uses = append(uses, u+" key="+k)
				}
			}
		}
	}
	all := strings.Join(runs, "\n")
	for _, want := range []string{"cache-key --for dl", "cache-key --for ccache", "env --unique", "ipabr source", "build --offline", "sha256sum --check --strict SHA256SUMS",
		"qemu-utils", "ipabr qemu --check --json --inventory qemu-check/inventory-bios.json", "ipabr qemu --check --uefi --json --inventory qemu-check/inventory-uefi.json",
		"ipabr report --json --max-initramfs 60MB"} {
		if !strings.Contains(all, want) {
			t.Errorf("no step runs %q", want)
		}
	}
	keeps := false
	for i := range steps {
		if u, _ := get(t, steps, i, "uses").(string); strings.HasPrefix(u, "actions/upload-artifact@") &&
			get(t, steps, i, "if") == "always()" && get(t, steps, i, "with", "path") == "qemu-check/" {
			keeps = true
		}
	}
	if !keeps {
		t.Error("no step keeps qemu-check/ (the check's results and inventory), also on failure")
	}
	keepsReport := false
	for i := range steps {
		if u, _ := get(t, steps, i, "uses").(string); !strings.HasPrefix(u, "actions/upload-artifact@") {
			continue
		}
		path, _ := get(t, steps, i, "with", "path").(string)
		if get(t, steps, i, "if") == "always()" && strings.Contains(path, "${{ env.IPABR_OUTPUT }}/report/") && strings.Contains(path, "sbom.cdx.json") {
			keepsReport = true
		}
	}
	if !keepsReport {
		t.Error("no step keeps the report (<output>/report/) and the SBOM (images/sbom.cdx.json), also on failure")
	}
	u := strings.Join(uses, "\n")
	for _, want := range []string{
		"actions/cache/restore@v4 key=${{ steps.keys.outputs.dl }}",
		"actions/cache/save@v4 key=${{ steps.keys.outputs.dl }}",
		"actions/cache/restore@v4 key=${{ steps.keys.outputs.ccache }}",
		"actions/cache/save@v4 key=${{ steps.keys.outputs.ccache }}",
		"actions/upload-artifact@v4",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("no step uses %q", want)
		}
	}
	if env := get(t, job, "env", "IPABR_CCACHE_REMOTE_STORAGE"); env == nil {
		t.Error("the shared ccache remote is not passed to the jobs")
	}
}

func TestGitLabPipeline(t *testing.T) {
	doc := load(t, "gitlab-ci.yml")
	stages := map[string]bool{}
	for _, s := range strs(doc["stages"]) {
		stages[s] = true
	}
	jobs := map[string]map[string]any{}
	for name, v := range doc {
		if m, ok := v.(map[string]any); ok && m["script"] != nil {
			jobs[name] = m
		}
	}
	defaults, _ := doc["default"].(map[string]any)
	for name, job := range jobs {
		if !stages[job["stage"].(string)] {
			t.Errorf("job %s: stage %q is not in stages", name, job["stage"])
		}
		for _, need := range strs(job["needs"]) {
			if jobs[need] == nil {
				t.Errorf("job %s needs %q, which is no job", name, need)
			}
		}
		before := strs(defaults["before_script"])
		if b, ok := job["before_script"]; ok {
			before = strs(b)
		}
		script := strings.Join(append(before, strs(job["script"])...), "\n")
		checkIpabrCalls(t, "gitlab-ci.yml job "+name, script)
		shellcheck(t, "gitlab-ci.yml job "+name, script)
	}
	keys := jobs["cache-keys"]
	if keys == nil || get(t, keys, "artifacts", "reports", "dotenv") != "keys.env" {
		t.Fatal("no cache-keys job with a dotenv report")
	}
	script := strings.Join(strs(keys["script"]), "\n")
	img := jobs["image"]
	if img == nil {
		t.Fatal("no image job")
	}
	if series := strs(get(t, img, "parallel", "matrix", 0, "SERIES")); len(series) < 2 {
		t.Errorf("the matrix builds %v; want several series", series)
	}
	var cacheKeys []string
	caches, _ := img["cache"].([]any)
	for i := range caches {
		cacheKeys = append(cacheKeys, get(t, caches, i, "key").(string)+" "+strings.Join(strs(get(t, caches, i, "paths")), ","))
	}
	for _, want := range []struct{ variable, cmd, paths string }{{"IPABR_DL_KEY", "--for dl", "dl/"}, {"IPABR_CCACHE_KEY", "--for ccache", "ccache/"}} {
		if !strings.Contains(script, want.variable+"=$(./ipabr cache-key "+want.cmd+")") {
			t.Errorf("cache-keys does not set %s", want.variable)
		}
		if !strings.Contains(strings.Join(cacheKeys, "\n"), "$"+want.variable+"-$SERIES "+want.paths) {
			t.Errorf("no cache of %s keyed by $%s: %v", want.paths, want.variable, cacheKeys)
		}
	}
	if paths := strings.Join(strs(get(t, img, "artifacts", "paths")), " "); !strings.Contains(paths, "images/") || !strings.Contains(paths, "qemu-check/") || !strings.Contains(paths, "report/") {
		t.Errorf("the image job keeps %s; want images/ (with sbom.cdx.json), report/ and qemu-check/", paths)
	}
	if get(t, img, "artifacts", "when") != "always" {
		t.Error("the image job does not keep its artifacts when the check fails")
	}
	imgScript := strings.Join(strs(img["script"]), "\n")
	for _, want := range []string{`cp -a "$IPABR_OUTPUT/report/." "report/$SERIES/"`, `./ipabr report --json --max-initramfs 60MB > "report/$SERIES/report.json"`,
		"qemu-utils", `./ipabr qemu --check --json --inventory "qemu-check/$SERIES/inventory-bios.json"`, `./ipabr qemu --check --uefi --json --inventory "qemu-check/$SERIES/inventory-uefi.json"`} {
		if !strings.Contains(imgScript, want) {
			t.Errorf("the image job does not run %q", want)
		}
	}
}

// shellcheck checks a job's shell lines as one bash script.
func shellcheck(t *testing.T, where, script string) {
	t.Helper()
	sc := testenv.Program(t, "shellcheck", "shellcheck")
	cmd := exec.Command(sc, "--shell=bash", "--severity=warning", "-")
	cmd.Stdin = strings.NewReader(script + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: shellcheck: %v\n%s\n--- script ---\n%s", where, err, out, script)
	}
}

// TestActionlint runs actionlint, built from the Go module proxy at a pinned
// version (it uses shellcheck for run: steps when that is installed).
func TestActionlint(t *testing.T) {
	goBin := testenv.Program(t, "actionlint", "go")
	mod := "github.com/rhysd/actionlint/cmd/actionlint@" + actionlintVersion
	if out, err := exec.Command(goBin, "run", mod, "-version").CombinedOutput(); err != nil {
		testenv.Skip(t, "actionlint", "cannot build "+mod+" (no Go module proxy?): "+strings.TrimSpace(lastLine(string(out))))
	}
	out, err := exec.Command(goBin, "run", mod, "-no-color", "github-actions.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("actionlint github-actions.yml: %v\n%s", err, out)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
