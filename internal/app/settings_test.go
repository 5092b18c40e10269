package app

import (
	"os"
	"regexp"
	"testing"

	"github.com/ipabr/ipabr/internal/config"
)

// TestEveryKeyIsApplied: testdata/script/settings_apply.txtar (run by
// TestScripts) shows each key of the settings table changing what a
// command does when only ipabr.yaml sets it; a key without its section
// there fails here.
func TestEveryKeyIsApplied(t *testing.T) {
	data, err := os.ReadFile("testdata/script/settings_apply.txtar")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# key: (\S+)$`).FindAllStringSubmatch(string(data), -1) {
		sections[m[1]] = true
	}
	known := map[string]bool{}
	for _, s := range config.Table {
		known[s.Key] = true
		if !sections[s.Key] {
			t.Errorf("settings_apply.txtar has no section showing the key %s applied", s.Key)
		}
	}
	for k := range sections {
		if !known[k] {
			t.Errorf("settings_apply.txtar shows %s, which is not a key of the settings table", k)
		}
	}
}
