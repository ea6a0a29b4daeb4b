package seed

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
)

// defaultToken is --initial-cluster-token when a command does not give it.
const defaultToken = "etcd-cluster"

// healthBound bounds the wait for a started cluster to serve.
const healthBound = 30 * time.Second

// wantMember is a member as the guide's flags define it.
type wantMember struct {
	name       string
	id         uint64
	peerURLs   []string
	clientURLs []string
}

// token returns the command's --initial-cluster-token or the default.
func token(c guideCommand) string {
	if v, ok := flagValue(c.argv, "initial-cluster-token"); ok {
		return v
	}
	return defaultToken
}

// initialCluster parses the command's --initial-cluster into name → URLs.
func initialCluster(t testing.TB, c guideCommand) map[string][]string {
	t.Helper()
	v := mustFlag(t, c, "initial-cluster")
	m := map[string][]string{}
	for _, pair := range strings.Split(v, ",") {
		name, u, ok := strings.Cut(pair, "=")
		if !ok {
			t.Fatalf("guide line %d: --initial-cluster entry %q is not name=url", c.line, pair)
		}
		m[name] = append(m[name], u)
	}
	return m
}

// initialClusterID is the cluster ID etcd computes for the command's
// --initial-cluster and token (compat.md §2).
func initialClusterID(t testing.TB, c guideCommand) uint64 {
	t.Helper()
	var ids []uint64
	for _, urls := range initialCluster(t, c) {
		ids = append(ids, membership.MemberID(urls, token(c), nil))
	}
	return membership.ClusterID(ids)
}

// guideMembers returns the members the three static commands define,
// sorted by name, and their cluster ID. It fails the test if the guide's
// commands disagree with each other.
func guideMembers(t testing.TB, g *guide) ([]wantMember, uint64) {
	t.Helper()
	return membersOf(t, g.static)
}

