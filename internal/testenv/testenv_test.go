package testenv

import (
	"os"
	"testing"
)

func TestEnvReturnsValue(t *testing.T) {
	t.Setenv("IPABR_TESTENV_PROBE", "x")
	if got := Env(t, "probe", "IPABR_TESTENV_PROBE"); got != "x" {
		t.Fatalf("Env = %q", got)
	}
}

func TestProgramFindsShell(t *testing.T) {
	if Program(t, "probe", "sh") == "" {
		t.Fatal("sh not found")
	}
	_ = os.Getenv
}
