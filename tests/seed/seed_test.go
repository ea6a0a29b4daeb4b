package seed

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/tests/framework"
)

// TestGuideParse checks what the other tests take from the guide: three
// member commands on three hosts of 10.0.1.0/24, three error cases each
// ending in "exit 1" after one "etcd: " line, texts that compat.md §3
// lists, and member and cluster IDs that compat.md §2 gives as check
// values for the guide's flags.
func TestGuideParse(t *testing.T) {
	g := loadGuide(t)
	hosts := guideHosts(t, g)
	for i, c := range g.static {
		t.Logf("guide line %d: %s", c.line, strings.Join(c.argv, " "))
		a, err := netip.ParseAddr(hosts[i])
		if err != nil || !guideSubnet.Contains(a) {
			t.Errorf("guide line %d: peer host %q is not an address in %s", c.line, hosts[i], guideSubnet)
		}
		if slices.Contains(hosts[:i], hosts[i]) {
			t.Errorf("guide line %d: host %s used twice", c.line, hosts[i])
		}
	}
	want, clusterID := guideMembers(t, g)
	for _, c := range g.cases {
		t.Logf("%s, guide line %d: %s\n  -> %s (exit %d)", c.title, c.line, strings.Join(c.argv, " "), c.output[0], c.exit)
		if !strings.HasPrefix(c.output[0], "etcd: ") || c.exit != 1 {
			t.Errorf("%s: want \"etcd: <text>\" and exit 1, got %q and exit %d", c.title, c.output[0], c.exit)
		}
	}

	compat := sharedPath(t, envCompat, "spec", "compat.md")
	data, err := os.ReadFile(compat)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("compat.md is not at %s (set %s); not comparing the guide with it", compat, envCompat)
	}
	if err != nil {
		t.Fatal(err)
	}
	ids := section(string(data), "## 2.")
	for _, w := range want {
		if !strings.Contains(ids, "`"+membership.FormatID(w.id)+"`") {
			t.Errorf("compat.md §2 does not give %s's ID %s (computed for the guide's flags) as a check value", w.name, membership.FormatID(w.id))
		}
	}
	if !strings.Contains(ids, "`"+membership.FormatID(clusterID)+"`") {
		t.Errorf("compat.md §2 does not give the guide's cluster ID %s as a check value", membership.FormatID(clusterID))
	}
	texts := section(string(data), "## 3.")
	for _, c := range g.cases {
		text := strings.TrimPrefix(c.output[0], "etcd: ")
		if !strings.Contains(texts, "`"+text+"`") {
			t.Errorf("%s: compat.md §3 does not list the guide's text %q", c.title, text)
		}
	}
}

// section returns the part of a markdown text from the heading that starts
// with prefix to the next heading of the same level.
func section(text, prefix string) string {
	i := strings.Index(text, "\n"+prefix)
	if i < 0 {
		return ""
	}
	rest := text[i+1:]
	if j := strings.Index(rest[len(prefix):], "\n## "); j >= 0 {
		return rest[:len(prefix)+j]
	}
	return rest
}

func TestShellSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "etcd --name infra0   --initial-cluster-state=new", want: []string{"etcd", "--name", "infra0", "--initial-cluster-state=new"}},
		{in: `a 'b c' "d \"e\" \x" f\ g ''`, want: []string{"a", "b c", `d "e" \x`, "f g", ""}},
		{in: "a --x=y#z b~", want: []string{"a", "--x=y#z", "b~"}},
		{in: "a $HOME", err: true},
		{in: `a "$HOME"`, err: true},
		{in: "a *", err: true},
		{in: "a {b,c}", err: true},
		{in: "a > f", err: true},
		{in: "a; b", err: true},
		{in: "a #c", err: true},
		{in: "a ~/x", err: true},
		{in: `a "x`, err: true},
		{in: `a 'x`, err: true},
	} {
		got, err := shellSplit(tc.in)
		if (err != nil) != tc.err || (!tc.err && !slices.Equal(got, tc.want)) {
			t.Errorf("shellSplit(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	// With globs allowed, unquoted patterns are words and patterns both;
	// everything else is as before.
	for _, tc := range []struct {
		in       string
		words    []string
		patterns []string
		err      bool
	}{
		{in: "curl https://h/new?size=3", words: []string{"curl", "https://h/new?size=3"}, patterns: []string{"https://h/new?size=3"}},
		{in: "a b* 'c?' [d]", words: []string{"a", "b*", "c?", "[d]"}, patterns: []string{"b*", "[d]"}},
		{in: "a $HOME?", err: true},
		{in: "a; b?", err: true},
	} {
		words, patterns, err := splitWords(tc.in, true)
		if (err != nil) != tc.err || (!tc.err && (!slices.Equal(words, tc.words) || !slices.Equal(patterns, tc.patterns))) {
			t.Errorf("splitWords(%q, true) = %q, %q, %v; want %q, %q, error %v", tc.in, words, patterns, err, tc.words, tc.patterns, tc.err)
		}
	}
}

// TestGuideStatic starts the static section's three commands, verbatim but
// for the binary, on the guide's three hosts and checks the cluster serves
// etcdctl 3.4 with the IDs etcd computes; then does the same with Debian's
// etcd and checks both clusters show the same IDs.
func TestGuideStatic(t *testing.T) {
	g := loadGuide(t)
	requireNetworking(t)
	ctl := etcdctl{bin: framework.Etcdctl(t)}
	bin := framework.Binary(t)
	got := map[string]observed{}
	t.Run("cairn", func(t *testing.T) { got["cairn"] = runStatic(t, g, bin, ctl) })
	t.Run("etcd", func(t *testing.T) {
		if framework.IsReferenceEtcd(bin) {
			t.Skip("the binary under test is the reference etcd")
		}
		got["etcd"] = runStatic(t, g, framework.ReferenceEtcd(t), ctl)
	})
	compareIDs(t, got)
}

// compareIDs checks that got["cairn"] and got["etcd"], when both subtests
// ran, show the same IDs.
func compareIDs(t *testing.T, got map[string]observed) {
	t.Helper()
	c, e := got["cairn"], got["etcd"]
	if c.ids == nil || e.ids == nil {
		return
	}
	if c.clusterID != e.clusterID || fmt.Sprint(c.ids) != fmt.Sprint(e.ids) {
		t.Errorf("the same guide commands give different IDs:\n  cairn cluster %s members %s\n  etcd  cluster %s members %s",
			membership.FormatID(c.clusterID), formatIDs(c.ids), membership.FormatID(e.clusterID), formatIDs(e.ids))
	} else {
		t.Logf("cairn and etcd agree: cluster %s, members %s", membership.FormatID(c.clusterID), formatIDs(c.ids))
	}
}

func formatIDs(ids map[string]uint64) string {
	var s []string
	for name, id := range ids {
		s = append(s, name+"="+membership.FormatID(id))
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// runStatic runs the static section with bin in a network of its own.
func runStatic(t *testing.T, g *guide, bin string, ctl etcdctl) observed {
	want, clusterID := guideMembers(t, g)
	net := newSeedNet(t, guideHosts(t, g)...)
	c := startGuideCluster(t, net, g, bin, ctl)
	obs := c.checkMemberList(t, want, clusterID)

	c.checkPutGet(t, "guide/static", "written through infra0, read through infra2")
	return obs
}

// TestGuideErrorCases runs the guide's three error cases verbatim but for
// the binary: the first two with no cluster running, the third against
// the cluster the static section starts. With the binary under test each
// must exit with the guide's status and print the guide's text; Debian's
// etcd is run too, and where it departs from the guide the test logs how.
func TestGuideErrorCases(t *testing.T) {
	g := loadGuide(t)
	requireNetworking(t)
	ctl := etcdctl{bin: framework.Etcdctl(t)}
	bin := framework.Binary(t)
	t.Run("cairn", func(t *testing.T) {
		if framework.IsReferenceEtcd(bin) {
			t.Skip("checks Cairn's texts; the binary under test is the reference etcd")
		}
		runErrorCases(t, g, bin, ctl, false)
	})
	t.Run("etcd", func(t *testing.T) {
		runErrorCases(t, g, framework.ReferenceEtcd(t), ctl, true)
	})
}

// clusterIDPair is the "(local != remote)" of the conflicting-ID text.
var clusterIDPair = regexp.MustCompile(`\(([0-9a-f]+) != ([0-9a-f]+)\)`)

// runErrorCases runs every error case with bin; ref says bin is the
// reference etcd rather than the binary under test.
func runErrorCases(t *testing.T, g *guide, bin string, ctl etcdctl, ref bool) {
	hosts := guideHosts(t, g)
	for _, c := range g.cases {
		if h := hostOf(t, c.guideCommand, "listen-peer-urls"); !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	net := newSeedNet(t, hosts...)
	run := func(c guideCase) result {
		ns := net.namespace(t, hostOf(t, c.guideCommand, "listen-peer-urls"))
		var until func(string) bool
		if ref {
			// etcd 3.4 logs the mismatch and keeps running.
			until = func(stderr string) bool { return etcdMismatch.MatchString(stderr) }
		}
		return runToExit(t, ns, withBinary(c.guideCommand, bin), exitBound, until)
	}

	// The cases that need no running cluster come first: the first
	// one listens where infra1 would.
	var later []int
	for i, c := range g.cases {
		if clusterIDPair.MatchString(c.output[0]) {
			later = append(later, i)
			continue
		}
		t.Run(fmt.Sprintf("case%d", i+1), func(t *testing.T) {
			text := strings.TrimPrefix(c.output[0], "etcd: ")
			res := run(c)
			if ref {
				checkReference(t, c, text, res)
			} else {
				checkCairn(t, c, text, res, true)
			}
		})
	}
	if len(later) == 0 {
		return
	}

	want, clusterID := guideMembers(t, g)
	cl := startGuideCluster(t, net, g, bin, ctl)
	cl.checkMemberList(t, want, clusterID)
	for _, i := range later {
		c := g.cases[i]
		t.Run(fmt.Sprintf("case%d", i+1), func(t *testing.T) {
			local := initialClusterID(t, c.guideCommand)
			pair := fmt.Sprintf("(%s != %s)", membership.FormatID(local), membership.FormatID(clusterID))
			text := clusterIDPair.ReplaceAllLiteralString(strings.TrimPrefix(c.output[0], "etcd: "), pair)
			t.Logf("the guide's sample IDs %s are %s for these flags (local: the case's initial cluster and token, remote: the guide's cluster)",
				clusterIDPair.FindString(c.output[0]), pair)
			res := run(c)
			if ref {
				checkReferenceMismatch(t, c, text, res, local, clusterID)
			} else {
				checkCairn(t, c, text, res, false)
			}
		})
	}
	// The misconfigured member must not have hurt the running cluster.
	cl.waitHealthy(t)
	cl.checkMemberList(t, want, clusterID)
}

// checkCairn checks that the binary under test exited with the guide's
// status and printed "cairn: " + text as the last line of stderr; alone
// says it must be the only line (a start-up check, before any logging).
func checkCairn(t *testing.T, c guideCase, text string, res result, alone bool) {
	t.Helper()
	what := fmt.Sprintf("%s (guide line %d)", c.title, c.line)
	if res.timedOut {
		t.Fatalf("%s: still running after %v, killed; want exit %d with %q\nstderr:\n%s", what, exitBound, c.exit, text, res.stderr)
	}
	if res.code != c.exit {
		t.Errorf("%s: exit status %d, want %d", what, res.code, c.exit)
	}
	want := "cairn: " + text
	if alone {
		if res.stderr != want+"\n" {
			t.Errorf("%s: stderr\n  %q\nwant exactly\n  %q", what, res.stderr, want+"\n")
		}
	} else if last := lastLine(res.stderr); last != want {
		t.Errorf("%s: last line of stderr\n  %q\nwant\n  %q\nstderr:\n%s", what, last, want, res.stderr)
	}
	if strings.Contains(res.stderr, "panic:") || strings.Contains(res.stderr, "goroutine ") {
		t.Errorf("%s: the binary panicked:\n%s", what, res.stderr)
	}
	if res.stdout != "" {
		t.Logf("%s: stdout:\n%s", what, res.stdout)
	}
}

// capnslogPrefix is the "2006-01-02 15:04:05.000000 C | " of etcd 3.4's
// log lines.
var capnslogPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [A-Z] \| `)

// checkReference checks what etcd shares with the guide for a case that
// needs no cluster, the exit status, and logs its text beside the guide's.
func checkReference(t *testing.T, c guideCase, text string, res result) {
	t.Helper()
	if res.timedOut {
		t.Fatalf("%s: etcd still running after %v; the guide says exit %d\nstderr:\n%s", c.title, exitBound, c.exit, res.stderr)
	}
	if res.code != c.exit {
		t.Errorf("%s: etcd exit status %d, the guide says %d", c.title, res.code, c.exit)
	}
	got := capnslogPrefix.ReplaceAllString(lastLine(res.stderr), "")
	if got == "etcdmain: "+text {
		t.Logf("%s: etcd prints the guide's text: %q", c.title, got)
	} else {
		t.Logf("%s: etcd's text differs from the guide's (exit status %d for both):\n  guide: etcd: %s\n  etcd:  %s", c.title, res.code, text, got)
	}
}

// etcdMismatch is etcd 3.4's log line for a peer that refused a message
// because of its cluster ID: the remote's ID, then the local one.
var etcdMismatch = regexp.MustCompile(`cluster ID mismatch: peer\[[0-9a-f]+\]=([0-9a-f]+), local=([0-9a-f]+)\)`)

// checkReferenceMismatch checks that etcd, started with another member
// set against the running cluster, sees the same two cluster IDs the
// binary under test must print, and logs whether it exits as the guide
// says.
func checkReferenceMismatch(t *testing.T, c guideCase, text string, res result, local, remote uint64) {
	t.Helper()
	m := etcdMismatch.FindStringSubmatch(res.stderr)
	if m == nil {
		if !res.timedOut && res.code == c.exit && strings.HasSuffix(lastLine(res.stderr), text) {
			t.Logf("%s: etcd exits %d with the guide's text", c.title, res.code)
			return
		}
		t.Fatalf("%s: etcd neither logged a cluster ID mismatch nor exited %d with %q (timed out: %v, exit %d)\nstderr:\n%s",
			c.title, c.exit, text, res.timedOut, res.code, res.stderr)
	}
	if m[1] != membership.FormatID(remote) || m[2] != membership.FormatID(local) {
		t.Errorf("%s: etcd sees local %s and remote %s; Cairn must print (%s != %s)",
			c.title, m[2], m[1], membership.FormatID(local), membership.FormatID(remote))
	}
	if res.timedOut {
		t.Logf("%s: etcd logs %q and has not exited by then (killed); the guide says:\n  etcd: %s\n  exit %d",
			c.title, m[0], text, c.exit)
	} else {
		t.Logf("%s: etcd logs %q and exits %d; last line %q", c.title, m[0], res.code, lastLine(res.stderr))
	}
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.TrimSuffix(lines[len(lines)-1], "\r")
}
