package seed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/tests/framework"
)

// advertiseMismatch is compat.md §3's text for a member whose
// --initial-advertise-peer-urls differ from its --initial-cluster entry.
const advertiseMismatch = "error setting up initial cluster: %s has different advertised URLs in the cluster and advertised peer URLs list"

// probeHost is an address of the guide's subnet that no command uses: a
// client host from which the tests make the connections the members must
// refuse, so that a refusal is known not to be one among members.
const probeHost = "10.0.1.13"

// refusalBound bounds the wait for a member to log a refused connection.
const refusalBound = 10 * time.Second

// TestGuideTLSParse checks the TLS subsection as the tests take it: three
// self-signed and three automatic-certificate commands on the static
// section's hosts, all https; the self-signed infra0 command advertising
// an http peer URL where --initial-cluster says https (the guide's slip,
// which compat.md §3's advertised-URL error catches), and nothing else
// inconsistent; and the files the self-signed commands name, in one
// absolute directory and the working directory.
func TestGuideTLSParse(t *testing.T) {
	g := loadGuide(t)
	hosts := guideHosts(t, g)
	if slices.Contains(hosts, probeHost) {
		t.Fatalf("the guide uses %s, which the tests take for a client host", probeHost)
	}
	for _, set := range []struct {
		name       string
		cmds       []guideCommand
		mismatched []string
	}{
		{"self-signed", g.selfSigned, []string{"infra0"}},
		{"automatic", g.autoTLS, nil},
	} {
		for _, c := range set.cmds {
			t.Logf("%s, guide line %d: %s", set.name, c.line, strings.Join(c.argv, " "))
		}
		if got := commandHosts(t, set.cmds); !slices.Equal(got, hosts) {
			t.Errorf("%s: the commands listen for peers on %q, the static section on %q", set.name, got, hosts)
		}
		if got := mismatchedAdvertise(t, set.cmds); !slices.Equal(got, set.mismatched) {
			t.Errorf("%s: members advertising peer URLs other than their --initial-cluster entry: %q, want %q",
				set.name, got, set.mismatched)
		}
	}
	for _, set := range [][]guideCommand{correctSelfSigned(t, g), g.autoTLS} {
		want, _ := membersOf(t, set)
		for _, w := range want {
			for _, u := range append(slices.Clone(w.peerURLs), w.clientURLs...) {
				if !strings.HasPrefix(u, "https://") {
					t.Errorf("%s: URL %s is not https", w.name, u)
				}
			}
		}
	}
	t.Logf("the self-signed commands name files in %s and in the working directory", mountTarget(t, g.selfSigned))

	compat := sharedPath(t, envCompat, "spec", "compat.md")
	data, err := os.ReadFile(compat)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("compat.md is not at %s (set %s); not comparing with it", compat, envCompat)
	}
	if err != nil {
		t.Fatal(err)
	}
	if text := fmt.Sprintf(advertiseMismatch, "infra0"); !strings.Contains(section(string(data), "## 3."), "`"+text+"`") {
		t.Errorf("compat.md §3 does not list %q", text)
	}
}

// mismatchedAdvertise returns the names of the commands whose
// --initial-advertise-peer-urls differ from their --initial-cluster entry.
func mismatchedAdvertise(t testing.TB, cmds []guideCommand) []string {
	t.Helper()
	var names []string
	for _, c := range cmds {
		name := mustFlag(t, c, "name")
		adv := strings.Split(mustFlag(t, c, "initial-advertise-peer-urls"), ",")
		if !slices.Equal(membership.NormalizeURLs(adv), membership.NormalizeURLs(initialCluster(t, c)[name])) {
			names = append(names, name)
		}
	}
	return names
}

