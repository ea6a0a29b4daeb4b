package seed

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/srv/srvtest"
	"github.com/cairn-db/cairn/tests/framework"
)

// The guide's DNS discovery section: the records its dig commands show and
// two sets of member commands, one that names the hosts and one that gives
// their addresses. The records are served by a DNS server the test runs in
// a namespace of its own, at an address of the guide's subnet that no
// command uses; every namespace of the network gets a resolv.conf naming
// only that server (/etc/netns/<ns>/resolv.conf, which `ip netns exec`
// mounts on /etc/resolv.conf), so no lookup leaves the test's network.
const (
	dnsHost   = "10.0.1.53"
	dnsDomain = "example.com"
	// dnsClientHost is the client host of the DNS tests: etcdctl and the
	// gateway run there, and the test's extra member infra3.
	dnsClientHost = "10.0.1.13"
	// gatewayAddr is where the gateway of the DNS test listens.
	gatewayAddr = dnsClientHost + ":23790"
)

var (
	dnsHeadings          = []string{"### DNS 发现", "### DNS discovery"}
	srvRecordHeadings    = []string{"#### 创建 DNS SRV 记录", "#### Create DNS SRV records"}
	dnsBootstrapHeadings = []string{"#### 使用 DNS 启动 etcd 集群", "#### Bootstrap the etcd cluster using DNS"}
)

// dnsSection is what the tests take from the guide's DNS section.
type dnsSection struct {
	digs  []guideCommand // "$ dig ..." blocks; output holds the answer lines
	names []guideCommand // the member commands that use host names
	ips   []guideCommand // the member commands that use addresses
}

// loadDNSSection parses the DNS section: three dig blocks under the SRV
// records heading, and six member commands under the bootstrap heading,
// the first three with host names, the last three with addresses.
func loadDNSSection(t testing.TB) dnsSection {
	t.Helper()
	lines := extractLines(t)
	top := findHeading(lines, 0, dnsHeadings)
	if top < 0 {
		t.Fatalf("%s has no heading %q", extractPath, dnsHeadings)
	}
	end := nextHeading(lines, top+1, "### ")
	var s dnsSection
	rec := findHeading(lines[:end], top+1, srvRecordHeadings)
	boot := findHeading(lines[:end], top+1, dnsBootstrapHeadings)
	if rec < 0 || boot < 0 {
		t.Fatalf("the DNS section (line %d) lacks a heading %q or %q", top+1, srvRecordHeadings, dnsBootstrapHeadings)
	}
	for _, b := range fencedBlocks(lines, rec, nextHeading(lines[:end], rec+1, "#### ")) {
		c, err := parseCommand(b, "dig", false)
		if err != nil {
			t.Fatalf("%s: %v", extractPath, err)
		}
		s.digs = append(s.digs, c)
	}
	cmds, err := commandBlocks(lines, boot, nextHeading(lines[:end], boot+1, "#### "))
	if err != nil {
		t.Fatalf("%s: %v", extractPath, err)
	}
	for _, c := range cmds {
		if net.ParseIP(hostOf(t, c, "initial-advertise-peer-urls")) == nil {
			s.names = append(s.names, c)
		} else {
			s.ips = append(s.ips, c)
		}
	}
	if len(s.digs) != 3 || len(s.names) != 3 || len(s.ips) != 3 {
		t.Fatalf("the DNS section (line %d) has %d dig blocks, %d member commands with names and %d with addresses; want 3 of each",
			top+1, len(s.digs), len(s.names), len(s.ips))
	}
	return s
}

// zone is the records the guide's dig commands answer, parsed as DNS
// resource records.
func (s dnsSection) zone(t testing.TB) []dns.RR {
	t.Helper()
	var rrs []dns.RR
	for _, d := range s.digs {
		for _, l := range d.output {
			rr, err := dns.NewRR(l)
			if err != nil || rr == nil {
				t.Fatalf("guide line %d: answer %q is not a DNS record: %v", d.line, l, err)
			}
			rrs = append(rrs, rr)
		}
	}
	return rrs
}