// membersOf returns the members a set of member commands defines, sorted
// by name, and their cluster ID. It fails the test if the commands
// disagree with each other.
func membersOf(t testing.TB, cmds []guideCommand) ([]wantMember, uint64) {
	t.Helper()
	var ms []wantMember
	cluster := initialCluster(t, cmds[0])
	for _, c := range cmds {
		name := mustFlag(t, c, "name")
		peers := strings.Split(mustFlag(t, c, "initial-advertise-peer-urls"), ",")
		if !slices.Equal(membership.NormalizeURLs(cluster[name]), membership.NormalizeURLs(peers)) {
			t.Fatalf("guide line %d: %s advertises %v but the initial cluster lists %v", c.line, name, peers, cluster[name])
		}
		if got := initialCluster(t, c); fmt.Sprint(got) != fmt.Sprint(cluster) {
			t.Fatalf("guide line %d: --initial-cluster %v differs from the first command's %v", c.line, got, cluster)
		}
		if token(c) != token(cmds[0]) {
			t.Fatalf("guide line %d: token %q differs from the first command's %q", c.line, token(c), token(cmds[0]))
		}
		ms = append(ms, wantMember{
			name:       name,
			id:         membership.MemberID(peers, token(c), nil),
			peerURLs:   peers,
			clientURLs: strings.Split(mustFlag(t, c, "advertise-client-urls"), ","),
		})
	}
	if len(cluster) != len(ms) {
		t.Fatalf("the initial cluster has %d members, the guide starts %d", len(cluster), len(ms))
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	return ms, initialClusterID(t, cmds[0])
}

// guideHosts returns the address each static command listens on for
// peers, in the guide's order.
func guideHosts(t testing.TB, g *guide) []string {
	t.Helper()
	return commandHosts(t, g.static)
}

// commandHosts returns the address each command listens on for peers, in
// the commands' order.
func commandHosts(t testing.TB, cmds []guideCommand) []string {
	t.Helper()
	var hosts []string
	for _, c := range cmds {
		hosts = append(hosts, hostOf(t, c, "listen-peer-urls"))
	}
	return hosts
}

// guideCluster is the three members started with the guide's commands.
type guideCluster struct {
	net     *seedNet
	members []*member // in the guide's order
	cmds    []guideCommand
	ctl     etcdctl
}

// startGuideCluster starts the static section's three commands with bin,
// each in the namespace of its peer address, and waits until all three
// report healthy.
func startGuideCluster(t *testing.T, net *seedNet, g *guide, bin string, ctl etcdctl) *guideCluster {
	t.Helper()
	return startCluster(t, net, g.static, ctl, func(cmd guideCommand, ns string) *member {
		return startMember(t, mustFlag(t, cmd, "name"), ns, withBinary(cmd, bin))
	})
}

// startCluster starts one member per command with start, each in the
// namespace of its peer address, and waits until all report healthy to
// ctl.
func startCluster(t *testing.T, net *seedNet, cmds []guideCommand, ctl etcdctl, start func(cmd guideCommand, ns string) *member) *guideCluster {
	t.Helper()
	c := &guideCluster{net: net, cmds: cmds, ctl: ctl}
	for _, cmd := range cmds {
		c.members = append(c.members, start(cmd, net.namespace(t, hostOf(t, cmd, "listen-peer-urls"))))
	}
	c.waitHealthy(t)
	return c
}

// clientURLs returns every member's --advertise-client-urls.
func (c *guideCluster) clientURLs(t testing.TB) []string {
	t.Helper()
	var urls []string
	for _, cmd := range c.cmds {
		urls = append(urls, strings.Split(mustFlag(t, cmd, "advertise-client-urls"), ",")...)
	}
	return urls
}

// ns returns the namespace member i runs in.
func (c *guideCluster) ns(i int) string { return c.members[i].ns }

// waitHealthy polls `etcdctl endpoint health` on every advertised client
// URL, from the first member's namespace, until all are healthy; a member
// that exits fails the test at once.
func (c *guideCluster) waitHealthy(t *testing.T) {
	t.Helper()
	endpoints := "--endpoints=" + strings.Join(c.clientURLs(t), ",")
	deadline := time.Now().Add(healthBound)
	for {
		for _, m := range c.members {
			if m.exited() {
				t.Fatalf("%s exited (%v) before the cluster became healthy; last lines of its log:\n%s", m.name, m.err, m.tail(logTail))
			}
		}
		stdout, stderr, err := c.ctl.run(c.ns(0), endpoints, "endpoint", "health")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guide's cluster is not healthy after %v: etcdctl %s endpoint health: %v\n%s%s%s",
				healthBound, endpoints, err, stdout, stderr, bridgeFilterHint())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// memberListJSON is `etcdctl member list -w json` of etcdctl 3.4.
type memberListJSON struct {
	Header struct {
		ClusterID uint64 `json:"cluster_id"`
		MemberID  uint64 `json:"member_id"`
	} `json:"header"`
	Members []struct {
		ID         uint64   `json:"ID"`
		Name       string   `json:"name"`
		PeerURLs   []string `json:"peerURLs"`
		ClientURLs []string `json:"clientURLs"`
		IsLearner  bool     `json:"isLearner"`
	} `json:"members"`
}

// observed is what the member list showed: cluster ID and name → ID.
type observed struct {
	clusterID uint64
	ids       map[string]uint64
}

// checkMemberList asks every member, inside its own namespace, on
// 127.0.0.1:2379 (the guide's second client URL) or, for commands that
// have none, on its first advertised client URL, for the member list, and
// checks it is want with cluster ID wantCluster, answered by that member.
// It also checks the table etcdctl prints for the first member's
// advertised client URL.
func (c *guideCluster) checkMemberList(t *testing.T, want []wantMember, wantCluster uint64) observed {
	t.Helper()
	obs := observed{ids: map[string]uint64{}}
	for i, m := range c.members {
		local := ownClientURL(t, c.cmds[i])
		out := c.ctl.ok(t, m.ns, "--endpoints="+local, "member", "list", "-w", "json")
		var l memberListJSON
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("member list -w json from %s: %v\n%s", m.name, err, out)
		}
		if l.Header.ClusterID != wantCluster {
			t.Errorf("member list from %s: cluster_id %s, want %s (etcd's for the guide's flags)",
				m.name, membership.FormatID(l.Header.ClusterID), membership.FormatID(wantCluster))
		}
		if j := slices.IndexFunc(want, func(w wantMember) bool { return w.name == m.name }); j < 0 || l.Header.MemberID != want[j].id {
			t.Errorf("member list from %s at %s in %s: answered by member %s, not by %s",
				m.name, local, m.ns, membership.FormatID(l.Header.MemberID), m.name)
		}
		var got []string
		for _, gm := range l.Members {
			got = append(got, fmt.Sprintf("%s id=%s peers=%v clients=%v learner=%v",
				gm.Name, membership.FormatID(gm.ID), gm.PeerURLs, gm.ClientURLs, gm.IsLearner))
			obs.ids[gm.Name] = gm.ID
		}
		sort.Strings(got)
		var exp []string
		for _, w := range want {
			exp = append(exp, fmt.Sprintf("%s id=%s peers=%v clients=%v learner=false",
				w.name, membership.FormatID(w.id), w.peerURLs, w.clientURLs))
		}
		if !slices.Equal(got, exp) {
			t.Errorf("member list from %s:\n  got  %s\n  want %s", m.name, strings.Join(got, "\n       "), strings.Join(exp, "\n       "))
		}
		obs.clusterID = l.Header.ClusterID
	}

	// What a user of the guide reads: etcdctl's simple format.
	out := c.ctl.ok(t, c.ns(0), "--endpoints="+c.clientURLs(t)[0], "member", "list")
	got := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(got)
	var exp []string
	for _, w := range want {
		exp = append(exp, strings.Join([]string{membership.FormatID(w.id), "started", w.name,
			strings.Join(w.peerURLs, ","), strings.Join(w.clientURLs, ","), "false"}, ", "))
	}
	sort.Strings(exp)
	if !slices.Equal(got, exp) {
		t.Errorf("etcdctl member list:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(exp, "\n       "))
	}
	return obs
}

// checkPutGet writes key through the first member and reads it through
// the third, each on its advertised client URL, from the second member's
// namespace.
func (c *guideCluster) checkPutGet(t *testing.T, key, value string) {
	t.Helper()
	first := strings.Split(mustFlag(t, c.cmds[0], "advertise-client-urls"), ",")[0]
	third := strings.Split(mustFlag(t, c.cmds[2], "advertise-client-urls"), ",")[0]
	if out := c.ctl.ok(t, c.ns(1), "--endpoints="+first, "put", key, value); strings.TrimSpace(out) != "OK" {
		t.Errorf("put through %s: %q, want OK", first, out)
	}
	if out := c.ctl.ok(t, c.ns(1), "--endpoints="+third, "get", key, "--print-value-only"); strings.TrimSpace(out) != value {
		t.Errorf("get through %s: %q, want %q", third, out, value)
	}
}

// ownClientURL is the URL on which a member's own host reaches it: the
// command's --listen-client-urls URL on 127.0.0.1, which the guide gives
// every member but in its DNS section, else its first advertised client
// URL.
func ownClientURL(t testing.TB, c guideCommand) string {
	t.Helper()
	for _, u := range strings.Split(mustFlag(t, c, "listen-client-urls"), ",") {
		if strings.Contains(u, "//127.0.0.1:") {
			return u
		}
	}
	return strings.Split(mustFlag(t, c, "advertise-client-urls"), ",")[0]
}
