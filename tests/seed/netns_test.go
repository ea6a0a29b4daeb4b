package seed

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// guideSubnet is the guide's network. The test gives its addresses only to
// veths inside its own namespaces.
var guideSubnet = netip.MustParsePrefix("10.0.1.0/24")

// Names of what the tests create. Each carries the test binary's process
// ID, so runs never share a name and leftovers of a dead run are known by
// it. Link names stay within the kernel's 15 bytes ("cs" + 7 digits +
// "v" + 2 + "x" + 1 = 14).
const (
	nsPrefix = "cairn-seed-"
	nsFormat = nsPrefix + "%d-%d-%d"        // pid, network, host
	brFormat = "cs%db%d"                    // pid, network
	hvFormat = "cs%dv%dx%d"                 // pid, network, host: the root-namespace end
	pvFormat = "cs%dp%dx%d"                 // pid, network, host: the end moved into the namespace
	nsIface  = "eth0"                       // the name the namespace's end takes
	nsRegexp = `^cairn-seed-(\d+)-\d+-\d+$` // see nsFormat
)

var (
	nsName   = regexp.MustCompile(nsRegexp)
	linkName = regexp.MustCompile(`^cs(\d+)[bvp]\d+(x\d+)?$`)
	netSeq   atomic.Int64 // numbers the networks of this test binary
)

// seedNet is a test network: a bridge in the root namespace and one network
// namespace per host address, each with lo up and the address on a veth
// whose other end is plugged into the bridge. The bridge has no address
// and the namespaces have no routes but their /24, so traffic stays between
// the namespaces.
type seedNet struct {
	bridge string
	ns     map[string]string // host address → namespace
	links  []string          // root-namespace veth ends
}

// newSeedNet makes a network carrying addrs (each in guideSubnet), or skips
// the test when this machine cannot. Everything is removed at cleanup.
func newSeedNet(t *testing.T, addrs ...string) *seedNet {
	t.Helper()
	requireNetworking(t)
	removeLeftovers(t)

	pid, seq := os.Getpid(), netSeq.Add(1)
	n := &seedNet{bridge: fmt.Sprintf(brFormat, pid, seq), ns: map[string]string{}}
	t.Cleanup(func() { n.teardown(t) })

	// Creating the bridge, a namespace and a veth pair are the steps that
	// need privileges or kernel support; their failure skips the test.
	if out, err := ipCmd("link", "add", n.bridge, "type", "bridge"); err != nil {
		t.Skipf("cannot create a bridge for the guide's network (ip link add %s type bridge: %v: %s)", n.bridge, err, out)
	}
	mustIP(t, "link", "set", n.bridge, "up")
	for i, a := range addrs {
		addr, err := netip.ParseAddr(a)
		if err != nil || !guideSubnet.Contains(addr) {
			t.Fatalf("host address %q is not in %s", a, guideSubnet)
		}
		ns := fmt.Sprintf(nsFormat, pid, seq, i)
		hv, pv := fmt.Sprintf(hvFormat, pid, seq, i), fmt.Sprintf(pvFormat, pid, seq, i)
		if out, err := ipCmd("netns", "add", ns); err != nil {
			t.Skipf("cannot create network namespaces (ip netns add %s: %v: %s)", ns, err, out)
		}
		n.ns[a] = ns
		if out, err := ipCmd("netns", "exec", ns, "true"); err != nil {
			t.Skipf("cannot run commands in a network namespace (ip netns exec %s true: %v: %s)", ns, err, out)
		}
		if out, err := ipCmd("link", "add", hv, "type", "veth", "peer", "name", pv); err != nil {
			t.Skipf("cannot create veth pairs (ip link add %s type veth: %v: %s)", hv, err, out)
		}
		n.links = append(n.links, hv)
		mustIP(t, "link", "set", pv, "netns", ns)
		mustIP(t, "link", "set", hv, "master", n.bridge)
		mustIP(t, "link", "set", hv, "up")
		mustIP(t, "-n", ns, "link", "set", "lo", "up")
		mustIP(t, "-n", ns, "link", "set", pv, "name", nsIface)
		mustIP(t, "-n", ns, "addr", "add", netip.PrefixFrom(addr, guideSubnet.Bits()).String(), "dev", nsIface)
		mustIP(t, "-n", ns, "link", "set", nsIface, "up")
		if out, err := ipCmd("-n", ns, "-4", "route", "show", "default"); err != nil || strings.TrimSpace(out) != "" {
			t.Fatalf("namespace %s has a default route (%v): %s", ns, err, out)
		}
	}
	return n
}

// namespace returns the namespace that carries addr.
func (n *seedNet) namespace(t testing.TB, addr string) string {
	t.Helper()
	ns, ok := n.ns[addr]
	if !ok {
		t.Fatalf("no namespace carries %s", addr)
	}
	return ns
}

