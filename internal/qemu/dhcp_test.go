package qemu

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/dhcp.pcap is QEMU 7.2's filter-dump of a guest (the boot-tier
// fixture, MAC 52:54:00:12:34:56) getting its address from QEMU's DHCP
// server: discover, offer, request, acknowledgement, and IPv6 chatter.
func readCapture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/dhcp.pcap")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDHCPWatchFindsTheAck(t *testing.T) {
	capture := readCapture(t)
	var w DHCPWatch
	l, err := w.Feed(capture)
	if err != nil || l == nil {
		t.Fatalf("lease %v, err %v", l, err)
	}
	if l.IP.String() != "10.0.2.15" || l.MAC.String() != "52:54:00:12:34:56" {
		t.Fatalf("lease %s for %s", l.IP, l.MAC)
	}
	// The offer (same size, same ports) is not the acknowledgement: cut the
	// capture before the acknowledgement's record and nothing is found.
	ack := bytes.LastIndex(capture, []byte{0x63, 0x82, 0x53, 0x63, 53, 1, 5})
	var early DHCPWatch
	if l, err := early.Feed(capture[:ack]); l != nil || err != nil {
		t.Fatalf("before the ack: %v %v", l, err)
	}
}

// QEMU appends as packets pass; Poll reads what is new each time, and a
// capture that does not exist yet is no error.
func TestDHCPWatchPollsAGrowingFile(t *testing.T) {
	capture := readCapture(t)
	path := filepath.Join(t.TempDir(), "net.pcap")
	w := DHCPWatch{Path: path}
	if l, err := w.Poll(); l != nil || err != nil {
		t.Fatalf("no file yet: %v %v", l, err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lease *Lease
	for i := 0; i < len(capture) && lease == nil; i += 37 {
		if _, err := f.Write(capture[i:min(i+37, len(capture))]); err != nil {
			t.Fatal(err)
		}
		if lease, err = w.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	if lease == nil || lease.IP.String() != "10.0.2.15" {
		t.Fatalf("lease %v", lease)
	}
}

func TestDHCPWatchRejectsOtherFiles(t *testing.T) {
	var w DHCPWatch
	if _, err := w.Feed([]byte(strings.Repeat("not a capture ", 3))); err == nil || !strings.Contains(err.Error(), "is not a pcap capture") {
		t.Fatalf("err %v", err)
	}
	hdr := readCapture(t)[:24]
	binary.LittleEndian.PutUint32(hdr[20:], 101) // raw IP
	w = DHCPWatch{}
	if _, err := w.Feed(hdr); err == nil || !strings.Contains(err.Error(), "link type 101") {
		t.Fatalf("err %v", err)
	}
	rec := append(readCapture(t)[:24], make([]byte, 16)...)
	binary.LittleEndian.PutUint32(rec[24+8:], 1<<30)
	w = DHCPWatch{}
	if _, err := w.Feed(rec); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("err %v", err)
	}
}

// FuzzDHCPWatch: any capture, fed in any pieces, never panics.
func FuzzDHCPWatch(f *testing.F) {
	f.Add(readCapture(f), uint8(37))
	f.Add(readCapture(f)[:100], uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		var w DHCPWatch
		n := int(step) + 1
		for i := 0; i < len(data); i += n {
			if _, err := w.Feed(data[i:min(i+n, len(data))]); err != nil {
				return
			}
		}
	})
}