// TestGuideDNSParse checks what the tests take from the DNS section: the
// guide's records, and member commands that differ only in how they name
// the hosts.
func TestGuideDNSParse(t *testing.T) {
	s := loadDNSSection(t)
	var srv, a int
	for _, rr := range s.zone(t) {
		switch rr := rr.(type) {
		case *dns.SRV:
			srv++
			if !strings.HasSuffix(rr.Hdr.Name, "._tcp."+dnsDomain+".") {
				t.Errorf("SRV record %v is not under _tcp.%s", rr, dnsDomain)
			}
		case *dns.A:
			a++
		}
	}
	if srv != 6 || a != 3 {
		t.Errorf("the guide's records: %d SRV and %d A, want 6 and 3", srv, a)
	}
	for i := range s.names {
		n, ip := s.names[i], s.ips[i]
		if mustFlag(t, n, "name") != mustFlag(t, ip, "name") || mustFlag(t, n, "discovery-srv") != dnsDomain ||
			mustFlag(t, ip, "discovery-srv") != dnsDomain || token(n) != token(ip) {
			t.Errorf("guide lines %d and %d: the two variants differ beyond the hosts", n.line, ip.line)
		}
	}
}

// startDNS serves zone on dnsHost:53, UDP and TCP, from the namespace that
// carries dnsHost, and gives every namespace a resolv.conf naming it. The
// server stops at cleanup.
func startDNS(t *testing.T, sn *seedNet, zone []dns.RR) *srvtest.Zone {
	t.Helper()
	d := srvtest.NewZone(zone)
	addr := dnsHost + ":53"
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	if nerr := inNamespace(sn.namespace(t, dnsHost), func() {
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			return
		}
		ln, err = net.Listen("tcp", addr)
	}); nerr != nil || err != nil {
		if pc != nil {
			pc.Close()
		}
		t.Fatalf("DNS server on %s: %v %v", addr, nerr, err)
	}
	servers := []*dns.Server{{PacketConn: pc, Handler: d}, {Listener: ln, Handler: d}}
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.ActivateAndServe()
		}()
	}
	t.Cleanup(func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
		wg.Wait()
	})
	netnsEtcFile(t, sn, "resolv.conf", "nameserver "+dnsHost+"\noptions timeout:2 attempts:2\n")
	return d
}

// newDNSNet makes the network of the DNS tests: the guide's three hosts,
// the client host and the DNS server's host.
func newDNSNet(t *testing.T) *seedNet {
	t.Helper()
	requireNetworking(t)
	return newSeedNet(t, "10.0.1.10", "10.0.1.11", "10.0.1.12", dnsClientHost, dnsHost)
}