// teardown deletes the namespaces, veths and bridge. The processes started
// in the namespaces are stopped by cleanups registered after this one, so
// they are gone already; any other process found in one is reported and
// killed, as only this test can have started it.
func (n *seedNet) teardown(t testing.TB) {
	for _, ns := range n.ns {
		for _, pid := range nsPids(ns) {
			if pid == os.Getpid() {
				t.Errorf("the test process itself is in %s at teardown", ns)
				continue
			}
			t.Errorf("process %d still runs in %s at teardown; killing it", pid, ns)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if out, err := ipCmd("netns", "del", ns); err != nil {
			t.Errorf("cleanup: ip netns del %s: %v: %s", ns, err, out)
		}
	}
	for _, l := range append(n.links, n.bridge) {
		// Deleting a namespace deletes the veth pair with it, in the
		// background: a device that is missing, or vanishes while ip
		// deletes it, is fine.
		if out, err := ipCmd("link", "del", l); err != nil && !strings.Contains(out, "Cannot find device") && !strings.Contains(out, "No such device") {
			t.Errorf("cleanup: ip link del %s: %v: %s", l, err, out)
		}
	}
}

// nsPids lists the processes in namespace ns.
func nsPids(ns string) []int {
	out, err := ipCmd("netns", "pids", ns)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// requireNetworking skips the test unless it can make namespaces and the
// guide's subnet is free on this host.
func requireNetworking(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and a bridge for the guide's hosts 10.0.1.10-12")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("needs ip(8) from iproute2 to create network namespaces: %v", err)
	}
	if msg := subnetInUse(); msg != "" {
		t.Skipf("the guide's subnet %s is in use on this host, so the test will not add it: %s", guideSubnet, msg)
	}
}

// subnetInUse describes how the host's root namespace already uses
// guideSubnet: an address in it, or a route other than the default one
// that covers or lies within it. It returns "" when the subnet is free.
func subnetInUse() string {
	out, err := ipCmd("-4", "-o", "addr", "show")
	if err != nil {
		return fmt.Sprintf("ip addr show: %v: %s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		for i := 0; i+1 < len(f); i++ {
			if f[i] != "inet" {
				continue
			}
			if p, err := netip.ParsePrefix(f[i+1]); err == nil && p.Overlaps(guideSubnet) {
				return "address " + strings.TrimSpace(l)
			}
		}
	}
	for _, sel := range []string{"match", "root"} {
		out, err := ipCmd("-4", "route", "show", "table", "all", sel, guideSubnet.String())
		if err != nil {
			return fmt.Sprintf("ip route show %s: %v: %s", sel, err, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "default") {
				return "route " + l
			}
		}
	}
	return ""
}

// removeLeftovers deletes namespaces and links named by this package for a
// test binary that no longer runs (one that crashed or was killed before
// its cleanups ran).
func removeLeftovers(t testing.TB) {
	t.Helper()
	if out, err := ipCmd("netns", "list"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) == 0 {
				continue
			}
			if m := nsName.FindStringSubmatch(f[0]); m != nil && !ownerRuns(m[1]) {
				for _, pid := range nsPids(f[0]) {
					// Only this package names namespaces so, and its
					// members die with their test binary; a survivor
					// is one of ours.
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				if out, err := ipCmd("netns", "del", f[0]); err != nil {
					t.Logf("removing leftover namespace %s: %v: %s", f[0], err, out)
				} else {
					t.Logf("removed leftover namespace %s", f[0])
				}
			}
		}
	}
	// Hosts files the discovery tests gave their namespaces
	// (/etc/netns/<ns>/hosts, see netnsHosts).
	if entries, err := os.ReadDir(netnsEtcDir); err == nil {
		for _, e := range entries {
			if m := nsName.FindStringSubmatch(e.Name()); m != nil && !ownerRuns(m[1]) {
				if err := os.RemoveAll(filepath.Join(netnsEtcDir, e.Name())); err != nil {
					t.Logf("removing leftover %s: %v", filepath.Join(netnsEtcDir, e.Name()), err)
				} else {
					t.Logf("removed leftover %s", filepath.Join(netnsEtcDir, e.Name()))
				}
			}
		}
	}
	if out, err := ipCmd("-o", "link", "show"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			// "7: name@peer: <...>" or "7: name: <...>"
			f := strings.SplitN(l, ": ", 3)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(f[1], "@")
			if m := linkName.FindStringSubmatch(name); m != nil && !ownerRuns(m[1]) {
				// Deleting one end of a veth pair deletes the other.
				switch out, err := ipCmd("link", "del", name); {
				case err == nil:
					t.Logf("removed leftover link %s", name)
				case !strings.Contains(out, "Cannot find device"):
					t.Logf("removing leftover link %s: %v: %s", name, err, out)
				}
			}
		}
	}
}

// ownerRuns reports whether the process whose ID is in a name still runs.
// This process counts as running; a reused ID keeps a leftover for later.
func ownerRuns(pid string) bool {
	p, err := strconv.Atoi(pid)
	if err != nil || p <= 0 {
		return true
	}
	err = syscall.Kill(p, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ipCmd runs ip(8) and returns its combined output.
func ipCmd(args ...string) (string, error) {
	cmd := exec.Command("ip", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// mustIP runs ip(8) and fails the test if it fails.
func mustIP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := ipCmd(args...); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// bridgeFilterHint explains a network that carries nothing: with
// br_netfilter loaded, bridged IPv4 traffic passes the host's iptables
// FORWARD chain, which a host firewall (Docker's, for one) may drop.
func bridgeFilterHint() string {
	b, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if err != nil || strings.TrimSpace(string(b)) != "1" {
		return ""
	}
	return "\n(net.bridge.bridge-nf-call-iptables is 1: if the host's iptables FORWARD chain drops traffic, the namespaces cannot reach each other over the bridge)"
}
