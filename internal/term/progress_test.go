package term

import (
	"bytes"
	"testing"
)

func TestRemoteProgressOffTerminalKeepsFinishedLines(t *testing.T) {
	var b bytes.Buffer
	w := RemoteProgress(&b, false, "remote: ")
	for _, chunk := range []string{"Counting objects:  50% (1/2)\r", "Counting objects: 100% (2/2), done.\n", "Total 2 (delta 0)\n"} {
		_, _ = w.Write([]byte(chunk))
	}
	want := "remote: Counting objects: 100% (2/2), done.\nremote: Total 2 (delta 0)\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func TestRemoteProgressOnTerminalRewritesLine(t *testing.T) {
	var b bytes.Buffer
	w := RemoteProgress(&b, true, "")
	_, _ = w.Write([]byte("Receiving 1/2\rReceiving 2/2\n"))
	want := "\rReceiving 1/2\x1b[K\rReceiving 2/2\x1b[K\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}
