package prefault

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestParseMapping(t *testing.T) {
	for _, c := range []struct {
		line string
		want mapping
		ok   bool
	}{
		{"00400000-00998000 r-xp 00000000 fe:00 1312987                            /usr/local/bin/ipabr",
			mapping{start: 0x400000, end: 0x998000, exec: true, file: true}, true},
		{"00998000-00f97000 r--p 00598000 fe:00 1312987                            /usr/local/bin/ipabr",
			mapping{start: 0x998000, end: 0xf97000, file: true}, true},
		{"7f3a2c000000-7f3a30000000 rw-p 00000000 00:00 0 ",
			mapping{start: 0x7f3a2c000000, end: 0x7f3a30000000, writable: true}, true},
		{"00f97000-00fe8000 rw-p 00b97000 fe:00 1312987                            /usr/local/bin/ipabr",
			mapping{start: 0xf97000, end: 0xfe8000, writable: true, file: true}, true},
		{"7ffd5a9f3000-7ffd5a9f5000 r-xp 00000000 00:00 0                          [vdso]",
			mapping{start: 0x7ffd5a9f3000, end: 0x7ffd5a9f5000, exec: true}, true},
		{"00400000-00998000 r-xp 00000000 fe:00 42 /tmp/a path with spaces/ipabr",
			mapping{start: 0x400000, end: 0x998000, exec: true, file: true}, true},
		{"", mapping{}, false},
		{"00400000 r-xp 00000000 fe:00 42", mapping{start: 0x400000}, false},
		{"00400000-00998000 r-xp", mapping{start: 0x400000, end: 0x998000, exec: true}, false},
		{"00998000-00400000 r-xp 00000000 fe:00 42 /backwards", mapping{start: 0x998000, end: 0x400000, exec: true, file: true}, false},
	} {
		got, ok := parseMapping([]byte(c.line))
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseMapping(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

// TestMain reports, when asked, how much of the code is resident as the
// tests start (after this package's init, before much else ran), in
// percent of its size, and the KiB of heap init populated: 0 for none, -1
// when some of its pages are not in memory.
func TestMain(m *testing.M) {
	if os.Getenv("PREFAULT_TEST_REPORT") == "1" {
		code, err := residentCode()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		// The heap's pages are anonymous: mincore tells whether each is in memory.
		start, end := heapPopulated.start, heapPopulated.end
		heap := 0
		if end > start {
			if resident(start, end, uintptr(os.Getpagesize())) {
				heap = int(end-start) >> 10
			} else {
				heap = -1
			}
		}
		fmt.Println(code, heap)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// residentCode reads /proc/self/smaps: the resident share of the
// executable's code mappings, in percent.
func residentCode() (percent int, err error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var size, rss int
	var inCode bool
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if m, ok := parseMapping([]byte(line)); ok { // a mapping's first line; "Key: value" lines follow
			inCode = m.file && m.exec
			continue
		}
		name, value, found := strings.Cut(line, ":")
		if !found || (name != "Size" && name != "Rss") {
			continue
		}
		kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
		if err != nil {
			return 0, fmt.Errorf("%q: %v", line, err)
		}
		switch {
		case inCode && name == "Size":
			size += kib
		case inCode && name == "Rss":
			rss += kib
		}
	}
	if size == 0 {
		return 0, fmt.Errorf("no executable mapping of a file in /proc/self/smaps")
	}
	return 100 * rss / size, s.Err()
}

// TestPopulates: started with prefault on, the process has all of its
// code mapped and up to a MiB of heap in memory at once; with IPABR_PREFAULT=0 only what
// it has touched so far (the kernel maps 16 pages around each fault, so
// that is already most of a test binary's code). The test binary was just
// written, so its code is in the page cache.
func TestPopulates(t *testing.T) {
	report := func(env ...string) (code, heap int) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), append(env, "PREFAULT_TEST_REPORT=1")...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v\n%s", env, err, out)
		}
		if _, err := fmt.Sscan(string(out), &code, &heap); err != nil {
			t.Fatalf("%v: %q: %v", env, out, err)
		}
		return code, heap
	}
	onCode, onHeap := report("IPABR_PREFAULT=1")
	offCode, offHeap := report("IPABR_PREFAULT=0")
	t.Logf("resident code: %d%% on, %d%% off; heap populated: %d KiB on, %d KiB off", onCode, offCode, onHeap, offHeap)
	if onCode < 99 || offCode >= onCode {
		t.Errorf("resident code %d%% with prefault, %d%% without; want all, and not all", onCode, offCode)
	}
	// Up to a MiB, as much as the heap has mapped above where it stands.
	if onHeap <= 0 || onHeap > heapAhead>>10 || offHeap != 0 {
		t.Errorf("heap populated: %d KiB with prefault, %d KiB without; want up to %d KiB, all of it in memory, and none", onHeap, offHeap, heapAhead>>10)
	}
}
