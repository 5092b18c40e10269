// Command testreport condenses `go test -json` for people and CI: package
// results, the visible SKIP lines of missing test tiers, the whole output of
// failing tests, and a closing "N passed, N failed, N skipped" line.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	outputs := map[string][]string{} // package/test → output lines
	var passed, failed, skipped int
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // build errors and the like
			continue
		}
		key := e.Package + "/" + e.Test
		switch e.Action {
		case "output":
			// testenv prints "SKIP tier: reason" unindented; t.Skip's own
			// lines are indented and stay hidden.
			if strings.HasPrefix(e.Output, "SKIP ") {
				fmt.Print(e.Output)
			}
			outputs[key] = append(outputs[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				if e.Action == "fail" {
					fmt.Print(strings.Join(outputs[key], ""))
				}
				fmt.Printf("%-4s %s (%.1fs)\n", map[string]string{"pass": "ok", "fail": "FAIL", "skip": "ok"}[e.Action], e.Package, e.Elapsed)
				delete(outputs, key)
				continue
			}
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				fmt.Print(strings.Join(outputs[key], ""))
			case "skip":
				skipped++
			}
			delete(outputs, key)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		os.Exit(1)
	}
}
