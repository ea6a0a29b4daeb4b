package seed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/tests/framework"
)

// The guide's etcd discovery sections name two services by host name: a
// private cluster, myetcd.local, and the public discovery.etcd.io. The
// tests run each on an address of the guide's subnet that no command uses,
// in a namespace of its own, and give every namespace of the network a
// hosts file (/etc/netns/<ns>/hosts, which `ip netns exec` mounts on
// /etc/hosts) that maps both names there. The namespaces have no default
// route, so neither name can reach anything outside the test's network.
const (
	myetcdHost    = "10.0.1.20"
	myetcdName    = "myetcd.local"
	publicHost    = "10.0.1.21"
	publicName    = "discovery.etcd.io"
	netnsEtcDir   = "/etc/netns"
	discoverySize = "3"
	// outsideAddr is an address outside the guide's subnet (TEST-NET-1,
	// RFC 5737) to which no namespace may have a route.
	outsideAddr = "192.0.2.1"
)

// The discovery sections' headings, in the guide's language and in the
// English original.
var (
	customHeadings         = []string{"#### 定制 etcd 发现服务", "#### Custom etcd discovery service"}
	publicHeadings         = []string{"#### 公共 etcd 发现服务", "#### Public etcd discovery service"}
	discoveryErrorHeadings = []string{"##### 发现服务错误", "##### Discovery server errors"}
)

// tokenURL is a token URL that discovery.etcd.io hands out: 32 hex digits
// from /new, 40 in the guide's example.
var tokenURL = regexp.MustCompile(`^https://discovery\.etcd\.io/([0-9a-f]{32}|[0-9a-f]{40})$`)

// discoverySection is what the tests take from one discovery section: its
// curl command, its "$ etcd" member commands, and its other blocks
// (fragments showing the discovery URL as an environment variable or a
// flag).
type discoverySection struct {
	heading   string
	curl      guideCommand
	members   []guideCommand
	fragments []string
}

// loadDiscoverySection parses the section under one of headings.
func loadDiscoverySection(t testing.TB, headings []string) discoverySection {
	t.Helper()
	lines := extractLines(t)
	h := findHeading(lines, 0, headings)
	if h < 0 {
		t.Fatalf("%s has no heading %q", extractPath, headings)
	}
	s := discoverySection{heading: strings.TrimSpace(strings.TrimLeft(lines[h], "#"))}
	curls := 0
	for _, b := range fencedBlocks(lines, h, nextHeading(lines, h+1, "#### ")) {
		switch {
		case strings.HasPrefix(b.lines[0], "$ curl "):
			c, err := parseCommand(b, "curl", true)
			if err != nil {
				t.Fatalf("%s: %v", extractPath, err)
			}
			s.curl = c
			curls++
		case strings.HasPrefix(b.lines[0], "$ "):
			c, err := parseBlock(b)
			if err != nil {
				t.Fatalf("%s: %v", extractPath, err)
			}
			s.members = append(s.members, c)
		default:
			s.fragments = append(s.fragments, strings.Join(b.lines, "\n"))
		}
	}
	if curls != 1 || len(s.members) != 3 {
		t.Fatalf("%q (line %d) has %d \"$ curl\" and %d \"$ etcd\" blocks, want 1 and 3", lines[h], h+1, curls, len(s.members))
	}
	return s
}

// loadDiscoveryError parses the one block of the "Discovery server errors"
// case: a member command, the guide's output line and "exit N".
func loadDiscoveryError(t testing.TB) guideCommand {
	t.Helper()
	lines := extractLines(t)
	h := findHeading(lines, 0, discoveryErrorHeadings)
	if h < 0 {
		t.Fatalf("%s has no heading %q", extractPath, discoveryErrorHeadings)
	}
	blocks := fencedBlocks(lines, h, nextHeading(lines, h+1, "##### "))
	if len(blocks) != 1 {
		t.Fatalf("%q (line %d) has %d code blocks, want 1", lines[h], h+1, len(blocks))
	}
	c, err := parseBlock(blocks[0])
	if err != nil {
		t.Fatalf("%s: %v", extractPath, err)
	}
	if c.exit < 0 || len(c.output) != 1 {
		t.Fatalf("%q (line %d): want one output line and an \"exit N\" line, got %q", lines[h], h+1, c.output)
	}
	return c
}

