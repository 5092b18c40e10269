package term

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func fakeClock() func() time.Time {
	t := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(65 * time.Second); return t }
}

func TestStatusLineOffTerminal(t *testing.T) {
	var b bytes.Buffer
	s := NewStatusLine(&b, false, fakeClock())
	s.Set(1, 12, "busybox 1.37.0 Building")
	s.Tick()
	s.Clear()
	got := b.String()
	if got != "10:02:10 [ 1/12] busybox 1.37.0 Building\n" {
		t.Fatalf("got %q", got)
	}
	if strings.Contains(got, "\x1b") {
		t.Fatal("escape codes off a terminal")
	}
}

func TestStatusLineOnTerminal(t *testing.T) {
	var b bytes.Buffer
	s := NewStatusLine(&b, true, fakeClock())
	s.Set(3, 0, "linux 6.18.33 Configuring")
	s.Clear()
	if got := b.String(); got != "\r\x1b[K[3] linux 6.18.33 Configuring  01:05\r\x1b[K" {
		t.Fatalf("got %q", got)
	}
}
