package testenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NetworkLink is a link a networkd test creates in its network namespace.
// Kind is what "ip link add NAME type KIND" takes: "veth" stands in for an
// Ethernet port (its peer, also a port, is named Peer, and is up so that
// the port has a carrier), others ("bridge", "vlan", "bond") for the
// virtual devices a ramdisk can have.
type NetworkLink struct {
	Name, Kind, Peer string
	MAC              string // for a veth: the port's MAC address ("" lets the kernel pick)
	Parent           string // for a VLAN: the link it is on
	VLANID           int
}

// LinkState is what systemd-networkd recorded for one link.
type LinkState struct {
	AdminState  string // ADMIN_STATE: configuring, configured, unmanaged, ...
	NetworkFile string // NETWORK_FILE: the .network file applied, "" if none
}

// NetworkRoute is a route of the main table, as "ip -j route" shows it:
// Dst is "default" or a prefix.
type NetworkRoute struct {
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Dev     string `json:"dev"`
}

// NetworkdResult maps link names to their state; Unsupported lists the
// links the kernel could not create (no vlan or bonding driver). Addresses
// are each link's global addresses (ADDRESS/PREFIX), Routes the main
// table's IPv4 and IPv6 routes, once networkd settled; Log is what
// networkd printed (its complaints about the files among it).
type NetworkdResult struct {
	Links       map[string]LinkState
	Unsupported []string
	Addresses   map[string][]string
	Routes      []NetworkRoute
	Log         string
}

// networkdBinary is where Debian (and most distributions) install it.
func networkdBinary() string {
	for _, p := range []string{"/usr/lib/systemd/systemd-networkd", "/lib/systemd/systemd-networkd"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// RunNetworkd starts the host's real systemd-networkd in a new network and
// mount namespace with only the .network (and .netdev) files of
// networkDir, on the given links, and returns what it decided for each link
// once none is pending and each link named in configured (links networkd
// creates from .netdev files too) has finished configuring, or 30 s have
// passed. It skips the test (tier "netns") without root, unshare, ip or
// networkd.
//
// Without udev in the namespace (sysfs is mounted read-only, which is how
// networkd knows not to wait for it), networkd learns a link's kind from
// the kernel but reports every ARPHRD_ETHER device's type as "ether".
func RunNetworkd(t testing.TB, networkDir string, links []NetworkLink, configured ...string) NetworkdResult {
	t.Helper()
	unshare, networkd := netnsPrograms(t)
	var script strings.Builder
	script.WriteString(`set -u
mkdir -p /run/systemd
mount -t tmpfs tmpfs /run/systemd
mount -t sysfs -o ro sysfs /sys
mount --bind "$1" /etc/systemd/network
for d in /usr/lib/systemd/network /lib/systemd/network /run/systemd/network; do
	[ -d "$d" ] && mount -t tmpfs tmpfs "$d"
done
ip link set lo up
unsupported() { echo "UNSUPPORTED $1"; }
`)
	for _, l := range links {
		switch {
		case l.Kind == "veth" && l.MAC != "":
			fmt.Fprintf(&script, "ip link add %s address %s type veth peer name %s || unsupported %s\nip link set %s up\n",
				l.Name, l.MAC, l.Peer, l.Name, l.Peer)
		case l.Kind == "veth":
			fmt.Fprintf(&script, "ip link add %s type veth peer name %s || unsupported %s\nip link set %s up\n",
				l.Name, l.Peer, l.Name, l.Peer)
		case l.Kind == "vlan":
			fmt.Fprintf(&script, "ip link add link %s name %s type vlan id %d 2>/dev/null || unsupported %s\n",
				l.Parent, l.Name, l.VLANID, l.Name)
		default:
			fmt.Fprintf(&script, "ip link add %s type %s 2>/dev/null || unsupported %s\n", l.Name, l.Kind, l.Name)
		}
	}
	fmt.Fprintf(&script, `%s >"$2" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
	n=$(ls /run/systemd/netif/links 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || continue
	grep -qs '^ADMIN_STATE=\(pending\|initialized\)$' /run/systemd/netif/links/* || break
done
for name in %s; do
	while [ $i -lt 300 ]; do
		idx=$(cat "/sys/class/net/$name/ifindex" 2>/dev/null)
		[ -n "$idx" ] && grep -qs '^ADMIN_STATE=\(configured\|failed\|unmanaged\|linger\)$' "/run/systemd/netif/links/$idx" && break
		sleep 0.1
		i=$((i + 1))
	done
done
ip -j address show >"$3/addresses.json"
ip -j -4 route show table main >"$3/routes4.json"
ip -j -6 route show table main >"$3/routes6.json"
for f in /run/systemd/netif/links/*; do
	name=$(ip -o link show | awk -F': ' -v i="${f##*/}" '$1 == i { sub(/@.*/, "", $2); print $2 }')
	echo "LINK $name $(grep -E '^(ADMIN_STATE|NETWORK_FILE)=' "$f" | tr '\n' ' ')"
done
kill $pid
wait $pid 2>/dev/null
`, networkd, strings.Join(configured, " "))
	dir := t.TempDir()
	scriptPath := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(scriptPath, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "networkd.log")
	cmd := exec.Command(unshare, "--net", "--mount", "--propagation", "private", "sh", scriptPath, networkDir, logPath, dir)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("systemd-networkd did not settle in 60 s:\n%s", out)
	}
	if err != nil {
		if strings.Contains(string(out), "Operation not permitted") {
			Skip(t, "netns", "unshare --net --mount is not permitted here")
		}
		t.Fatalf("networkd in a namespace: %v\n%s", err, out)
	}
	res := NetworkdResult{Links: map[string]LinkState{}}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "UNSUPPORTED":
			res.Unsupported = append(res.Unsupported, f[1])
		case len(f) >= 2 && f[0] == "LINK":
			var st LinkState
			for _, kv := range f[2:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "ADMIN_STATE":
					st.AdminState = v
				case "NETWORK_FILE":
					st.NetworkFile = v
				}
			}
			res.Links[f[1]] = st
		}
	}
	log, _ := os.ReadFile(logPath)
	res.Log = string(log)
	if len(res.Links) == 0 {
		t.Fatalf("networkd recorded no links:\n%s\n%s", out, log)
	}
	res.Addresses = readAddresses(t, filepath.Join(dir, "addresses.json"))
	for _, f := range []string{"routes4.json", "routes6.json"} {
		var routes []NetworkRoute
		readJSON(t, filepath.Join(dir, f), &routes)
		res.Routes = append(res.Routes, routes...)
	}
	return res
}