func extractLines(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(extractPath))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
}

// discoveryURL returns the --discovery the member commands share.
func discoveryURL(t testing.TB, cmds []guideCommand) string {
	t.Helper()
	u := mustFlag(t, cmds[0], "discovery")
	for _, c := range cmds {
		if v := mustFlag(t, c, "discovery"); v != u {
			t.Fatalf("guide line %d: --discovery %s differs from the first command's %s", c.line, v, u)
		}
		if _, ok := flagValue(c.argv, "initial-cluster"); ok {
			t.Fatalf("guide line %d: a discovery command with --initial-cluster", c.line)
		}
	}
	return u
}

// discoveryMembers returns the members the commands define, sorted by
// name, and their cluster ID: etcd takes the discovery URL for the
// cluster token (compat.md §2 and §4).
func discoveryMembers(t testing.TB, cmds []guideCommand) ([]wantMember, uint64) {
	t.Helper()
	tok := discoveryURL(t, cmds)
	var ms []wantMember
	var ids []uint64
	for _, c := range cmds {
		peers := strings.Split(mustFlag(t, c, "initial-advertise-peer-urls"), ",")
		w := wantMember{
			name:       mustFlag(t, c, "name"),
			id:         membership.MemberID(peers, tok, nil),
			peerURLs:   peers,
			clientURLs: strings.Split(mustFlag(t, c, "advertise-client-urls"), ","),
		}
		ms = append(ms, w)
		ids = append(ids, w.id)
	}
	slices.SortFunc(ms, func(a, b wantMember) int { return strings.Compare(a.name, b.name) })
	return ms, membership.ClusterID(ids)
}

// TestGuideDiscoveryParse checks the discovery sections as the tests take
// them: the custom section's curl sets size 3 under the path its members
// use as --discovery on myetcd.local; the public section's curl asks
// discovery.etcd.io for a size-3 token and shows the URL that its
// fragments and members use; the error case runs the public infra0
// command; and both member sets listen on the static section's hosts,
// leaving the services' addresses free.
func TestGuideDiscoveryParse(t *testing.T) {
	g := loadGuide(t)
	custom := loadDiscoverySection(t, customHeadings)
	public := loadDiscoverySection(t, publicHeadings)
	errCase := loadDiscoveryError(t)
	hosts := guideHosts(t, g)
	for _, s := range []discoverySection{custom, public} {
		t.Logf("%s, guide line %d: %s -> %q", s.heading, s.curl.line, strings.Join(s.curl.argv, " "), s.curl.output)
		if got := commandHosts(t, s.members); !slices.Equal(got, hosts) {
			t.Errorf("%s: the members listen for peers on %q, the static section's on %q", s.heading, got, hosts)
		}
		want, id := discoveryMembers(t, s.members)
		t.Logf("%s: token %s, cluster %s, members %s", s.heading, discoveryURL(t, s.members),
			membership.FormatID(id), formatIDs(idsOf(want)))
	}

	for _, h := range []string{myetcdHost, publicHost} {
		if slices.Contains(hosts, h) || h == probeHost {
			t.Errorf("the guide's commands or the TLS tests use %s, which the discovery tests give a service", h)
		}
	}

	u := discoveryURL(t, custom.members)
	wantCurl := []string{"curl", "-X", "PUT", u + "/_config/size", "-d", "value=" + discoverySize}
	if !strings.HasPrefix(u, "https://"+myetcdName+"/v2/keys/") || !slices.Equal(custom.curl.argv, wantCurl) {
		t.Errorf("custom: curl %q and --discovery %s: want %q with the URL under https://%s/v2/keys/", custom.curl.argv, u, wantCurl, myetcdName)
	}

	u = discoveryURL(t, public.members)
	if !tokenURL.MatchString(u) {
		t.Errorf("public: --discovery %s is not a discovery.etcd.io token URL", u)
	}
	if want := []string{"curl", "https://" + publicName + "/new?size=" + discoverySize}; !slices.Equal(public.curl.argv, want) {
		t.Errorf("public: curl %q, want %q", public.curl.argv, want)
	}
	if !slices.Equal(public.curl.output, []string{u}) {
		t.Errorf("public: curl prints %q, the members use %s", public.curl.output, u)
	}
	if want := []string{"ETCD_DISCOVERY=" + u, "--discovery " + u}; !slices.Equal(public.fragments, want) {
		t.Errorf("public: fragments %q, want %q", public.fragments, want)
	}
	if !slices.Equal(errCase.argv, public.members[0].argv) {
		t.Errorf("the discovery error case runs %q, not the public infra0 command %q", errCase.argv, public.members[0].argv)
	}

	compat := sharedPath(t, envCompat, "spec", "compat.md")
	data, err := os.ReadFile(compat)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("compat.md is not at %s (set %s); not comparing with it", compat, envCompat)
	}
	if err != nil {
		t.Fatal(err)
	}
	text := sizeErrorText(t, errCase)
	listed := strings.Replace(text, u, "<discovery URL>", 1)
	if !strings.Contains(section(string(data), "## 3."), "`"+listed+"`") {
		t.Errorf("compat.md §3 does not list %q", listed)
	}
}

