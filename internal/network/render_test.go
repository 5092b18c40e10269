package network

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the expected files of testdata/network_data")

// external is the project's own external tree: the converter under test.
func external(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../../buildroot-ipa")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// render runs Render with the real converter and the host's python3.
func render(t testing.TB, req Request) ([]File, error) {
	t.Helper()
	req.Python = testenv.Python(t, "hermetic")
	req.External = external(t)
	return Render(context.Background(), process.OS{}, req)
}

func readDir(t testing.TB, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

func names(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// hasLines fails unless text has each line, whole.
func hasLines(t testing.TB, file, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(l) + `$`).MatchString(text) {
			t.Errorf("%s: no line %q in:\n%s", file, l, text)
		}
	}
}

// caseLines are lines each case's files must have, whatever the golden
// files say: the meaning of network_data.json in networkd's terms.
var caseLines = map[string]map[string][]string{
	"ironic-dhcp-less": {
		"10-config-drive-port-525400123456.network": {"MACAddress=52:54:00:12:34:56", "Address=192.168.122.42/24",
			"DHCP=no", "RequiredForOnline=routable", "Kind=!bond vlan bridge macvlan ipvlan team vxlan"},
	},
	"metal3-static-ipv4": {
		"10-config-drive-port-00c2fc2c1e22.network": {"MACAddress=00:c2:fc:2c:1e:22", "MTUBytes=1500",
			"Address=192.168.111.20/24", "Destination=0.0.0.0/0", "Gateway=192.168.111.1", "DNS=192.168.111.1"},
	},
	"ipv6-static": {
		"10-config-drive-port-0cc47a1d4010.network": {"Address=fd2e:6f44:5dd8:c956::14/64", "Destination=::/0",
			"Gateway=fd2e:6f44:5dd8:c956::1", "DNS=fd2e:6f44:5dd8:c956::1", "IPv6AcceptRA=no"},
		"10-config-drive-port-0cc47a1d4011.network": {"Address=2001:db8:2::14/64", "Destination=2001:db8:ff00::/40",
			"Gateway=2001:db8:2::fe"},
	},
	"bond-lacp": {
		"10-config-drive-bond0.netdev": {"Name=bond0", "Kind=bond", "MACAddress=b8:59:9f:10:20:30", "MTUBytes=9000",
			"Mode=802.3ad", "TransmitHashPolicy=layer3+4", "LACPTransmitRate=fast", "MIIMonitorSec=100ms"},
		"10-config-drive-bond0.network":             {"Name=bond0", "Address=10.20.0.15/23", "Gateway=10.20.0.1", "DNS=10.20.0.2"},
		"10-config-drive-port-b8599f102030.network": {"MACAddress=b8:59:9f:10:20:30", "Bond=bond0", "RequiredForOnline=no"},
		"10-config-drive-port-b8599f102031.network": {"MACAddress=b8:59:9f:10:20:31 b8:59:9f:10:20:30", "Bond=bond0"},
	},
	"vlan-on-bond": {
		"10-config-drive-bond0.netdev":              {"Kind=bond", "MACAddress=a0:36:9f:2c:e8:82", "Mode=802.3ad"},
		"10-config-drive-bond0.network":             {"VLAN=bond0.101", "DHCP=no", "RequiredForOnline=no"},
		"10-config-drive-bond0.101.netdev":          {"Name=bond0.101", "Kind=vlan", "Id=101", "MACAddress=a0:36:9f:2c:e8:80"},
		"10-config-drive-bond0.101.network":         {"Address=203.0.113.44/24", "Gateway=203.0.113.1", "DNS=198.51.100.53", "DNS=198.51.100.54", "DNS=192.0.2.53", "DNS=192.0.2.54"},
		"10-config-drive-port-a0369f2ce880.network": {"MACAddress=a0:36:9f:2c:e8:80 a0:36:9f:2c:e8:82", "Bond=bond0", "MTUBytes=9000"},
		"10-config-drive-port-a0369f2ce881.network": {"MACAddress=a0:36:9f:2c:e8:81 a0:36:9f:2c:e8:82", "Bond=bond0"},
	},
	"dns-routes": {
		"10-config-drive-port-fa163e417c02.network": {"MTUBytes=1450", "Address=172.16.10.5/24", "Destination=0.0.0.0/0",
			"Destination=10.0.0.0/8", "Gateway=172.16.10.254", "Destination=192.168.100.0/24", "Gateway=172.16.10.253",
			"DNS=172.16.10.2", "DNS=9.9.9.9", "DNS=2620:fe::fe"},
		"10-config-drive-port-fa163e417c03.network": {"DHCP=ipv4", "IPv6AcceptRA=yes", "ClientIdentifier=mac", "DNS=9.9.9.9"},
	},
}

// TestGoldenNetworkData renders each network_data.json case of
// testdata/network_data and compares the converter's files with the
// expected ones, line for line, and with the lines of caseLines.
func TestGoldenNetworkData(t *testing.T) {
	cases, err := filepath.Glob("testdata/network_data/*.json")
	if err != nil || len(cases) < len(caseLines) {
		t.Fatalf("found %d cases (%v), want %d", len(cases), err, len(caseLines))
	}
	for _, c := range cases {
		name := strings.TrimSuffix(filepath.Base(c), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out")
			files, err := render(t, Request{NetworkData: c, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			got := readDir(t, out)
			generated := map[string]string{}
			for _, f := range files {
				if f.Source == FromNetworkData {
					generated[f.Name] = got[f.Name]
				}
			}
			// The board's fallback comes with them, after them.
			if _, ok := got["99-ipa-wired.network"]; !ok {
				t.Errorf("the board's 99-ipa-wired.network is missing from %v", names(got))
			}
			golden := strings.TrimSuffix(c, ".json")
			if *update {
				os.RemoveAll(golden)
				for n, text := range generated {
					writeTestFile(t, filepath.Join(golden, n), text)
				}
			}
			want := readDir(t, golden)
			if strings.Join(names(generated), " ") != strings.Join(names(want), " ") {
				t.Fatalf("files %v, want %v", names(generated), names(want))
			}
			for n, text := range want {
				if generated[n] != text {
					t.Errorf("%s:\n%s\nwant:\n%s", n, generated[n], text)
				}
			}
			lines, ok := caseLines[name]
			if !ok {
				t.Fatalf("no caseLines for %s", name)
			}
			for file, want := range lines {
				text, ok := generated[file]
				if !ok {
					t.Errorf("%s was not written (files: %v)", file, names(generated))
					continue
				}
				hasLines(t, file, text, want...)
			}
		})
	}
}

func writeTestFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A port network_data.json names without configuring it is left to the
// next source (command line, DHCP): no file claims it.
func TestUnconfiguredPortIsLeftAlone(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	nd := filepath.Join(t.TempDir(), "nd.json")
	writeTestFile(t, nd, `{"links": [{"id": "a", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:0a"},
		{"id": "b", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:0b"}],
		"networks": [{"id": "n", "type": "ipv4_dhcp", "link": "a"}]}`)
	files, err := render(t, Request{NetworkData: nd, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	got := readDir(t, out)
	if _, ok := got["10-config-drive-port-52540000000b.network"]; ok {
		t.Errorf("port b has a file though nothing configures it: %v", names(got))
	}
	if len(files) != len(got) || got["10-config-drive-port-52540000000a.network"] == "" {
		t.Errorf("files %v, directory %v", files, names(got))
	}
}

// TestRenderRefusesBadInput: whatever the image would refuse at boot,
// render refuses with the problem named, and the output directory keeps
// what it had.
func TestRenderRefusesBadInput(t *testing.T) {
	port := `{"id": "p", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:01"}`
	for _, c := range []struct{ name, json, want string }{
		{"malformed JSON", `{"links": [`, "not valid JSON"},
		{"not an object", `[]`, "not a JSON object"},
		{"unknown link type", `{"links": [{"id": "ib0", "type": "infiniband", "ethernet_mac_address": "52:54:00:00:00:01"}]}`, `unknown link type "infiniband"`},
		{"bad MAC", `{"links": [{"id": "p", "type": "phy", "ethernet_mac_address": "52:54:00:00:01"}]}`, `"52:54:00:00:01" is not a MAC address`},
		{"same MAC twice", `{"links": [` + port + `, {"id": "q", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:01"}]}`, "two links have the same MAC address"},
		{"network on no link", `{"links": [` + port + `], "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "nope"}]}`, `link "nope" names no link`},
		{"unknown network type", `{"links": [` + port + `], "networks": [{"id": "n", "type": "ipv5", "link": "p"}]}`, `unknown network type "ipv5"`},
		{"bad VLAN id", `{"links": [` + port + `, {"id": "v", "type": "vlan", "vlan_link": "p", "vlan_id": 4095}]}`, "vlan_id 4095 is not a number from 1 to 4094"},
		{"bond of a VLAN", `{"links": [` + port + `, {"id": "v", "type": "vlan", "vlan_link": "p", "vlan_id": 5}, {"id": "b", "type": "bond", "bond_links": ["v"]}]}`, "is a vlan link, not a port"},
		{"unknown bond mode", `{"links": [` + port + `, {"id": "b", "type": "bond", "bond_links": ["p"], "bond_mode": "fastest"}]}`, `unknown bond_mode "fastest"`},
		{"address on a bond member", `{"links": [` + port + `, {"id": "b", "type": "bond", "bond_links": ["p"]}], "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "p"}]}`, "is a member of bond b"},
		{"netmask with holes", `{"links": [` + port + `], "networks": [{"id": "n", "type": "ipv4", "link": "p", "ip_address": "10.0.0.2", "netmask": "255.0.255.0"}]}`, "is not contiguous"},
		{"IPv6 address in an ipv4 network", `{"links": [` + port + `], "networks": [{"id": "n", "type": "ipv4", "link": "p", "ip_address": "2001:db8::1/64"}]}`, "is not an IPv4 address"},
		{"route with host bits", `{"links": [` + port + `], "networks": [{"id": "n", "type": "ipv4", "link": "p", "ip_address": "10.0.0.2/24", "routes": [{"network": "10.1.0.1", "netmask": "255.255.0.0", "gateway": "10.0.0.1"}]}]}`, "has host bits set"},
		{"bad DNS server", `{"links": [` + port + `], "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "p"}], "services": [{"type": "dns", "address": "dns.example"}]}`, `"dns.example" is not an IP address`},
		{"larger than 1 MiB", `{"links": [], "padding": "` + strings.Repeat("x", 1<<20) + `"}`, "larger than 1 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			writeTestFile(t, filepath.Join(out, "50-old.network"), "[Match]\n")
			nd := filepath.Join(t.TempDir(), "network_data.json")
			writeTestFile(t, nd, c.json)
			_, err := render(t, Request{NetworkData: nd, Out: out})
			if !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want bad input containing %q", err, c.want)
			}
			if got := readDir(t, out); len(got) != 1 || got["50-old.network"] != "[Match]\n" {
				t.Errorf("the output directory changed: %v", names(got))
			}
		})
	}
}

func TestRenderOutputDirectory(t *testing.T) {
	nd := "testdata/network_data/ironic-dhcp-less.json"
	dir := t.TempDir()

	// A file, or a directory with other files, is refused.
	file := filepath.Join(dir, "file")
	writeTestFile(t, file, "x")
	if _, err := render(t, Request{NetworkData: nd, Out: file}); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("out is a file: %v", err)
	}
	mixed := filepath.Join(dir, "mixed")
	writeTestFile(t, filepath.Join(mixed, "notes.txt"), "mine")
	if _, err := render(t, Request{NetworkData: nd, Out: mixed}); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("out with notes.txt: %v", err)
	}
	if got := readDir(t, mixed); len(got) != 1 {
		t.Errorf("mixed directory changed: %v", names(got))
	}

	// An earlier render is replaced: no stale file survives.
	out := filepath.Join(dir, "out")
	writeTestFile(t, filepath.Join(out, "10-config-drive-port-000000000000.network"), "[Match]\n")
	if _, err := render(t, Request{NetworkData: nd, Out: out}); err != nil {
		t.Fatal(err)
	}
	got := readDir(t, out)
	if _, ok := got["10-config-drive-port-000000000000.network"]; ok {
		t.Errorf("stale file kept: %v", names(got))
	}
	if _, ok := got["10-config-drive-port-525400123456.network"]; !ok {
		t.Errorf("new file missing: %v", names(got))
	}
	// No temporary directory is left beside it.
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("%s holds %d entries, want file, mixed, out", dir, len(entries))
	}
}

