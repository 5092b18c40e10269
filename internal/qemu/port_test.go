package qemu

import (
	"net"
	"strconv"
	"testing"
)

func itoa(i int) string { return strconv.Itoa(i) }

func TestChoosePort(t *testing.T) {
	free, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if p, moved, err := ChoosePort(free); err != nil || moved || p != free {
		t.Fatalf("ChoosePort(free %d) = %d, %v, %v", free, p, moved, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	if PortFree(taken) {
		t.Fatalf("port %d is held but reported free", taken)
	}
	p, moved, err := ChoosePort(taken)
	if err != nil || !moved || p == taken || !PortFree(p) {
		t.Fatalf("ChoosePort(taken %d) = %d, %v, %v", taken, p, moved, err)
	}
}