// netnsPrograms are unshare and systemd-networkd; it skips t (tier
// "netns") without root, unshare, ip or networkd.
func netnsPrograms(t testing.TB) (unshare, networkd string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "netns", "not root (network namespaces need it)")
	}
	unshare = Program(t, "netns", "unshare")
	Program(t, "netns", "ip")
	networkd = networkdBinary()
	if networkd == "" {
		Skip(t, "netns", "systemd-networkd not installed")
	}
	return unshare, networkd
}

// KernelMakes reports whether the kernel can create a link of this kind
// ("bond", "vlan") in a network namespace: it lacks the bonding or 8021q
// driver in some sandboxes. It skips t like RunNetworkd.
func KernelMakes(t testing.TB, kind string) bool {
	t.Helper()
	unshare, _ := netnsPrograms(t)
	script := "ip link add probe type " + kind
	if kind == "vlan" {
		script = "ip link add probe0 type dummy 2>/dev/null || ip link add probe0 type veth peer name probe1 || exit 1\n" +
			"ip link add link probe0 name probe type vlan id 2"
	}
	return exec.Command(unshare, "--net", "sh", "-c", script).Run() == nil
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
}

// readAddresses reads "ip -j address show": each link's global addresses.
func readAddresses(t testing.TB, path string) map[string][]string {
	t.Helper()
	var links []struct {
		Name  string `json:"ifname"`
		Addrs []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
		} `json:"addr_info"`
	}
	readJSON(t, path, &links)
	out := map[string][]string{}
	for _, l := range links {
		for _, a := range l.Addrs {
			if a.Scope == "global" {
				out[l.Name] = append(out[l.Name], fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
			}
		}
	}
	return out
}