// correctSelfSigned returns the self-signed commands with each member's
// --initial-advertise-peer-urls set to its --initial-cluster entry. It
// fails the test unless that changes exactly one word of one command, and
// in it only URL schemes (the guide's infra0 advertises http).
func correctSelfSigned(t testing.TB, g *guide) []guideCommand {
	t.Helper()
	var out []guideCommand
	changed := 0
	for _, c := range g.selfSigned {
		name := mustFlag(t, c, "name")
		adv := mustFlag(t, c, "initial-advertise-peer-urls")
		listed := strings.Join(initialCluster(t, c)[name], ",")
		fixed := c
		if adv != listed {
			fixed.argv = setFlag(c.argv, "initial-advertise-peer-urls", listed)
			if d := argvDiff(c.argv, fixed.argv); len(d) != 1 {
				t.Fatalf("guide line %d: correcting %s's advertised peer URLs changes %d words, want 1: %q", c.line, name, len(d), d)
			}
			if !sameButScheme(adv, listed) {
				t.Fatalf("guide line %d: %s advertises %s, the initial cluster lists %s: more than the scheme differs", c.line, name, adv, listed)
			}
			t.Logf("guide line %d: %s runs with --initial-advertise-peer-urls %s instead of the guide's %s (%s)",
				c.line, name, listed, adv, argvDiff(c.argv, fixed.argv)[0])
			changed++
		}
		out = append(out, fixed)
	}
	if changed != 1 {
		t.Fatalf("correcting the self-signed commands changes %d of them, want 1 (the guide's infra0)", changed)
	}
	return out
}

// sameButScheme reports whether two comma-separated URL lists differ at
// most in their schemes.
func sameButScheme(a, b string) bool {
	as, bs := strings.Split(a, ","), strings.Split(b, ",")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		ua, err1 := url.Parse(as[i])
		ub, err2 := url.Parse(bs[i])
		if err1 != nil || err2 != nil {
			return false
		}
		ua.Scheme = ub.Scheme
		if ua.String() != ub.String() {
			return false
		}
	}
	return true
}

// TestGuideSelfSigned runs the self-signed subsection with certificates
// made by cairnctl cert: infra0's command as printed must stop with the
// advertised-URL error; with its one scheme corrected, the three commands
// form a cluster in which every client and peer connection is mutually
// authenticated. Debian's etcd runs the same, and must show the same IDs.
func TestGuideSelfSigned(t *testing.T) {
	g := loadGuide(t)
	requireNetworking(t)
	requireMountNS(t)
	ctlBin := framework.Etcdctl(t)
	bin := framework.Binary(t)
	cairnctl := buildCairnctl(t)
	got := map[string]observed{}
	t.Run("cairn", func(t *testing.T) {
		if framework.IsReferenceEtcd(bin) {
			t.Skip("checks Cairn's texts; the binary under test is the reference etcd")
		}
		got["cairn"] = runSelfSigned(t, g, bin, cairnctl, ctlBin, false)
	})
	t.Run("etcd", func(t *testing.T) {
		got["etcd"] = runSelfSigned(t, g, framework.ReferenceEtcd(t), cairnctl, ctlBin, true)
	})
	compareIDs(t, got)
}