func idsOf(ms []wantMember) map[string]uint64 {
	ids := map[string]uint64{}
	for _, m := range ms {
		ids[m.name] = m.id
	}
	return ids
}

// sizeErrorText is the error case's text without "etcd: ", with the
// guide's typographic apostrophe (U+2019, which the translation brought
// in) as the ASCII one that etcd's source and compat.md §3 use.
func sizeErrorText(t testing.TB, c guideCommand) string {
	t.Helper()
	text, ok := strings.CutPrefix(c.output[0], "etcd: ")
	if !ok {
		t.Fatalf("guide line %d: output %q does not start with \"etcd: \"", c.line, c.output[0])
	}
	return strings.ReplaceAll(text, "\u2019", "'")
}

// discoveryEnv is the environment the processes of the discovery tests get
// besides cleanEnv: trust in the test's CA (Go reads SSL_CERT_FILE, the
// curl tool CURL_CA_BUNDLE: Debian's curl ignores SSL_CERT_FILE) and no
// HTTP proxy for any host, so that every request goes where the
// namespace's hosts file says.
func discoveryEnv(ca string) []string {
	return []string{"SSL_CERT_FILE=" + ca, "CURL_CA_BUNDLE=" + ca, "NO_PROXY=*", "no_proxy=*"}
}

// discoveryPKI makes, with cairnctl, a CA and a server certificate for
// each host name → address, named after the host name, in a fresh
// directory, and returns it.
func discoveryPKI(t *testing.T, servers map[string]string) string {
	t.Helper()
	cairnctl := buildCairnctl(t)
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(cairnctl, append([]string{"cert"}, args...)...)
		cmd.Env = cleanEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cairnctl cert %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("ca", "--out-dir", dir, "--name", "ca")
	for name, addr := range servers {
		run("issue", "--ca-cert", filepath.Join(dir, "ca.crt"), "--ca-key", filepath.Join(dir, "ca.key"),
			"--profile", "server", "--hosts", name+","+addr+",127.0.0.1", "--cn", name,
			"--out-dir", dir, "--name", name)
	}
	return dir
}

// netnsHosts gives every namespace of net a hosts file mapping names
// (host name → address) and checks, with getent(1) in each namespace,
// that they resolve there.
func netnsHosts(t *testing.T, net *seedNet, names map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	var sorted []string
	for name := range names {
		sorted = append(sorted, name)
	}
	slices.Sort(sorted)
	for _, name := range sorted {
		fmt.Fprintf(&b, "%s\t%s\n", names[name], name)
	}
	netnsEtcFile(t, net, "hosts", b.String())
	for addr, ns := range net.ns {
		for _, name := range sorted {
			res := runToExit(t, ns, []string{"getent", "ahostsv4", name}, exitBound, nil)
			if f := strings.Fields(res.stdout); res.code != 0 || len(f) == 0 || f[0] != names[name] {
				t.Fatalf("in %s (%s): getent ahostsv4 %s: exit %d, %q; want %s", ns, addr, name, res.code, res.stdout, names[name])
			}
		}
	}
}

