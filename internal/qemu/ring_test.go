package qemu

import (
	"fmt"
	"strings"
	"testing"
)

func TestRingKeepsLastLines(t *testing.T) {
	r := NewRing(3)
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(r, "line %d\n", i)
	}
	if got := strings.Join(r.Lines(), "|"); got != "line 8|line 9|line 10" {
		t.Fatalf("Lines = %q", got)
	}
	// An unfinished line counts, and is completed by later writes.
	_, _ = r.Write([]byte("par"))
	if got := strings.Join(r.Lines(), "|"); got != "line 9|line 10|par" {
		t.Fatalf("Lines with partial = %q", got)
	}
	_, _ = r.Write([]byte("tial\nx"))
	if got := strings.Join(r.Lines(), "|"); got != "line 10|partial|x" {
		t.Fatalf("Lines after completing = %q", got)
	}
}

func TestRingCleansTerminalControl(t *testing.T) {
	r := NewRing(10)
	// OVMF clears the screen; consoles end lines with \r\n and colour text;
	// sequences may be split across writes.
	for _, chunk := range []string{"\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J", "\x1b[01;01HBdsDxe: loading\r\n", "\x1b[0;3", "2mOK\x1b[0m done\x07\r\n", "\n\n"} {
		_, _ = r.Write([]byte(chunk))
	}
	if got := strings.Join(r.Lines(), "|"); got != "BdsDxe: loading|OK done" {
		t.Fatalf("Lines = %q", got)
	}
}

func TestRingIsSafeForConcurrentUse(t *testing.T) {
	r := NewRing(50)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				fmt.Fprintf(r, "line %d\n", i)
				_ = r.Lines()
			}
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	if n := len(r.Lines()); n != 50 {
		t.Fatalf("kept %d lines, want 50", n)
	}
}