// runSelfSigned runs the self-signed subsection with bin in a network of
// its own; ref says bin is the reference etcd.
//
// Each member runs in a fresh working directory holding the files the
// command names by relative path (ca-peer.crt), and in a mount namespace
// of its own in which a directory holding its files named by absolute path
// is bind-mounted on the guide's /path/to.
func runSelfSigned(t *testing.T, g *guide, bin, cairnctl, ctlBin string, ref bool) observed {
	fixed := correctSelfSigned(t, g)
	want, clusterID := membersOf(t, fixed)
	hosts := commandHosts(t, g.selfSigned)
	net := newSeedNet(t, append(slices.Clone(hosts), probeHost)...)
	names := map[string]string{} // member name → host
	for i, c := range g.selfSigned {
		names[mustFlag(t, c, "name")] = hosts[i]
	}
	p := makeGuidePKI(t, cairnctl, names)
	target := mountTarget(t, g.selfSigned)
	hostMountTarget(t, target)
	prepare := func(t *testing.T, c guideCommand) (dir string, argv []string) {
		dir = t.TempDir()
		return dir, inMountNS(layoutFiles(t, p, c, dir), target, withBinary(c, bin))
	}

	// 1. infra0 as printed, with no other member running.
	first := g.selfSigned[0]
	name0 := mustFlag(t, first, "name")
	t.Run(name0+"-as-printed", func(t *testing.T) {
		dir, argv := prepare(t, first)
		res := runToExitIn(t, net.namespace(t, hosts[0]), dir, argv, exitBound, nil)
		c := guideCase{title: "self-signed " + name0 + " as printed", guideCommand: first}
		c.exit = 1
		text := fmt.Sprintf(advertiseMismatch, name0)
		if ref {
			checkReference(t, c, text, res)
			return
		}
		checkCairn(t, c, text, res, false)
		if n := strings.Count(res.stderr, "\n"); n > 1 {
			t.Logf("%s: %d lines of stderr before the error:\n%s", c.title, n-1, res.stderr)
		}
	})

	// 2. The cluster: infra0 corrected, the others as printed.
	ctl := etcdctl{bin: ctlBin, flags: p.ctlFlags("ca-client.crt", "etcdctl")}
	c := startCluster(t, net, fixed, ctl, func(cmd guideCommand, ns string) *member {
		dir, argv := prepare(t, cmd)
		return startMemberIn(t, mustFlag(t, cmd, "name"), ns, dir, argv)
	})
	obs := c.checkMemberList(t, want, clusterID)
	c.checkPutGet(t, "guide/self-signed", "written through infra0, read through infra2, over TLS")
	if entries, err := os.ReadDir(target); err != nil || len(entries) > 0 {
		t.Errorf("%s on the host holds %d entries (%v): a member's bind mount is not private to it", target, len(entries), err)
	}
	refusal := "refused TLS connection"
	if ref {
		refusal = "rejected connection" // etcd 3.4: `rejected connection from "<addr>" (error ...)`
	}
	for _, m := range c.members {
		if l := refusalLines(m, refusal); len(l) > 0 {
			t.Errorf("%s refused connections while the members formed the cluster:\n%s", m.name, strings.Join(l, "\n"))
		}
	}

	// 3. Clients: etcdctl on the client host is served with the client
	// certificate, and refused without one, with one from the peer CA,
	// and when it trusts the peer CA instead of the client CA.
	pns := net.namespace(t, probeHost)
	client0 := strings.Split(mustFlag(t, fixed[0], "advertise-client-urls"), ",")[0]
	name1 := mustFlag(t, fixed[1], "name")
	if out := ctl.ok(t, pns, "--endpoints="+client0, "get", "guide/self-signed", "--print-value-only"); out == "" {
		t.Errorf("etcdctl with the client certificate on the client host: get through %s found nothing", client0)
	}
	for _, tc := range []struct {
		what  string
		flags []string
	}{
		{"without a client certificate", p.ctlFlags("ca-client.crt", "")},
		{"with a client certificate signed by ca-peer", p.ctlFlags("ca-client.crt", name1+"-peer")},
		{"trusting ca-peer for the server's certificate", p.ctlFlags("ca-peer.crt", "etcdctl")},
	} {
		// Timeouts shorter than ctl's: a refused etcdctl retries until
		// they run out.
		bad := etcdctl{bin: ctlBin, flags: append([]string{"--dial-timeout=2s", "--command-timeout=2s"}, tc.flags...)}
		stdout, stderr, err := bad.run(pns, "--endpoints="+client0, "get", "guide/self-signed")
		if err == nil {
			t.Errorf("etcdctl %s: %s served it: %q", tc.what, client0, stdout)
		} else {
			t.Logf("etcdctl %s is refused by %s: %v: %s", tc.what, client0, err, lastLine(stderr))
		}
	}
	if l := waitRefusal(c.members[0], refusal, probeHost); l != "" {
		t.Logf("%s logs: %s", c.members[0].name, l)
	} else if !ref {
		t.Errorf("%s logged no %q line for the client host %s within %v", c.members[0].name, refusal, probeHost, refusalBound)
	} else {
		t.Logf("etcd: %s logged no %q line for the client host %s", c.members[0].name, refusal, probeHost)
	}

	// 4. Peers: infra0's peer port, from the client host, refuses
	// plain HTTP, TLS without a client certificate, a certificate from
	// the client CA, and infra1's own peer certificate (which names
	// infra1's address, not the client host's).
	peer0, err := url.Parse(strings.Split(mustFlag(t, fixed[0], "initial-advertise-peer-urls"), ",")[0])
	if err != nil {
		t.Fatal(err)
	}
	members := peer0.String() + "/members"
	peerCA := p.path("ca-peer.crt")
	for _, tc := range []struct {
		what string
		hc   *http.Client
		url  string
	}{
		{"plain HTTP", nsHTTPClient(pns, nil), "http://" + peer0.Host + "/members"},
		{"TLS without a client certificate", nsHTTPClient(pns, tlsConfig(t, peerCA, "", "")), members},
		{"a client certificate signed by ca-client", nsHTTPClient(pns, tlsConfig(t, peerCA, p.path("etcdctl.crt"), p.path("etcdctl.key"))), members},
		{name1 + "'s peer certificate from another address", nsHTTPClient(pns, tlsConfig(t, peerCA, p.path(name1+"-peer.crt"), p.path(name1+"-peer.key"))), members},
	} {
		status, body, err := get(tc.hc, tc.url)
		switch {
		case err != nil:
			t.Logf("peer port, %s: GET %s: %v", tc.what, tc.url, err)
		case status == http.StatusOK:
			t.Errorf("peer port, %s: GET %s served: %s", tc.what, tc.url, body)
		default:
			t.Logf("peer port, %s: GET %s: %d %q", tc.what, tc.url, status, body)
		}
	}

	// 5. ...and serves infra1 with its peer certificate from its own
	// address, presenting infra0's peer certificate.
	t.Run("peer-accepted", func(t *testing.T) {
		hc := nsHTTPClient(c.ns(1), tlsConfig(t, peerCA, p.path(name1+"-peer.crt"), p.path(name1+"-peer.key")))
		resp, err := hc.Get(members)
		if err != nil {
			t.Fatalf("%s's peer certificate from %s: GET %s: %v", name1, hosts[1], members, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s as %s: %d %q", members, name1, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Etcd-Cluster-ID"); got != membership.FormatID(clusterID) {
			t.Errorf("GET %s: X-Etcd-Cluster-ID %q, want %s", members, got, membership.FormatID(clusterID))
		}
		var list []struct {
			ID   uint64 `json:"id"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("GET %s: %v: %q", members, err, body)
		}
		var gotM, wantM []string
		for _, m := range list {
			gotM = append(gotM, m.Name+"="+membership.FormatID(m.ID))
		}
		for _, w := range want {
			wantM = append(wantM, w.name+"="+membership.FormatID(w.id))
		}
		sort.Strings(gotM)
		if !slices.Equal(gotM, wantM) {
			t.Errorf("GET %s: members %q, want %q", members, gotM, wantM)
		}
		if !pemEqual(t, p.path(name0+"-peer.crt"), resp.TLS.PeerCertificates[0].Raw) {
			t.Errorf("%s's peer port presents %q, not %s-peer.crt", name0, resp.TLS.PeerCertificates[0].Subject, name0)
		}
	})

	// 6. The cluster is unharmed, and every refusal was of the client
	// host: the members never refused each other.
	c.waitHealthy(t)
	for _, m := range c.members {
		for _, l := range refusalLines(m, refusal) {
			if !strings.Contains(l, probeHost+":") {
				t.Errorf("%s refused a connection not from the client host %s: %s", m.name, probeHost, l)
			}
		}
	}
	return obs
}

// get GETs url and returns the status and body.
func get(hc *http.Client, url string) (int, string, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}

// refusalLines returns the member's log lines that contain phrase.
func refusalLines(m *member, phrase string) []string {
	var out []string
	for _, l := range strings.Split(m.log(), "\n") {
		if strings.Contains(l, phrase) {
			out = append(out, l)
		}
	}
	return out
}

// waitRefusal waits up to refusalBound for the member to log a line with
// phrase and host and returns it, or "".
func waitRefusal(m *member, phrase, host string) string {
	for deadline := time.Now().Add(refusalBound); ; time.Sleep(100 * time.Millisecond) {
		for _, l := range refusalLines(m, phrase) {
			if strings.Contains(l, host+":") {
				return l
			}
		}
		if time.Now().After(deadline) {
			return ""
		}
	}
}

// TestGuideAutoTLS runs the automatic-certificates subsection verbatim:
// the members form a cluster that etcdctl reaches over TLS without
// verifying, each serving its client and peer ports with the certificates
// it made under <data-dir>/fixtures. Debian's etcd runs the same, and must
// show the same IDs.
func TestGuideAutoTLS(t *testing.T) {
	g := loadGuide(t)
	requireNetworking(t)
	ctlBin := framework.Etcdctl(t)
	bin := framework.Binary(t)
	got := map[string]observed{}
	t.Run("cairn", func(t *testing.T) { got["cairn"] = runAutoTLS(t, g, bin, ctlBin) })
	t.Run("etcd", func(t *testing.T) {
		if framework.IsReferenceEtcd(bin) {
			t.Skip("the binary under test is the reference etcd")
		}
		got["etcd"] = runAutoTLS(t, g, framework.ReferenceEtcd(t), ctlBin)
	})
	compareIDs(t, got)
}

// runAutoTLS runs the automatic-certificates subsection with bin in a
// network of its own.
func runAutoTLS(t *testing.T, g *guide, bin, ctlBin string) observed {
	want, clusterID := membersOf(t, g.autoTLS)
	net := newSeedNet(t, commandHosts(t, g.autoTLS)...)
	// etcdctl 3.4 honours --insecure-skip-tls-verify only with
	// --insecure-transport=false.
	ctl := etcdctl{bin: ctlBin, flags: []string{"--insecure-transport=false", "--insecure-skip-tls-verify"}}
	c := startCluster(t, net, g.autoTLS, ctl, func(cmd guideCommand, ns string) *member {
		return startMember(t, mustFlag(t, cmd, "name"), ns, withBinary(cmd, bin))
	})
	obs := c.checkMemberList(t, want, clusterID)
	c.checkPutGet(t, "guide/auto-tls", "written through infra0, read through infra2, over automatic TLS")

	for i, m := range c.members {
		for _, side := range []struct{ fixtures, flag, path string }{
			{"client", "advertise-client-urls", "/health"},
			{"peer", "initial-advertise-peer-urls", "/members"},
		} {
			dir := filepath.Join(m.dir, m.name+".etcd", "fixtures", side.fixtures)
			for _, f := range []string{"cert.pem", "key.pem"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s: %v", m.name, err)
				}
			}
			u, err := url.Parse(strings.Split(mustFlag(t, c.cmds[i], side.flag), ",")[0])
			if err != nil {
				t.Fatal(err)
			}
			served := nsServerCert(t, m.ns, u.Host)
			if _, err := os.Stat(filepath.Join(dir, "cert.pem")); err == nil && !pemEqual(t, filepath.Join(dir, "cert.pem"), served.Raw) {
				t.Errorf("%s serves %s with %q (issuer %q), not %s/cert.pem", m.name, u.Host, served.Subject, served.Issuer, dir)
			}
			status, body, err := get(nsHTTPClient(m.ns, nil), "http://"+u.Host+side.path)
			if err == nil && status == http.StatusOK {
				t.Errorf("%s serves plain HTTP on %s: GET %s: %s", m.name, u.Host, side.path, body)
			}
		}
	}
	return obs
}