// netnsEtcFile gives every namespace of net the file /etc/netns/<ns>/<name>
// holding content, which `ip netns exec` mounts on /etc/<name>. The files,
// their directories and /etc/netns when the test made it are removed at
// cleanup.
func netnsEtcFile(t *testing.T, net *seedNet, name, content string) {
	t.Helper()
	_, err := os.Stat(netnsEtcDir)
	madeEtc := errors.Is(err, fs.ErrNotExist)
	var dirs []string
	t.Cleanup(func() {
		for _, d := range dirs {
			if err := os.RemoveAll(d); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if madeEtc {
			if err := os.Remove(netnsEtcDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Logf("cleanup: %s, which the test made, stays: %v", netnsEtcDir, err)
			}
		}
	})
	for _, ns := range net.ns {
		d := filepath.Join(netnsEtcDir, ns)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Skipf("cannot give the namespaces their own /etc/%s: %v", name, err)
		}
		dirs = append(dirs, d)
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitServing polls GET https://<addr>/health from namespace ns, with TLS
// for server name name and trusting ca, until it answers 200; m exiting
// fails the test at once.
func waitServing(t *testing.T, m *member, ns, addr, name, ca string) {
	t.Helper()
	cfg := tlsConfig(t, ca, "", "")
	cfg.ServerName = name
	hc := nsHTTPClient(ns, cfg)
	deadline := time.Now().Add(healthBound)
	for {
		if m.exited() {
			t.Fatalf("%s exited (%v); last lines of its log:\n%s", m.name, m.err, m.tail(logTail))
		}
		code, body, err := get(hc, "https://"+addr+"/health")
		if err == nil && code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (%s) does not serve https://%s/health after %v: %d %q %v%s", m.name, name, addr, healthBound, code, body, err, bridgeFilterHint())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startMyetcd starts a one-member cluster of bin on myetcdHost serving
// https://myetcd.local (port 443) with the certificate in pki, without
// client certificates, as the private cluster of the custom discovery
// section. Its flags are the test's, not the guide's.
func startMyetcd(t *testing.T, net *seedNet, bin, pki string) *member {
	t.Helper()
	ns := net.namespace(t, myetcdHost)
	argv := []string{bin, "--name", "myetcd",
		"--listen-client-urls", "https://" + myetcdHost + ":443,https://127.0.0.1:443",
		"--advertise-client-urls", "https://" + myetcdName + ":443",
		"--cert-file", filepath.Join(pki, myetcdName+".crt"), "--key-file", filepath.Join(pki, myetcdName+".key"),
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "myetcd=http://127.0.0.1:2380"}
	ca := filepath.Join(pki, "ca.crt")
	m := startMemberEnv(t, "myetcd", ns, t.TempDir(), discoveryEnv(ca), argv)
	waitServing(t, m, ns, myetcdHost, myetcdName, ca)
	return m
}

// runCurl runs a guide's curl command verbatim in namespace ns, in a fresh
// working directory where each of its glob patterns must match nothing
// (so sh would pass it on as it is), with env.
func runCurl(t *testing.T, ns string, c guideCommand, env []string) result {
	t.Helper()
	dir := t.TempDir()
	for _, p := range c.patterns {
		m, err := filepath.Glob(filepath.Join(dir, p))
		if err != nil || len(m) > 0 {
			t.Fatalf("guide line %d: sh would expand %q in %s (%q, %v)", c.line, p, dir, m, err)
		}
	}
	res := runToExitEnv(t, ns, dir, env, c.argv, exitBound, nil)
	t.Logf("guide line %d, in %s: %s\n  exit %d, stdout %q, stderr %q", c.line, ns, strings.Join(c.argv, " "), res.code, res.stdout, res.stderr)
	if res.code != 0 {
		t.Fatalf("guide line %d: curl exits %d\nstdout: %s\nstderr: %s", c.line, res.code, res.stdout, res.stderr)
	}
	return res
}

// v2Node is the node of a v2 keys API answer.
type v2Node struct {
	Action string `json:"action"`
	Node   struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"node"`
}

func parseV2(t testing.TB, what, body string) v2Node {
	t.Helper()
	var n v2Node
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		t.Fatalf("%s: not a v2 keys answer (%v): %q", what, err, body)
	}
	return n
}

// startDiscoveryCluster starts the member commands with bin and env and
// checks the cluster they form through discovery: etcd's IDs for the
// discovery URL as token in every member's list, and a put read back.
func startDiscoveryCluster(t *testing.T, net *seedNet, cmds []guideCommand, bin string, env []string, key string) observed {
	t.Helper()
	want, clusterID := discoveryMembers(t, cmds)
	ctl := etcdctl{bin: framework.Etcdctl(t)}
	c := startCluster(t, net, cmds, ctl, func(cmd guideCommand, ns string) *member {
		return startMemberEnv(t, mustFlag(t, cmd, "name"), ns, t.TempDir(), env, withBinary(cmd, bin))
	})
	obs := c.checkMemberList(t, want, clusterID)
	t.Logf("cluster %s, members %s", membership.FormatID(obs.clusterID), formatIDs(obs.ids))
	c.checkPutGet(t, key, "written through infra0, read through infra2")
	return obs
}

// newDiscoveryNet makes the network of the discovery tests: the members'
// hosts and those of the two services, all names resolving to the latter.
func newDiscoveryNet(t *testing.T, cmds []guideCommand) *seedNet {
	t.Helper()
	requireNetworking(t)
	for _, tool := range []string{"curl", "getent"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s to run the guide's discovery section: %v", tool, err)
		}
	}
	net := newSeedNet(t, append(commandHosts(t, cmds), myetcdHost, publicHost)...)
	// newSeedNet checked that no namespace has a default route; that
	// no namespace has any route out of the subnet is what keeps the
	// guide's public host name from reaching the real service.
	for _, ns := range net.ns {
		if out, err := ipCmd("-n", ns, "-4", "route", "get", outsideAddr); err == nil {
			t.Fatalf("namespace %s has a route to %s, outside %s: %s", ns, outsideAddr, guideSubnet, out)
		}
	}
	netnsHosts(t, net, map[string]string{myetcdName: myetcdHost, publicName: publicHost})
	return net
}

// TestGuideDiscoveryCustom runs the custom discovery section verbatim but
// for the binary: its curl sets the size key on myetcd.local, a cluster of
// the binary under test that the test runs, and its three members meet
// there; then the same with Debian's etcd as the members (myetcd.local
// stays the binary under test), which must show the same IDs.
func TestGuideDiscoveryCustom(t *testing.T) {
	s := loadDiscoverySection(t, customHeadings)
	bin := requireServices(t)
	got := map[string]observed{}
	t.Run("cairn", func(t *testing.T) { got["cairn"] = runCustom(t, s, bin, bin) })
	t.Run("etcd", func(t *testing.T) { got["etcd"] = runCustom(t, s, framework.ReferenceEtcd(t), bin) })
	compareIDs(t, got)
}

// requireServices returns the binary under test, which runs the discovery
// services, and skips the test when it is the reference etcd: the
// services need `cairn discovery` and a v2 keys API served by default.
func requireServices(t *testing.T) string {
	t.Helper()
	bin := framework.Binary(t)
	if framework.IsReferenceEtcd(bin) {
		t.Skip("the discovery services run on the binary under test, which is the reference etcd")
	}
	return bin
}

// runCustom runs the custom section with member binary bin and service
// binary svc in a network of its own.
func runCustom(t *testing.T, s discoverySection, bin, svc string) observed {
	net := newDiscoveryNet(t, s.members)
	pki := discoveryPKI(t, map[string]string{myetcdName: myetcdHost})
	env := discoveryEnv(filepath.Join(pki, "ca.crt"))
	startMyetcd(t, net, svc, pki)

	res := runCurl(t, net.namespace(t, hostOf(t, s.members[0], "listen-peer-urls")), s.curl, env)
	u := discoveryURL(t, s.members)
	key := strings.TrimPrefix(u, "https://"+myetcdName+"/v2/keys") + "/_config/size"
	if n := parseV2(t, "curl", res.stdout); n.Action != "set" || n.Node.Key != key || n.Node.Value != discoverySize {
		t.Fatalf("curl: %+v, want action set, key %s, value %s", n, key, discoverySize)
	}
	return startDiscoveryCluster(t, net, s.members, bin, env, "guide/discovery/custom")
}

// TestGuideDiscoveryPublic runs the public discovery section verbatim but
// for the binary, against `cairn discovery` serving https://discovery.etcd.io
// over a cluster of the binary under test: its curl gets a new token URL
// for size 3; the error case's command, run before the guide's token has a
// size, exits 1 with the guide's text; once the test has set the size
// through the service, the three members meet there. Then the same with
// Debian's etcd as the members, which must show the same IDs; for the
// error case only its exit status is asserted.
func TestGuideDiscoveryPublic(t *testing.T) {
	s := loadDiscoverySection(t, publicHeadings)
	errCase := guideCase{title: strings.TrimSpace(strings.TrimLeft(discoveryErrorHeadings[1], "#")), guideCommand: loadDiscoveryError(t)}
	bin := requireServices(t)
	got := map[string]observed{}
	t.Run("cairn", func(t *testing.T) { got["cairn"] = runPublic(t, s, errCase, bin, bin, false) })
	t.Run("etcd", func(t *testing.T) { got["etcd"] = runPublic(t, s, errCase, framework.ReferenceEtcd(t), bin, true) })
	compareIDs(t, got)
}

// runPublic runs the public section with member binary bin and service
// binary svc in a network of its own; ref says bin is the reference etcd.
func runPublic(t *testing.T, s discoverySection, errCase guideCase, bin, svc string, ref bool) observed {
	net := newDiscoveryNet(t, s.members)
	pki := discoveryPKI(t, map[string]string{myetcdName: myetcdHost, publicName: publicHost})
	ca := filepath.Join(pki, "ca.crt")
	env := discoveryEnv(ca)
	startMyetcd(t, net, svc, pki)

	ns := net.namespace(t, publicHost)
	d := startMemberEnv(t, "discovery", ns, t.TempDir(), env, []string{svc, "discovery",
		"--addr", publicHost + ":443", "--etcd", "https://" + myetcdName + ":443", "--host", "https://" + publicName,
		"--cert-file", filepath.Join(pki, publicName+".crt"), "--key-file", filepath.Join(pki, publicName+".key")})
	waitServing(t, d, ns, publicHost, publicName, ca)

	client := net.namespace(t, hostOf(t, s.members[0], "listen-peer-urls"))
	res := runCurl(t, client, s.curl, env)
	got := strings.TrimSuffix(res.stdout, "\n")
	if !tokenURL.MatchString(got) || len(got) != len("https://"+publicName+"/")+32 {
		t.Fatalf("curl prints %q, want https://%s/<32 hex digits>", res.stdout, publicName)
	}
	cfg := tlsConfig(t, ca, "", "")
	cfg.ServerName = publicName
	code, body, err := get(nsHTTPClient(client, cfg), "https://"+publicHost+strings.TrimPrefix(got, "https://"+publicName)+"/_config/size")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s/_config/size: %d %q %v", got, code, body, err)
	}
	if n := parseV2(t, "GET "+got+"/_config/size", body); n.Node.Value != discoverySize {
		t.Errorf("GET %s/_config/size: value %q, want %s", got, n.Node.Value, discoverySize)
	}

	// The error case: the guide's token has no size yet.
	u := discoveryURL(t, s.members)
	t.Run("size-missing", func(t *testing.T) {
		ns := net.namespace(t, hostOf(t, errCase.guideCommand, "listen-peer-urls"))
		res := runToExitEnv(t, ns, t.TempDir(), env, withBinary(errCase.guideCommand, bin), exitBound, nil)
		text := sizeErrorText(t, errCase.guideCommand)
		t.Logf("exit %d, last line of stderr %q", res.code, lastLine(res.stderr))
		if text != strings.TrimPrefix(errCase.output[0], "etcd: ") {
			t.Logf("guide line %d: the guide's text has a typographic apostrophe; want the ASCII one of etcd and compat.md §3: %q", errCase.line, text)
		}
		if ref {
			checkReference(t, errCase, text, res)
			for _, l := range strings.Split(res.stderr, "\n") {
				if strings.Contains(l, "size") {
					t.Logf("etcd: %s", l)
				}
			}
		} else {
			checkCairn(t, errCase, text, res, false)
		}
	})

	// The guide's token gets its size from the test, through the service,
	// as /new gives its own tokens theirs.
	put := runToExitEnv(t, client, t.TempDir(), env,
		[]string{"curl", "-sS", "-X", "PUT", u + "/_config/size", "-d", "value=" + discoverySize}, exitBound, nil)
	if put.code != 0 {
		t.Fatalf("curl -X PUT %s/_config/size: exit %d\n%s%s", u, put.code, put.stdout, put.stderr)
	}
	if n := parseV2(t, "PUT "+u+"/_config/size", put.stdout); n.Node.Value != discoverySize {
		t.Fatalf("PUT %s/_config/size: %q", u, put.stdout)
	}
	return startDiscoveryCluster(t, net, s.members, bin, env, "guide/discovery/public")
}