// The user's overlay's networkd files are the image's too, and replace the
// board's of the same name.
func TestRenderAddsOverlayFiles(t *testing.T) {
	overlay := t.TempDir()
	writeTestFile(t, filepath.Join(overlay, "etc/systemd/network/99-ipa-wired.network"), "# mine\n")
	writeTestFile(t, filepath.Join(overlay, "etc/systemd/network/50-lab.network"), "# lab\n")
	out := filepath.Join(t.TempDir(), "out")
	files, err := render(t, Request{NetworkData: "testdata/network_data/ironic-dhcp-less.json", Overlay: overlay, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]string{}
	for _, f := range files {
		src[f.Name] = f.Source
	}
	want := map[string]string{
		"10-config-drive-port-525400123456.network": FromNetworkData,
		"50-lab.network":       FromOverlay,
		"99-ipa-wired.network": FromOverlay,
		"99-ipa-vlan.network":  FromBoard,
	}
	for n, s := range want {
		if src[n] != s {
			t.Errorf("%s from %q, want %q (all: %v)", n, src[n], s, src)
		}
	}
	if got := readDir(t, out)["99-ipa-wired.network"]; got != "# mine\n" {
		t.Errorf("99-ipa-wired.network is not the overlay's: %q", got)
	}
}

// generator is the host's systemd-network-generator, or a skip.
func generator(t testing.TB) string {
	t.Helper()
	for _, g := range []string{"/usr/lib/systemd/systemd-network-generator", "/lib/systemd/systemd-network-generator"} {
		if _, err := os.Stat(g); err == nil {
			return g
		}
	}
	testenv.Skip(t, "systemd", "systemd-network-generator not installed")
	return ""
}

// cmdlineCases are dracut-syntax kernel command lines and lines the host's
// systemd-network-generator must write for them.
var cmdlineCases = []struct {
	name, cmdline string
	want          map[string][]string
}{
	{"static IPv4 with DNS", "ip=192.0.2.10::192.0.2.1:255.255.255.0:node1:eno1:none nameserver=192.0.2.53", map[string][]string{
		"90-eno1.network": {"Name=eno1", "DHCP=no", "Address=192.0.2.10/24", "Gateway=192.0.2.1", "DNS=192.0.2.53"}}},
	{"static IPv6", "ip=[2001:db8::10]::[2001:db8::1]:64::eno1:none", map[string][]string{
		"90-eno1.network": {"Name=eno1", "Address=2001:db8::10/64", "Gateway=2001:db8::1"}}},
	{"DHCP on one port", "ip=eno2:dhcp", map[string][]string{
		"90-eno2.network": {"Name=eno2", "DHCP=ipv4"}}},
	{"DHCP everywhere", "ip=dhcp", map[string][]string{
		"91-default.network": {"DHCP=ipv4"}}},
	{"VLAN", "vlan=eno1.100:eno1 ip=eno1.100:dhcp", map[string][]string{
		"90-eno1.100.netdev":  {"Kind=vlan", "Name=eno1.100", "Id=100"},
		"90-eno1.100.network": {"Name=eno1.100", "DHCP=ipv4"},
		"90-eno1.network":     {"Name=eno1", "VLAN=eno1.100"}}},
	{"bond", "bond=bond0:eno1,eno2:mode=802.3ad ip=bond0:dhcp", map[string][]string{
		"90-bond0.netdev":  {"Kind=bond", "Name=bond0"},
		"90-bond0.network": {"Name=bond0", "DHCP=ipv4"},
		"90-eno1.network":  {"Bond=bond0"},
		"90-eno2.network":  {"Bond=bond0"}}},
	{"rd.neednet alone", "rd.neednet=1", map[string][]string{}},
}

// TestRenderCmdline runs the host's real systemd-network-generator on
// dracut-syntax command lines, through the converter.
func TestRenderCmdline(t *testing.T) {
	generator(t)
	for _, c := range cmdlineCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out")
			files, err := render(t, Request{Cmdline: c.cmdline, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			got := readDir(t, out)
			n := 0
			for _, f := range files {
				if f.Source == FromCmdline {
					n++
				}
			}
			if n != len(c.want) {
				t.Errorf("%d files from the command line, want %d: %v", n, len(c.want), names(got))
			}
			for file, lines := range c.want {
				hasLines(t, file, got[file], lines...)
			}
		})
	}
	_, err := render(t, Request{Cmdline: "ip=999.1.1.1::192.0.2.1:255.255.255.0:x:eno1:none", Out: filepath.Join(t.TempDir(), "out")})
	if !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "refused the kernel command line") {
		t.Errorf("bad ip=: %v", err)
	}
}

// Without the generator, a command line cannot be rendered: a failure
// (not bad input) that names it.
func TestRenderCmdlineWithoutGenerator(t *testing.T) {
	_, err := render(t, Request{Cmdline: "ip=dhcp", Generator: "/nonexistent/systemd-network-generator", Out: filepath.Join(t.TempDir(), "out")})
	if err == nil || errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "systemd-network-generator") {
		t.Errorf("err = %v", err)
	}
}

func TestRenderMissingFile(t *testing.T) {
	_, err := render(t, Request{NetworkData: filepath.Join(t.TempDir(), "nope.json"), Out: filepath.Join(t.TempDir(), "out")})
	if !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "nope.json: cannot read it: No such file or directory") {
		t.Errorf("err = %v", err)
	}
}

func TestRenderWithoutPython(t *testing.T) {
	_, err := Render(context.Background(), process.OS{}, Request{External: external(t), Python: "/nonexistent/python3",
		NetworkData: nd("ironic-dhcp-less"), Out: filepath.Join(t.TempDir(), "out")})
	if err == nil || errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "the image's network converter needs /nonexistent/python3 on this host") {
		t.Errorf("err = %v", err)
	}
}
