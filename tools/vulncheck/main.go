// Command vulncheck runs govulncheck against a vulnerability database built
// locally from the golang.org/x/vulndb module (the OSV files it ships), so
// the check needs the Go module proxy but not vuln.go.dev:
//
//	go run ./tools/vulncheck -vulndb VERSION -govulncheck VERSION [-strict] [packages]
//
// The database is built once per vulndb version with vulndb's own indexdb
// command and kept under $XDG_CACHE_HOME/ipabr-vulndb/. A vulnerability the
// code calls in a required module fails the check (exit 1): `go get` fixes
// it. One in the standard library is reported with the Go release that fixes
// it and fails only with -strict, since the fix is a newer toolchain than
// the machine's (doc/farm.md).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

func main() {
	vulndb := flag.String("vulndb", "", "golang.org/x/vulndb module version")
	scanner := flag.String("govulncheck", "", "golang.org/x/vuln version (govulncheck)")
	strict := flag.Bool("strict", false, "fail on called standard-library vulnerabilities too")
	flag.Parse()
	if *vulndb == "" || *scanner == "" {
		fmt.Fprintln(os.Stderr, "usage: vulncheck -vulndb VERSION -govulncheck VERSION [-strict] [packages]")
		os.Exit(2)
	}
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	db, err := ensureDB(*vulndb)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck: building the vulnerability database:", err)
		os.Exit(1)
	}
	args := append([]string{"run", "golang.org/x/vuln/cmd/govulncheck@" + *scanner, "-db", "file://" + db, "-format", "json"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		fmt.Fprintln(os.Stderr, "vulncheck: govulncheck:", err)
		os.Exit(1)
	}
	findings, summaries, err := parse(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
	fail := report(findings, summaries, *vulndb, *strict)
	if fail {
		os.Exit(1)
	}
}

// ensureDB returns the database directory for the vulndb version, building
// it when it is not there yet.
func ensureDB(version string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "ipabr-vulndb", version)
	if _, err := os.Stat(filepath.Join(dir, "index", "db.json")); err == nil {
		return dir, nil
	}
	var mod struct{ Dir, Error string }
	out, err := exec.Command("go", "mod", "download", "-json", "golang.org/x/vulndb@"+version).Output()
	if err != nil && len(out) == 0 {
		return "", fmt.Errorf("go mod download golang.org/x/vulndb@%s: %v", version, err)
	}
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download golang.org/x/vulndb@%s: %s %v", version, mod.Error, err)
	}
	osv := filepath.Join(mod.Dir, "data", "osv")
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "vulncheck: building the database from golang.org/x/vulndb@%s (%s)\n", version, osv)
	build := exec.Command("go", "run", "golang.org/x/vulndb/cmd/indexdb@"+version, "-vulns", osv, "-out", tmp)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("indexdb: %v", err)
	}
	os.RemoveAll(dir)
	return dir, os.Rename(tmp, dir)
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

// parse reads govulncheck's JSON stream: called findings (a trace down to
// a function) by OSV id, and each OSV's summary.
func parse(out []byte) (map[string][]finding, map[string]string, error) {
	findings := map[string][]finding{}
	summaries := map[string]string{}
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(out)))
	for dec.More() {
		var msg struct {
			OSV *struct {
				ID      string `json:"id"`
				Summary string `json:"summary"`
			} `json:"osv"`
			Finding *finding `json:"finding"`
		}
		if err := dec.Decode(&msg); err != nil {
			return nil, nil, fmt.Errorf("reading govulncheck's output: %v", err)
		}
		if msg.OSV != nil {
			summaries[msg.OSV.ID] = msg.OSV.Summary
		}
		if f := msg.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			findings[f.OSV] = append(findings[f.OSV], *f)
		}
	}
	return findings, summaries, nil
}

func report(findings map[string][]finding, summaries map[string]string, vulndb string, strict bool) bool {
	ids := make([]string, 0, len(findings))
	for id := range findings {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var inModules, inStdlib int
	for _, id := range ids {
		f := findings[id][0]
		top := f.Trace[0]
		where := top.Module + "@" + top.Version
		fix := "no fix yet"
		if f.FixedVersion != "" {
			fix = "fixed in " + f.FixedVersion
		}
		caller := f.Trace[len(f.Trace)-1]
		kind := "module"
		if top.Module == "stdlib" {
			kind = "stdlib"
			inStdlib++
		} else {
			inModules++
		}
		fmt.Printf("%s [%s] %s: %s, %s; reached from %s.%s\n", id, kind, where, summaries[id], fix, caller.Package, caller.Function)
	}
	fmt.Printf("govulncheck (database golang.org/x/vulndb@%s): %d called vulnerabilities in required modules, %d in the standard library\n", vulndb, inModules, inStdlib)
	if inStdlib > 0 && !strict {
		fmt.Println("the standard-library ones are fixed by a newer Go toolchain than this machine's; they do not fail the check without -strict (doc/farm.md)")
	}
	return inModules > 0 || (strict && inStdlib > 0)
}

func init() {
	// Keep `go run` of the helpers quiet about toolchain switching.
	if os.Getenv("GOTOOLCHAIN") == "" {
		os.Setenv("GOTOOLCHAIN", "local")
	}
}
