package testenv

import (
	"bufio"
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
// Ethernet port (its peer, also a port, is named Peer), others ("bridge",
// "vlan", "bond") for the virtual devices a ramdisk can have.
type NetworkLink struct {
	Name, Kind, Peer string
	Parent           string // for a VLAN: the link it is on
	VLANID           int
}

// LinkState is what systemd-networkd recorded for one link.
type LinkState struct {
	AdminState  string // ADMIN_STATE: configuring, configured, unmanaged, ...
	NetworkFile string // NETWORK_FILE: the .network file applied, "" if none
}

// NetworkdResult maps link names to their state; Unsupported lists the
// links the kernel could not create (no vlan or bonding driver).
type NetworkdResult struct {
	Links       map[string]LinkState
	Unsupported []string
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
// mount namespace with only the .network files of networkDir, on the given
// links, and returns what it decided for each link once none is pending.
// It skips the test (tier "netns") without root, unshare, ip or networkd.
//
// Without udev in the namespace (sysfs is mounted read-only, which is how
// networkd knows not to wait for it), networkd learns a link's kind from
// the kernel but reports every ARPHRD_ETHER device's type as "ether".
func RunNetworkd(t testing.TB, networkDir string, links []NetworkLink) NetworkdResult {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "netns", "not root (network namespaces need it)")
	}
	unshare := Program(t, "netns", "unshare")
	Program(t, "netns", "ip")
	networkd := networkdBinary()
	if networkd == "" {
		Skip(t, "netns", "systemd-networkd not installed")
	}
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
		case l.Kind == "veth":
			fmt.Fprintf(&script, "ip link add %s type veth peer name %s || unsupported %s\n", l.Name, l.Peer, l.Name)
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
for f in /run/systemd/netif/links/*; do
	name=$(ip -o link show | awk -F': ' -v i="${f##*/}" '$1 == i { sub(/@.*/, "", $2); print $2 }')
	echo "LINK $name $(grep -E '^(ADMIN_STATE|NETWORK_FILE)=' "$f" | tr '\n' ' ')"
done
kill $pid
wait $pid 2>/dev/null
`, networkd)
	dir := t.TempDir()
	scriptPath := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(scriptPath, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "networkd.log")
	cmd := exec.Command(unshare, "--net", "--mount", "--propagation", "private", "sh", scriptPath, networkDir, logPath)
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
	if len(res.Links) == 0 {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("networkd recorded no links:\n%s\n%s", out, log)
	}
	return res
}