// TestGuideDNS runs the guide's DNS discovery section verbatim but for the
// binary, against a DNS server holding the guide's records: its dig
// commands answer what the guide shows; the member commands that name the
// hosts, and then those that give addresses, each form a cluster with the
// IDs etcd computes (SRV host names hashed with --initial-cluster-token)
// that etcdctl 3.4 reaches through the client SRV records and through a
// gateway that finds the members by SRV. Then the error cases, a TLS
// cluster found through _etcd-server-ssl records, and the address variant
// with Debian's etcd, which must show the same IDs.
func TestGuideDNS(t *testing.T) {
	s := loadDNSSection(t)
	bin := framework.Binary(t)
	ctl := etcdctl{bin: framework.Etcdctl(t)}
	net := newDNSNet(t)
	guideZone := append(s.zone(t), srvtest.Parse(t, "infra3.example.com. 300 IN A "+dnsClientHost)...)
	d := startDNS(t, net, guideZone)
	client := net.namespace(t, dnsClientHost)

	t.Run("dig", func(t *testing.T) {
		if _, err := exec.LookPath("dig"); err != nil {
			t.Skipf("needs dig(1) (Debian's dnsutils): %v", err)
		}
		for _, c := range s.digs {
			res := runToExit(t, client, c.argv, exitBound, nil)
			if res.code != 0 {
				t.Fatalf("guide line %d: %s: exit %d\n%s%s", c.line, strings.Join(c.argv, " "), res.code, res.stdout, res.stderr)
			}
			got, want := fieldLines(res.stdout), fieldLines(strings.Join(c.output, "\n"))
			if !slices.Equal(got, want) {
				t.Errorf("guide line %d: %s answered\n  %s\nwant\n  %s", c.line, strings.Join(c.argv, " "),
					strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		}
	})

	got := map[string]observed{}
	t.Run("names", func(t *testing.T) {
		c, want, clusterID := startDNSCluster(t, net, s.names, s.names, "http", bin, ctl, nil)
		got["names"] = c.checkMemberList(t, want, clusterID)
		c.checkPutGet(t, "guide/dns/names", "written through infra0, read through infra2")
		checkClientSRV(t, ctl, client, want)
		checkGatewaySRV(t, c, bin, ctl, client)
	})
	t.Run("addresses", func(t *testing.T) {
		c, want, clusterID := startDNSCluster(t, net, s.ips, s.names, "http", bin, ctl, nil)
		got["addresses"] = c.checkMemberList(t, want, clusterID)
		c.checkPutGet(t, "guide/dns/addresses", "written through infra0, read through infra2")
	})
	t.Run("join", func(t *testing.T) {
		defer d.Set(guideZone)
		runDNSJoin(t, net, s, bin, ctl, func() {
			d.Set(append(slices.Clone(guideZone), srvtest.Parse(t, "_etcd-server._tcp.example.com. 300 IN SRV 0 0 2380 infra3.example.com.")...))
		})
	})
	if n, a := got["names"], got["addresses"]; n.ids != nil && a.ids != nil && fmt.Sprint(n) != fmt.Sprint(a) {
		t.Errorf("the two variants give different IDs: names %s %s, addresses %s %s",
			membership.FormatID(n.clusterID), formatIDs(n.ids), membership.FormatID(a.clusterID), formatIDs(a.ids))
	}

	t.Run("errors", func(t *testing.T) { runDNSErrors(t, net, s, bin) })
	t.Run("tls", func(t *testing.T) {
		d.Set(sslZone(guideZone))
		defer d.Set(guideZone)
		runDNSTLS(t, net, s, bin)
	})

	t.Run("etcd", func(t *testing.T) {
		if framework.IsReferenceEtcd(bin) {
			t.Skip("the binary under test is the reference etcd")
		}
		// Debian's etcd 3.4 cannot run this section: it stops when the
		// _etcd-server-ssl lookup fails even though _etcd-server answers
		// (fixed in etcd 3.5), and 3.x refuses a host name in a listen
		// URL, which Cairn binds (compat.md §1). Logged, not asserted;
		// the IDs above are checked against etcd's formula instead.
		ref := framework.ReferenceEtcd(t)
		for _, c := range []guideCommand{s.ips[0], s.names[0]} {
			res := runToExit(t, net.namespace(t, "10.0.1.10"), withBinary(c, ref), exitBound, nil)
			t.Logf("etcd 3.4, guide line %d: exit %d, last line %q", c.line, res.code, lastLine(res.stderr))
		}
	})
}

// sslZone is zone with its _etcd-server and _etcd-client records moved to
// the TLS services _etcd-server-ssl and _etcd-client-ssl.
func sslZone(zone []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range zone {
		rr = dns.Copy(rr)
		if srv, ok := rr.(*dns.SRV); ok {
			for _, svc := range []string{"_etcd-server.", "_etcd-client."} {
				if strings.HasPrefix(srv.Hdr.Name, svc) {
					srv.Hdr.Name = strings.TrimSuffix(svc, ".") + "-ssl." + strings.TrimPrefix(srv.Hdr.Name, svc)
				}
			}
		}
		out = append(out, rr)
	}
	return out
}

// fieldLines normalises dig's answer lines: blanks folded, lines sorted.
func fieldLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.Join(f, " "))
		}
	}
	sort.Strings(out)
	return out
}

