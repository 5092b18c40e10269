package buildroot

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestParseStep(t *testing.T) {
	cases := []struct {
		line string
		want Step
		ok   bool
	}{
		{">>> busybox 1.37.0 Extracting", Step{"busybox", "1.37.0", "Extracting"}, true},
		{"\x1b[7m>>> host-python3 3.12.9 Installing to host directory\x1b[27m", Step{"host-python3", "3.12.9", "Installing to host directory"}, true},
		{">>> skeleton  Installing to target", Step{"skeleton", "", "Installing to target"}, true},
		{">>>   Finalizing target directory", Step{"", "", "Finalizing target directory"}, true},
		{">>>   Executing post-build script /x/post-build.sh", Step{"", "", "Executing post-build script /x/post-build.sh"}, true},
		{"gcc -o x.o >>> not a step", Step{}, false},
		{"make[1]: *** [package/pkg-generic.mk:273: x] Error 1", Step{}, false},
		{">>> broken", Step{}, false},
	}
	for _, c := range cases {
		got, ok := ParseStep([]byte(c.line))
		if ok != c.ok || got != c.want {
			t.Errorf("ParseStep(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

func sampleLog(packages int) string {
	var b strings.Builder
	for i := 0; i < packages; i++ {
		for _, step := range []string{"Downloading", "Extracting", "Patching", "Configuring", "Building", "Installing to target"} {
			fmt.Fprintf(&b, "\x1b[7m>>> pkg%d 1.%d %s\x1b[27m\n", i, i, step)
			for j := 0; j < 20; j++ {
				fmt.Fprintf(&b, "gcc -O2 -c src/file%d.c -o file%d.o -I/some/include/path >>> noise\n", j, j)
			}
		}
	}
	b.WriteString(">>>   Finalizing target directory")
	return b.String()
}

// However make's output is chunked, the log is byte-identical and the same
// steps come out in order.
func TestStreamScannerChunking(t *testing.T) {
	logText := sampleLog(5)
	var want []Step
	for _, l := range strings.Split(logText, "\n") {
		if st, ok := ParseStep([]byte(l)); ok {
			want = append(want, st)
		}
	}
	if len(want) != 31 {
		t.Fatalf("sample has %d steps", len(want))
	}
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		var log bytes.Buffer
		var got []Step
		s := &StreamScanner{Log: &log, OnStep: func(st Step) { got = append(got, st) }}
		data := []byte(logText)
		for len(data) > 0 {
			n := 1 + rng.Intn(97)
			if n > len(data) {
				n = len(data)
			}
			if _, err := s.Write(data[:n]); err != nil {
				t.Fatal(err)
			}
			data = data[n:]
		}
		s.Flush()
		if log.String() != logText {
			t.Fatal("log differs from input")
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: got %d steps %v, want %d", trial, len(got), got, len(want))
		}
	}
}

func TestStreamScannerBoundsLongLines(t *testing.T) {
	s := &StreamScanner{Log: io.Discard}
	s.Write(bytes.Repeat([]byte("x"), 1<<20))
	if len(s.carry) > 4096 {
		t.Fatalf("carry grew to %d bytes", len(s.carry))
	}
}

func TestParseDefconfigs(t *testing.T) {
	out := `Built-in configs:
  aarch64_efi_defconfig               - Build for aarch64_efi
  acmesystems_acqua_a5_256mb_defconfig - Build for acmesystems_acqua_a5_256mb

External configs in "OpenStack Ironic Python Agent ramdisk":
  openstack_ipa_defconfig             - Build for openstack_ipa
`
	got := ParseDefconfigs(out)
	want := []Defconfig{
		{"aarch64_efi_defconfig", "Build for aarch64_efi", false, ""},
		{"acmesystems_acqua_a5_256mb_defconfig", "Build for acmesystems_acqua_a5_256mb", false, ""},
		{"openstack_ipa_defconfig", "Build for openstack_ipa", true, "OpenStack Ironic Python Agent ramdisk"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestNameValidation(t *testing.T) {
	for name, ok := range map[string]bool{
		"openstack_ipa_defconfig": true, "qemu_x86_64_defconfig": true,
		"../etc/passwd_defconfig": false, "configs/x_defconfig": false, "x": false, "_defconfig": false,
	} {
		if ValidDefconfigName(name) != ok {
			t.Errorf("ValidDefconfigName(%q) != %v", name, ok)
		}
	}
	for name, ok := range map[string]bool{"busybox": true, "host-python3": true, "libstdc++": true, "python-ironic_agent.x": true, "Busybox": false, "a;rm": false, "": false, "-x": false} {
		if ValidPackageName(name) != ok {
			t.Errorf("ValidPackageName(%q) != %v", name, ok)
		}
	}
}

// BenchmarkStreamScanner measures the parser's throughput on a realistic
// log (MB/s is reported by -benchmem's SetBytes).
func BenchmarkStreamScanner(b *testing.B) {
	data := []byte(sampleLog(200))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := &StreamScanner{Log: io.Discard, OnStep: func(Step) {}}
		for off := 0; off < len(data); off += 32 << 10 {
			end := min(off+32<<10, len(data))
			s.Write(data[off:end])
		}
		s.Flush()
	}
}
