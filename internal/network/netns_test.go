package network

// The rendered files in a real systemd-networkd (the host's), in a network
// namespace, on veth ports with the MAC addresses and names of the cases:
// what each link gets is read back with ip. Tier "netns": root, unshare, ip
// and systemd-networkd. Bonds and VLANs need the kernel's bonding and
// 8021q drivers; where they are missing, those cases say SKIP.

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/testenv"
)

// netnsCase is a render request applied in a namespace, and what must come
// of it.
type netnsCase struct {
	name       string
	req        Request
	ports      map[string]string // port name → MAC ("" lets the kernel pick)
	needs      []string          // link kinds the kernel must make: bond, vlan
	configured []string          // links to wait for
	addrs      map[string][]string
	routes     []testenv.NetworkRoute
	files      map[string]string // link → the .network file networkd chose
}

func (c netnsCase) run(t *testing.T) {
	t.Helper()
	t.Parallel() // each in a namespace of its own; most of the time is networkd's
	for _, kind := range c.needs {
		if !testenv.KernelMakes(t, kind) {
			testenv.Skip(t, "netns", "this kernel cannot make a "+kind+" (no driver): the "+kind+" cases are not applied")
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := render(t, Request{NetworkData: c.req.NetworkData, Cmdline: c.req.Cmdline, Out: out}); err != nil {
		t.Fatal(err)
	}
	var links []testenv.NetworkLink
	var ports []string
	for name := range c.ports {
		ports = append(ports, name)
	}
	sort.Strings(ports)
	for i, name := range ports {
		links = append(links, testenv.NetworkLink{Name: name, Kind: "veth", Peer: "peer" + string(rune('a'+i)), MAC: c.ports[name]})
	}
	res := testenv.RunNetworkd(t, out, links, c.configured...)
	if len(res.Unsupported) > 0 {
		t.Fatalf("could not make %v", res.Unsupported)
	}
	// networkd names the file and line of each setting it does not take.
	if m := regexp.MustCompile(`(?m)^.*\.(network|netdev|link):[0-9]+: .*$`).FindAllString(res.Log, -1); len(m) > 0 {
		t.Errorf("networkd complained about the files:\n%s", strings.Join(m, "\n"))
	}
	for link, want := range c.addrs {
		got := strings.Join(res.Addresses[link], " ")
		for _, a := range want {
			if !strings.Contains(" "+got+" ", " "+a+" ") {
				t.Errorf("%s has %q, want %s (state %s, file %s)\nnetworkd:\n%s", link, got, a,
					res.Links[link].AdminState, res.Links[link].NetworkFile, res.Log)
			}
		}
	}
	for _, want := range c.routes {
		found := false
		for _, r := range res.Routes {
			found = found || r == want
		}
		if !found {
			t.Errorf("no route %+v; routes: %+v", want, res.Routes)
		}
	}
	for link, file := range c.files {
		if got := filepath.Base(res.Links[link].NetworkFile); got != file {
			t.Errorf("%s: network file %q (state %s), want %s", link, got, res.Links[link].AdminState, file)
		}
	}
}

func nd(name string) string { return "testdata/network_data/" + name + ".json" }

// TestNetworkdAppliesNetworkData applies every network_data.json case.
func TestNetworkdAppliesNetworkData(t *testing.T) {
	t.Parallel()
	for _, c := range []netnsCase{
		{
			name:  "ironic-dhcp-less",
			req:   Request{NetworkData: nd("ironic-dhcp-less")},
			ports: map[string]string{"eno1": "52:54:00:12:34:56", "eno9": "52:54:00:aa:bb:cc"},
			// eno9 is not in network_data.json: the board's DHCP takes it.
			configured: []string{"eno1"},
			addrs:      map[string][]string{"eno1": {"192.168.122.42/24"}},
			files:      map[string]string{"eno1": "10-config-drive-port-525400123456.network", "eno9": "99-ipa-wired.network"},
		},
		{
			name:       "metal3-static-ipv4",
			req:        Request{NetworkData: nd("metal3-static-ipv4")},
			ports:      map[string]string{"enp1s0": "00:c2:fc:2c:1e:22"},
			configured: []string{"enp1s0"},
			addrs:      map[string][]string{"enp1s0": {"192.168.111.20/24"}},
			routes:     []testenv.NetworkRoute{{Dst: "default", Gateway: "192.168.111.1", Dev: "enp1s0"}},
		},
		{
			name:       "ipv6-static",
			req:        Request{NetworkData: nd("ipv6-static")},
			ports:      map[string]string{"eno1": "0c:c4:7a:1d:40:10", "eno2": "0c:c4:7a:1d:40:11"},
			configured: []string{"eno1", "eno2"},
			addrs:      map[string][]string{"eno1": {"fd2e:6f44:5dd8:c956::14/64"}, "eno2": {"2001:db8:2::14/64"}},
			routes: []testenv.NetworkRoute{
				{Dst: "default", Gateway: "fd2e:6f44:5dd8:c956::1", Dev: "eno1"},
				{Dst: "2001:db8:ff00::/40", Gateway: "2001:db8:2::fe", Dev: "eno2"},
			},
		},
		{
			name:       "dns-routes",
			req:        Request{NetworkData: nd("dns-routes")},
			ports:      map[string]string{"ens3": "fa:16:3e:41:7c:02", "ens4": "fa:16:3e:41:7c:03"},
			configured: []string{"ens3"},
			addrs:      map[string][]string{"ens3": {"172.16.10.5/24"}},
			routes: []testenv.NetworkRoute{
				{Dst: "default", Gateway: "172.16.10.1", Dev: "ens3"},
				{Dst: "10.0.0.0/8", Gateway: "172.16.10.254", Dev: "ens3"},
				{Dst: "192.168.100.0/24", Gateway: "172.16.10.253", Dev: "ens3"},
			},
			// DHCP there finds no server; the file is what counts.
			files: map[string]string{"ens4": "10-config-drive-port-fa163e417c03.network"},
		},
		{
			name:       "bond-lacp",
			req:        Request{NetworkData: nd("bond-lacp")},
			ports:      map[string]string{"eth0": "b8:59:9f:10:20:30", "eth1": "b8:59:9f:10:20:31"},
			needs:      []string{"bond"},
			configured: []string{"bond0"},
			addrs:      map[string][]string{"bond0": {"10.20.0.15/23"}},
			routes:     []testenv.NetworkRoute{{Dst: "default", Gateway: "10.20.0.1", Dev: "bond0"}},
			files: map[string]string{"bond0": "10-config-drive-bond0.network",
				"eth0": "10-config-drive-port-b8599f102030.network"},
		},
		{
			name:       "vlan-on-bond",
			req:        Request{NetworkData: nd("vlan-on-bond")},
			ports:      map[string]string{"eth0": "a0:36:9f:2c:e8:80", "eth1": "a0:36:9f:2c:e8:81"},
			needs:      []string{"bond", "vlan"},
			configured: []string{"bond0.101"},
			addrs:      map[string][]string{"bond0.101": {"203.0.113.44/24"}},
			routes:     []testenv.NetworkRoute{{Dst: "default", Gateway: "203.0.113.1", Dev: "bond0.101"}},
			files:      map[string]string{"bond0": "10-config-drive-bond0.network", "bond0.101": "10-config-drive-bond0.101.network"},
		},
	} {
		t.Run(c.name, c.run)
	}
}

// TestNetworkdPrecedence: a port the config drive names gets its
// configuration even when the command line names it too; a port only the
// command line names gets that; every other port gets the board's DHCP.
func TestNetworkdPrecedence(t *testing.T) {
	generator(t)
	netnsCase{
		name: "precedence",
		req: Request{
			NetworkData: nd("ironic-dhcp-less"),
			Cmdline:     "ip=198.51.100.20::198.51.100.1:255.255.255.0::eno1:none ip=192.0.2.20::192.0.2.1:255.255.255.0::eno2:none",
		},
		ports:      map[string]string{"eno1": "52:54:00:12:34:56", "eno2": "", "eno3": ""},
		configured: []string{"eno1", "eno2"},
		addrs:      map[string][]string{"eno1": {"192.168.122.42/24"}, "eno2": {"192.0.2.20/24"}},
		routes:     []testenv.NetworkRoute{{Dst: "default", Gateway: "192.0.2.1", Dev: "eno2"}},
		files: map[string]string{
			"eno1": "10-config-drive-port-525400123456.network",
			"eno2": "90-eno2.network",
			"eno3": "99-ipa-wired.network",
		},
	}.run(t)
}

// TestNetworkdAppliesCmdline applies what the host's
// systemd-network-generator makes of dracut-syntax command lines, with the
// board's files beside them.
func TestNetworkdAppliesCmdline(t *testing.T) {
	t.Parallel()
	generator(t)
	for _, c := range []netnsCase{
		{
			name:       "static IPv4 with DNS",
			req:        Request{Cmdline: "ip=192.0.2.10::192.0.2.1:255.255.255.0:node1:eno1:none nameserver=192.0.2.53"},
			ports:      map[string]string{"eno1": "", "eno2": ""},
			configured: []string{"eno1"},
			addrs:      map[string][]string{"eno1": {"192.0.2.10/24"}},
			routes:     []testenv.NetworkRoute{{Dst: "default", Gateway: "192.0.2.1", Dev: "eno1"}},
			files:      map[string]string{"eno1": "90-eno1.network", "eno2": "99-ipa-wired.network"},
		},
		{
			name:       "static IPv6",
			req:        Request{Cmdline: "ip=[2001:db8::10]::[2001:db8::1]:64::eno1:none"},
			ports:      map[string]string{"eno1": ""},
			configured: []string{"eno1"},
			addrs:      map[string][]string{"eno1": {"2001:db8::10/64"}},
			routes:     []testenv.NetworkRoute{{Dst: "default", Gateway: "2001:db8::1", Dev: "eno1"}},
		},
		{
			name:  "DHCP on one port",
			req:   Request{Cmdline: "ip=eno2:dhcp"},
			ports: map[string]string{"eno1": "", "eno2": ""},
			files: map[string]string{"eno1": "99-ipa-wired.network", "eno2": "90-eno2.network"},
		},
		{
			name:  "VLAN",
			req:   Request{Cmdline: "vlan=eno1.100:eno1 ip=eno1.100:dhcp"},
			ports: map[string]string{"eno1": ""},
			needs: []string{"vlan"},
			files: map[string]string{"eno1": "90-eno1.network", "eno1.100": "90-eno1.100.network"},
		},
		{
			name:  "bond",
			req:   Request{Cmdline: "bond=bond0:eno1,eno2:mode=802.3ad ip=bond0:dhcp"},
			ports: map[string]string{"eno1": "", "eno2": ""},
			needs: []string{"bond"},
			files: map[string]string{"eno1": "90-eno1.network", "eno2": "90-eno2.network", "bond0": "90-bond0.network"},
		},
	} {
		t.Run(c.name, c.run)
	}
}