// dnsMembers is the members a DNS-bootstrapped cluster must show: named by
// cmds' --name, with the peer URL of the SRV record (the host names of the
// names commands, in scheme) hashed with the token, and cmds' client URLs.
func dnsMembers(t testing.TB, cmds, names []guideCommand, scheme string) ([]wantMember, uint64) {
	t.Helper()
	var ms []wantMember
	var ids []uint64
	for i, c := range cmds {
		u, err := url.Parse(mustFlag(t, names[i], "initial-advertise-peer-urls"))
		if err != nil {
			t.Fatal(err)
		}
		u.Scheme = scheme
		peers := []string{u.String()}
		id := membership.MemberID(peers, token(c), nil)
		ids = append(ids, id)
		ms = append(ms, wantMember{
			name: mustFlag(t, c, "name"), id: id, peerURLs: peers,
			clientURLs: strings.Split(mustFlag(t, c, "advertise-client-urls"), ","),
		})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	return ms, membership.ClusterID(ids)
}

// startDNSCluster starts cmds with bin (and env) in the namespaces of their
// listen addresses, after resolving their hosts, and waits for the cluster
// to serve; it returns the members the cluster must show.
func startDNSCluster(t *testing.T, net *seedNet, cmds, names []guideCommand, scheme, bin string, ctl etcdctl, env []string) (*guideCluster, []wantMember, uint64) {
	t.Helper()
	want, clusterID := dnsMembers(t, cmds, names, scheme)
	hosts := dnsHosts(t, names)
	c := &guideCluster{net: net, cmds: cmds, ctl: ctl}
	for i, cmd := range cmds {
		c.members = append(c.members, startMemberEnv(t, mustFlag(t, cmd, "name"), net.namespace(t, hosts[i]), t.TempDir(), env, withBinary(cmd, bin)))
	}
	c.waitHealthy(t)
	return c, want, clusterID
}

// dnsHosts is the address of each names command's host, from the guide's
// A records (the ips commands, in the same order).
func dnsHosts(t testing.TB, names []guideCommand) []string {
	t.Helper()
	addrs := map[string]string{"infra0.example.com": "10.0.1.10", "infra1.example.com": "10.0.1.11", "infra2.example.com": "10.0.1.12"}
	var out []string
	for _, c := range names {
		a, ok := addrs[hostOf(t, c, "initial-advertise-peer-urls")]
		if !ok {
			t.Fatalf("guide line %d: host %s has no A record in the guide", c.line, hostOf(t, c, "initial-advertise-peer-urls"))
		}
		out = append(out, a)
	}
	return out
}

// checkClientSRV asks, from the client host, etcdctl 3.4 with
// --discovery-srv for the member list: the client SRV records must lead it
// to the cluster.
func checkClientSRV(t *testing.T, ctl etcdctl, ns string, want []wantMember) {
	t.Helper()
	out := ctl.ok(t, ns, "--discovery-srv", dnsDomain, "member", "list", "-w", "json")
	var l memberListJSON
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("etcdctl --discovery-srv %s member list: %v\n%s", dnsDomain, err, out)
	}
	var names []string
	for _, m := range l.Members {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	var exp []string
	for _, w := range want {
		exp = append(exp, w.name)
	}
	if !slices.Equal(names, exp) {
		t.Errorf("etcdctl --discovery-srv %s member list: %v, want %v", dnsDomain, names, exp)
	}
}

// checkGatewaySRV starts `<bin> gateway start --discovery-srv example.com`
// on the client host and checks that etcdctl 3.4 is served through it, also
// after the member behind one of its connections is killed.
func checkGatewaySRV(t *testing.T, c *guideCluster, bin string, ctl etcdctl, ns string) {
	t.Helper()
	gw := startMember(t, "gateway", ns, []string{bin, "gateway", "start", "--discovery-srv", dnsDomain, "--insecure-discovery", "--listen-addr", gatewayAddr})
	ep := "--endpoints=" + gatewayAddr
	var status []struct {
		Status struct {
			Header struct {
				MemberID uint64 `json:"member_id"`
			} `json:"header"`
		}
	}
	deadline := time.Now().Add(healthBound)
	for {
		if gw.exited() {
			t.Fatalf("the gateway exited: %v\n%s", gw.err, gw.tail(logTail))
		}
		out, _, err := ctl.run(ns, ep, "endpoint", "status", "-w", "json")
		if err == nil && json.Unmarshal([]byte(out), &status) == nil && len(status) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcdctl %s endpoint status: %v\n%s\ngateway log:\n%s", ep, err, out, gw.tail(logTail))
		}
		time.Sleep(200 * time.Millisecond)
	}
	used := status[0].Status.Header.MemberID
	var victim *member
	for i, m := range c.members {
		w, _ := dnsMembers(t, c.cmds[i:i+1], c.cmds[i:i+1], "http")
		if w[0].id == used {
			victim = m
		}
	}
	if victim == nil {
		t.Fatalf("the gateway reached member %s, which the cluster does not have", membership.FormatID(used))
	}
	_ = syscall.Kill(-victim.cmd.Process.Pid, syscall.SIGKILL)
	<-victim.done
	// Each etcdctl run is a new connection, which the gateway gives to the
	// next endpoint: three runs cover every endpoint, the dead one too.
	// When the victim was the leader, a write may fail while the others
	// elect a new one ("leader changed", as with etcd): retried within a
	// bound.
	for i := range 3 {
		key := fmt.Sprintf("guide/dns/gateway/%d", i)
		deadline := time.Now().Add(healthBound)
		for {
			out, stderr, err := ctl.run(ns, ep, "put", key, "through the gateway")
			if err == nil && strings.TrimSpace(out) == "OK" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("put through the gateway with %s killed: %v %q %s", victim.name, err, out, stderr)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if out := ctl.ok(t, ns, ep, "get", key, "--print-value-only"); strings.TrimSpace(out) != "through the gateway" {
			t.Errorf("get through the gateway with %s killed: %q", victim.name, out)
		}
	}
	t.Logf("etcdctl served through the gateway found by SRV, with %s (%s) killed", victim.name, membership.FormatID(used))
}

// runDNSErrors runs the DNS bootstrap's failures, each a guide command
// changed in one respect, with the binary under test: each exits 1 and
// names the problem in etcd's words.
func runDNSErrors(t *testing.T, net *seedNet, s dnsSection, bin string) {
	infra0 := withBinary(s.names[0], bin)
	cases := []struct {
		name    string
		host    string // where it runs
		argv    []string
		last    string // the last line of stderr starts so
		logged  string // and stderr holds this, when not ""
		lastHas []string
	}{
		{
			name: "no SRV records", host: "10.0.1.10",
			argv:    setFlag(infra0, "discovery-srv", "nosuch.example.com"),
			last:    "cairn: error querying DNS SRV records for _etcd-server-ssl ",
			lastHas: []string{"_etcd-server-ssl._tcp.nosuch.example.com", "; error querying DNS SRV records for _etcd-server ", "_etcd-server._tcp.nosuch.example.com"},
		},
		{
			name: "member not in the records", host: dnsClientHost,
			argv: renameHost(setFlag(infra0, "name", "infra3"), "infra0.example.com", "infra3.example.com"),
			last: `cairn: cannot find local etcd member "infra3" in SRV records`,
		},
		{
			name: "scheme mismatch", host: "10.0.1.10",
			argv:   append(setFlag(infra0, "initial-advertise-peer-urls", "https://infra0.example.com:2380"), "--peer-auto-tls"),
			last:   `cairn: cannot find local etcd member "infra0" in SRV records`,
			logged: "bootstrap at http://infra0.example.com:2380 from DNS for etcd-server has scheme mismatch with expected peer https://infra0.example.com:2380",
		},
		{
			name: "listen host elsewhere", host: "10.0.1.11",
			argv: infra0,
			last: "cairn: listen http://infra0.example.com:2379: host infra0.example.com resolves to 10.0.1.10, none of which is an address of this machine",
		},
	}
	for _, tc := range cases {
		res := runToExit(t, net.namespace(t, tc.host), tc.argv, exitBound, nil)
		last := lastLine(res.stderr)
		switch {
		case res.code != 1:
			t.Errorf("%s: exit %d, want 1\n%s", tc.name, res.code, res.stderr)
		case !strings.HasPrefix(last, tc.last):
			t.Errorf("%s: last line\n  %q\nwant it to start\n  %q", tc.name, last, tc.last)
		case tc.logged != "" && !strings.Contains(res.stderr, tc.logged):
			t.Errorf("%s: stderr does not say %q:\n%s", tc.name, tc.logged, res.stderr)
		}
		for _, want := range tc.lastHas {
			if !strings.Contains(last, want) {
				t.Errorf("%s: last line %q lacks %q", tc.name, last, want)
			}
		}
	}
}

// runDNSJoin adds a fourth member to a cluster founded from SRV records,
// as etcd's runtime-configuration guide does: `member add infra3`, then
// addRecord (the records now list infra3 too), then infra3's host-name
// command (infra0's with the host and name changed) with
// --initial-cluster-state existing. The joiner takes its cluster from the
// SRV records and the running members, and the four serve etcdctl.
func runDNSJoin(t *testing.T, net *seedNet, s dnsSection, bin string, ctl etcdctl, addRecord func()) {
	c, _, _ := startDNSCluster(t, net, s.names, s.names, "http", bin, ctl, nil)
	ep := "--endpoints=" + strings.Join(c.clientURLs(t), ",")
	// Right after start-up the strict reconfiguration check refuses
	// changes until every peer has been connected for 5 s.
	deadline := time.Now().Add(healthBound)
	for {
		out, stderr, err := ctl.run(c.ns(0), ep, "member", "add", "infra3", "--peer-urls=http://infra3.example.com:2380")
		if err == nil {
			break
		}
		t.Logf("member add infra3: %v: %s", err, lastLine(strings.TrimSpace(stderr)))
		if time.Now().After(deadline) {
			t.Fatalf("member add infra3: %v\n%s%s", err, out, stderr)
		}
		time.Sleep(500 * time.Millisecond)
	}
	addRecord()
	argv := renameHost(setFlag(setFlag(withBinary(s.names[0], bin), "name", "infra3"), "initial-cluster-state", "existing"),
		"infra0.example.com", "infra3.example.com")
	m := startMember(t, "infra3", net.namespace(t, dnsClientHost), argv)
	deadline = time.Now().Add(healthBound)
	for {
		if m.exited() {
			t.Fatalf("infra3 exited (%v):\n%s", m.err, m.tail(logTail))
		}
		out, _, err := ctl.run(c.ns(0), "--endpoints=http://infra3.example.com:2379", "member", "list")
		if err == nil && strings.Count(out, ", started, ") == 4 {
			t.Logf("infra3 joined through SRV records:\n%s", out)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("infra3 is not serving a 4-member list after %v: %v\n%s\n%s", healthBound, err, out, m.tail(logTail))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := ctl.ok(t, c.ns(1), "--endpoints=http://infra3.example.com:2379", "put", "guide/dns/join", "through infra3"); strings.TrimSpace(out) != "OK" {
		t.Errorf("put through infra3: %q", out)
	}
}

// renameHost replaces host in every URL-valued word of argv.
func renameHost(argv []string, from, to string) []string {
	out := slices.Clone(argv)
	for i, a := range out {
		out[i] = strings.ReplaceAll(a, "//"+from+":", "//"+to+":")
	}
	return out
}

// runDNSTLS runs the host-name commands over https, a variation of the
// test's (the guide shows plain http only): the records are the guide's
// under _etcd-server-ssl and _etcd-client-ssl, every URL is https, and each
// member gets a certificate for its host name with --cert-file, --key-file,
// --peer-cert-file and --peer-key-file, trusting the test's CA through
// SSL_CERT_FILE (the system roots). Without --peer-trusted-ca-file a member
// must check that a peer's certificate carries the discovery domain
// (compat.md §6): certificates that carry example.com form a cluster;
// certificates for the host names alone are refused; the same
// certificates with --peer-trusted-ca-file form one.
func runDNSTLS(t *testing.T, net *seedNet, s dnsSection, bin string) {
	cairnctl := buildCairnctl(t)
	dir := t.TempDir()
	runCtl := func(args ...string) {
		t.Helper()
		cmd := exec.Command(cairnctl, append([]string{"cert"}, args...)...)
		cmd.Env = cleanEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cairnctl cert %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ca := dir + "/ca.crt"
	runCtl("ca", "--out-dir", dir, "--name", "ca")
	for _, c := range s.names {
		name, host := mustFlag(t, c, "name"), hostOf(t, c, "initial-advertise-peer-urls")
		for stem, hosts := range map[string]string{name + "-domain": host + "," + dnsDomain, name + "-host": host} {
			runCtl("issue", "--ca-cert", ca, "--ca-key", dir+"/ca.key", "--profile", "peer",
				"--hosts", hosts, "--cn", name, "--out-dir", dir, "--name", stem)
		}
	}
	httpsCmds := func(certs string, extra ...string) []guideCommand {
		var out []guideCommand
		for _, c := range s.names {
			c.argv = slices.Clone(c.argv)
			for i, a := range c.argv {
				c.argv[i] = strings.ReplaceAll(a, "http://", "https://")
			}
			stem := dir + "/" + mustFlag(t, c, "name") + "-" + certs
			c.argv = append(c.argv, "--cert-file", stem+".crt", "--key-file", stem+".key",
				"--peer-cert-file", stem+".crt", "--peer-key-file", stem+".key")
			c.argv = append(c.argv, extra...)
			out = append(out, c)
		}
		return out
	}
	env := []string{"SSL_CERT_FILE=" + ca}
	ctl := etcdctl{bin: framework.Etcdctl(t), flags: []string{"--cacert", ca}}
	client := net.namespace(t, dnsClientHost)

	t.Run("domain in the certificates", func(t *testing.T) {
		cmds := httpsCmds("domain")
		c, want, clusterID := startDNSCluster(t, net, cmds, s.names, "https", bin, ctl, env)
		c.checkMemberList(t, want, clusterID)
		c.checkPutGet(t, "guide/dns/tls", "written through infra0, read through infra2")
		checkClientSRV(t, ctl, client, want)

		// A gateway that checks what it discovers (no
		// --insecure-discovery) keeps these members: each completes a
		// TLS handshake for example.com against --trusted-ca-file.
		// etcdctl checks no name through it, as the gateway's address
		// is in no certificate.
		gw := startMemberEnv(t, "gateway", client, t.TempDir(), env, []string{bin, "gateway", "start",
			"--discovery-srv", dnsDomain, "--trusted-ca-file", ca, "--listen-addr", gatewayAddr})
		tlsCtl := etcdctl{bin: ctl.bin, flags: []string{"--insecure-transport=false", "--insecure-skip-tls-verify", "--endpoints=" + gatewayAddr}}
		deadline := time.Now().Add(healthBound)
		for {
			out, _, err := tlsCtl.run(client, "put", "guide/dns/tls/gateway", "through the gateway")
			if err == nil && strings.TrimSpace(out) == "OK" {
				break
			}
			if gw.exited() || time.Now().After(deadline) {
				t.Fatalf("put through the gateway: %v %q\ngateway log:\n%s", err, out, gw.tail(logTail))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if log := gw.log(); !strings.Contains(log, "using validated discovered SRV endpoints") || strings.Contains(log, "dropped discovered SRV endpoints") {
			t.Errorf("the gateway dropped a member whose certificate carries %s:\n%s", dnsDomain, log)
		}
	})
	t.Run("host names only", func(t *testing.T) {
		cmds := httpsCmds("host")
		hosts := dnsHosts(t, s.names)
		var ms []*member
		for i, c := range cmds {
			ms = append(ms, startMemberEnv(t, mustFlag(t, c, "name"), net.namespace(t, hosts[i]), t.TempDir(), env, withBinary(c, bin)))
		}
		const refusal = "not " + dnsDomain
		deadline := time.Now().Add(healthBound)
		for !slices.ContainsFunc(ms, func(m *member) bool { return strings.Contains(m.log(), refusal) }) {
			if time.Now().After(deadline) {
				t.Fatalf("no member logged a peer certificate refused for lacking %s (%q) within %v", dnsDomain, refusal, healthBound)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if _, _, err := ctl.run(client, "--endpoints=https://infra0.example.com:2379", "put", "k", "v"); err == nil {
			t.Errorf("a put succeeded although no member may trust its peers")
		}
	})
	t.Run("host names with a peer CA", func(t *testing.T) {
		cmds := httpsCmds("host", "--peer-trusted-ca-file", ca)
		c, want, clusterID := startDNSCluster(t, net, cmds, s.names, "https", bin, ctl, env)
		c.checkMemberList(t, want, clusterID)
	})
}
