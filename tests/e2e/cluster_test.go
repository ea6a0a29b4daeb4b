package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/tests/framework"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestClusterLeaderKill9 runs a 3-member cluster, kills the leader with
// -9 in the middle of writes, checks that writes through the other members
// succeed again within two election timeouts (1 s each, etcd's default),
// then restarts the old leader and checks every member converges on the
// same data.
func TestClusterLeaderKill9(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	leader := -1
	for i, m := range c.Members {
		st, err := m.Client(t).Status(ctx, m.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		if st.Leader == st.Header.MemberId {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no member reports itself leader")
	}
	var other *framework.Member
	for i, m := range c.Members {
		if i != leader {
			other = m
			break
		}
	}
	cli := other.Client(t)
	for i := 0; i < 20; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("before/%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}

	if err := c.Members[leader].Kill9(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var waited time.Duration
	for {
		wctx, wcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := cli.Put(wctx, "after/kill", "v")
		wcancel()
		if err == nil {
			waited = time.Since(killed)
			break
		}
		if time.Since(killed) > 30*time.Second {
			t.Fatalf("no write succeeded within 30s of killing the leader: %v", err)
		}
	}
	t.Logf("a write waited %v after the leader was killed", waited.Round(time.Millisecond))
	if waited > 2*time.Second+500*time.Millisecond {
		// Two election timeouts plus one client attempt's worth of slack.
		t.Errorf("writes resumed after %v, want within two election timeouts", waited)
	}

	if err := c.Members[leader].Restart(); err != nil {
		t.Fatal(err)
	}
	last, err := cli.Put(ctx, "after/restart", "v")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range c.Members {
		mc := m.Client(t)
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := mc.Get(ctx, "", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithCountOnly())
			if err == nil && resp.Header.Revision >= last.Header.Revision && resp.Count == 22 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("member %d did not converge: %v %v", i, resp, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestClusterLeaseThroughFollower keeps a lease alive through a client
// that talks only to a follower, as balanced clients do: the follower
// forwards keep-alives and TimeToLive to the leader's lessor.
func TestClusterLeaseThroughFollower(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var follower *framework.Member
	for _, m := range c.Members {
		st, err := m.Client(t).Status(ctx, m.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		if st.Leader != st.Header.MemberId {
			follower = m
			break
		}
	}
	cli := framework.NewClient(t, []string{follower.Endpoint()})
	g, err := cli.Grant(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "session", "alive", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	ka, err := cli.KeepAliveOnce(ctx, g.ID)
	if err != nil || ka.TTL != 20 {
		t.Fatalf("keep-alive through a follower: %v %v", ka, err)
	}
	ttl, err := cli.TimeToLive(ctx, g.ID, clientv3.WithAttachedKeys())
	if err != nil || ttl.GrantedTTL != 20 || ttl.TTL <= 0 || len(ttl.Keys) != 1 || string(ttl.Keys[0]) != "session" {
		t.Fatalf("time-to-live through a follower: %+v %v", ttl, err)
	}
	if _, err := cli.Revoke(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if resp, err := cli.Get(ctx, "session"); err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("the revoked lease's key is still there: %v %v", resp, err)
	}
}

// TestClusterConflictingID is the guide's third error case: a member
// bootstrapped with another member set reaches a running cluster and
// exits 1 with both cluster IDs, its own first. The running cluster keeps
// serving.
func TestClusterConflictingID(t *testing.T) {
	bin := framework.Binary(t)
	if framework.IsReferenceEtcd(bin) {
		t.Skip("checks Cairn's text for the guide's error case")
	}
	c := framework.StartCluster(t, 3, framework.MemberConfig{Bin: bin})
	m0 := c.Members[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := m0.Client(t).Status(ctx, m0.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	remote := st.Header.ClusterId

	// "d" names m0 among its founders, but the member set differs, so its
	// cluster ID does too.
	token := m0.Config().Token
	if token == "" {
		token = "cairn-e2e"
	}
	dPeer := framework.FreePort(t)
	dURL := fmt.Sprintf("http://127.0.0.1:%d", dPeer)
	d := framework.NewMember(t, framework.MemberConfig{
		Bin: bin, Name: "d", PeerPort: dPeer, Token: token,
		InitialCluster: "m0=" + m0.PeerURL() + ",d=" + dURL,
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	err = d.Wait(wctx)
	if err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("the conflicting member did not exit 1: %v\n%s", err, d.LogTail(40))
	}
	local := membership.ClusterID([]uint64{
		membership.MemberID([]string{m0.PeerURL()}, token, nil),
		membership.MemberID([]string{dURL}, token, nil),
	})
	want := fmt.Sprintf("cairn: conflicting cluster ID to the target cluster (%s != %s). Exiting.",
		membership.FormatID(local), membership.FormatID(remote))
	if !strings.Contains(d.RunLog(), want) {
		t.Fatalf("want the line %q in the output:\n%s", want, d.LogTail(40))
	}
	if _, err := c.Client(t).Put(ctx, "still", "serving"); err != nil {
		t.Fatalf("the running cluster stopped serving: %v", err)
	}
}

// TestClusterMoveLeader moves leadership with etcdctl 3.4's move-leader,
// then stops the new leader with SIGTERM: it hands leadership over before
// exiting, so a write waits for a transfer, not an election timeout.
func TestClusterMoveLeader(t *testing.T) {
	ctl := framework.Etcdctl(t)
	c := framework.StartCluster(t, 3, framework.MemberConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	statuses := func() (leaderIdx int, ids []uint64) {
		leaderIdx = -1
		for i, m := range c.Members {
			if !m.Running() {
				ids = append(ids, 0)
				continue
			}
			st, err := m.Client(t).Status(ctx, m.Endpoint())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, st.Header.MemberId)
			if st.Leader == st.Header.MemberId {
				leaderIdx = i
			}
		}
		return leaderIdx, ids
	}
	lead, ids := statuses()
	target := (lead + 1) % 3
	e := etcdctl{t: t, bin: ctl, endpoint: c.Members[lead].Endpoint()}
	out := e.ok("move-leader", fmt.Sprintf("%x", ids[target]))
	if !strings.Contains(out, "Leadership transferred") {
		t.Fatalf("move-leader printed %q", out)
	}
	if now, _ := statuses(); now != target {
		t.Fatalf("leader is member %d after move-leader to %d", now, target)
	}

	other := c.Members[(target+1)%3]
	cli := framework.NewClient(t, []string{other.Endpoint()})
	stopped := time.Now()
	if err := c.Members[target].Stop(); err != nil {
		t.Fatal(err)
	}
	stopTook := time.Since(stopped)
	wrote := time.Now()
	if _, err := cli.Put(ctx, "after/stop", "v"); err != nil {
		t.Fatal(err)
	}
	t.Logf("the leader's graceful stop took %v; the next write %v",
		stopTook.Round(time.Millisecond), time.Since(wrote).Round(time.Millisecond))
	if now, _ := statuses(); now < 0 || now == target {
		t.Fatalf("no new leader after the leader stopped: %d", now)
	}
}

// TestClusterSnapshotCatchUp stops a follower, writes far more entries than
// the leader keeps (--snapshot-count 100, --snapshot-catchup-entries 20),
// with leases, deletes and a compaction among them, restarts the follower
// and checks that it caught up by snapshot to exactly the others' state,
// then keeps up with new writes and watches.
func TestClusterSnapshotCatchUp(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{Args: []string{"--snapshot-count=100", "--snapshot-catchup-entries=20"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lagging := c.Members[2]
	if err := lagging.Stop(); err != nil {
		t.Fatal(err)
	}
	cli := framework.NewClient(t, []string{c.Members[0].Endpoint(), c.Members[1].Endpoint()})
	lease, err := cli.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 600; i++ {
		var opts []clientv3.OpOption
		if i%10 == 0 {
			opts = append(opts, clientv3.WithLease(lease.ID))
		}
		if _, err := cli.Put(ctx, fmt.Sprintf("k/%04d", i%300), fmt.Sprintf("v%d", i), opts...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Delete(ctx, "k/01", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	last, err := cli.Put(ctx, "last", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, last.Header.Revision-100); err != nil {
		t.Fatal(err)
	}

	if err := lagging.Start(); err != nil {
		t.Fatal(err)
	}
	if err := lagging.WaitReadyTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lagging.Log(), "installed snapshot from the leader") {
		t.Fatalf("the follower did not catch up by snapshot:\n%s", lagging.LogTail(30))
	}
	lcli := lagging.Client(t)
	// Same state: HashKV at the same revision on every member.
	rev := last.Header.Revision
	var hashes []uint32
	for _, m := range c.Members {
		h, err := m.Client(t).HashKV(ctx, m.Endpoint(), rev)
		if err != nil {
			t.Fatalf("HashKV on %s: %v", m.Name(), err)
		}
		hashes = append(hashes, h.Hash)
	}
	if hashes[0] != hashes[1] || hashes[1] != hashes[2] {
		t.Fatalf("HashKV at %d differs after catch-up: %x", rev, hashes)
	}
	ttl, err := lcli.TimeToLive(ctx, lease.ID, clientv3.WithAttachedKeys())
	if err != nil || len(ttl.Keys) != 20 {
		t.Fatalf("lease through the caught-up member: %d keys, %v", len(ttl.Keys), err)
	}
	if _, err := lcli.Get(ctx, "k/0000", clientv3.WithRev(rev-150)); err == nil || !strings.Contains(err.Error(), "compacted") {
		t.Fatalf("read below the compaction on the caught-up member: %v", err)
	}
	// It keeps up afterwards, and its watchers see new writes.
	wch := lcli.Watch(ctx, "after/", clientv3.WithPrefix())
	if _, err := cli.Put(ctx, "after/1", "y"); err != nil {
		t.Fatal(err)
	}
	select {
	case wr := <-wch:
		if len(wr.Events) != 1 || string(wr.Events[0].Kv.Key) != "after/1" {
			t.Fatalf("watch on the caught-up member: %+v", wr)
		}
	case <-ctx.Done():
		t.Fatal("no watch event on the caught-up member")
	}
	resp, err := lcli.Get(ctx, "k/", clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithSerializable())
	if err != nil || resp.Count != 200 {
		t.Fatalf("serializable count on the caught-up member: %v, %v", resp, err)
	}
}

// httpGet fetches url and returns the status code and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	// Longer than the member's own 5 s bound on the /health check.
	hc := &http.Client{Timeout: 15 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestClusterMetricsAndHealth checks the clustering metrics under etcd's
// names, and that /health turns unhealthy (503) when the member loses its
// leader, then healthy again when quorum returns.
func TestClusterMetricsAndHealth(t *testing.T) {
	c := framework.StartCluster(t, 3, framework.MemberConfig{})
	m0 := c.Members[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := m0.Client(t).Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	ml, err := m0.Client(t).MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range ml.Members {
		if m.Name != m0.Name() {
			want = append(want, fmt.Sprintf(`etcd_network_peer_round_trip_time_seconds_count{To="%x"}`, m.ID))
		}
	}
	want = append(want, "etcd_server_has_leader 1", "etcd_server_proposals_pending ",
		"etcd_server_proposals_failed_total ", "etcd_server_proposals_committed_total ",
		"etcd_server_proposals_applied_total ", "etcd_server_leader_changes_seen_total ")
	var body string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body = httpGet(t, m0.ClientURL()+"/metrics")
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q", missing)
		}
	}

	if code, body := httpGet(t, m0.ClientURL()+"/health"); code != http.StatusOK || !strings.Contains(body, `"health":"true"`) {
		t.Fatalf("/health with quorum: %d %s", code, body)
	}
	for _, m := range c.Members[1:] {
		if err := m.Kill9(); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, _ := httpGet(t, m0.ClientURL()+"/health")
		_, metrics := httpGet(t, m0.ClientURL()+"/metrics")
		if code == http.StatusServiceUnavailable && strings.Contains(metrics, "etcd_server_has_leader 0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health stayed %d without quorum", code)
		}
	}
	for _, m := range c.Members[1:] {
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code, _ := httpGet(t, m0.ClientURL()+"/health"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/health did not recover with quorum back")
		}
	}
}
