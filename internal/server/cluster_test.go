package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/membership"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// testCluster is n in-process members joined by the real transport over
// loopback peer listeners.
type testCluster struct {
	members []*Server
	servers []*http.Server
	addrs   []string // peer listener addresses, to restart a member on
}

func startTestCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	return startTestClusterWith(t, n, nil)
}

// startTestClusterWith is startTestCluster with each member's options
// adjusted by tune (nil: unchanged).
func startTestClusterWith(t *testing.T, n int, tune func(*Options)) *testCluster {
	t.Helper()
	return startTestClusterPeers(t, n, tune, nil)
}

// startTestClusterPeers is startTestClusterWith with each member's peer
// handler wrapped by wrap (nil: unchanged).
func startTestClusterPeers(t *testing.T, n int, tune func(*Options), wrap func(http.Handler) http.Handler) *testCluster {
	t.Helper()
	var (
		lns []net.Listener
		all []*membership.Member
	)
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		all = append(all, membership.NewMember(fmt.Sprintf("m%d", i), []string{"http://" + ln.Addr().String()}, "cairn-cluster-test"))
	}
	c := &testCluster{}
	for i := 0; i < n; i++ {
		o := testOptions(t, t.TempDir())
		o.Name, o.InitialMembers, o.Self = all[i].Name, all, all[i]
		o.ClientURLs = []string{fmt.Sprintf("http://127.0.0.1:%d", 40000+i)}
		if tune != nil {
			tune(&o)
		}
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		h := s.PeerHandler()
		if wrap != nil {
			h = wrap(h)
		}
		hs := &http.Server{Handler: h}
		go hs.Serve(lns[i])
		c.members = append(c.members, s)
		c.servers = append(c.servers, hs)
		c.addrs = append(c.addrs, lns[i].Addr().String())
	}
	t.Cleanup(func() {
		for i := range c.members {
			c.servers[i].Close()
			c.members[i].Stop()
		}
	})
	for i, s := range c.members {
		select {
		case <-s.ReadyNotify():
		case <-time.After(testWait):
			t.Fatalf("member %d not ready", i)
		}
	}
	return c
}

func (c *testCluster) leader(t *testing.T) int {
	t.Helper()
	var idx int
	waitFor(t, "one leader all agree on", func() bool {
		lead := c.members[0].Leader()
		if lead == 0 {
			return false
		}
		for i, s := range c.members {
			if s.node == nil {
				continue
			}
			select {
			case <-s.stopc:
				continue
			default:
			}
			if s.Leader() != lead {
				return false
			}
			if s.ID() == lead {
				idx = i
			}
		}
		return c.members[idx].ID() == lead
	})
	return idx
}

// TestThreeMembers: writes through any member are read linearizably from
// every other; with the leader stopped, the other two elect a new one and
// keep serving.
func TestThreeMembers(t *testing.T) {
	c := startTestCluster(t, 3)
	ctx := testCtx(t)
	ids := map[uint64]bool{}
	for _, s := range c.members {
		ids[s.ClusterID()] = true
	}
	if len(ids) != 1 {
		t.Fatalf("members disagree on the cluster ID: %v", ids)
	}
	for i, s := range c.members {
		key := fmt.Sprintf("k%d", i)
		if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte(key), Value: []byte("v")}); err != nil {
			t.Fatalf("put through member %d: %v", i, err)
		}
		for j, r := range c.members {
			resp, err := r.Range(ctx, &pb.RangeRequest{Key: []byte(key)})
			if err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("linearizable read of %s through member %d: %v %v", key, j, resp, err)
			}
		}
	}
	ml, err := c.members[1].MemberList(ctx, &pb.MemberListRequest{})
	if err != nil || len(ml.Members) != 3 {
		t.Fatalf("member list: %v %v", ml, err)
	}
	for _, m := range ml.Members {
		if m.Name == "" || len(m.ClientURLs) != 1 {
			t.Fatalf("member %x not published: %v", m.ID, m)
		}
	}

	// Leases through a follower: the follower forwards keep-alives and
	// TimeToLive to the leader's lessor.
	lead := c.leader(t)
	follower := c.members[(lead+1)%3]
	g, err := follower.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 30})
	if err != nil {
		t.Fatalf("grant through a follower: %v", err)
	}
	if ttl, err := follower.LeaseRenew(ctx, g.ID); err != nil || ttl != 30 {
		t.Fatalf("keep-alive through a follower: ttl %d, err %v", ttl, err)
	}
	ttlResp, err := follower.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: g.ID})
	if err != nil || ttlResp.GrantedTTL != 30 || ttlResp.TTL <= 0 || ttlResp.TTL > 30 {
		t.Fatalf("time-to-live through a follower: %v %v", ttlResp, err)
	}
	if ttlResp, err := follower.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: 12345}); err != nil || ttlResp.TTL != -1 {
		t.Fatalf("time-to-live of a missing lease through a follower: %v %v", ttlResp, err)
	}
	if _, err := follower.LeaseRenew(ctx, 12345); !errors.Is(err, lease.ErrLeaseNotFound) {
		t.Fatalf("keep-alive of a missing lease through a follower: %v", err)
	}

	old := c.leader(t)
	c.servers[old].Close()
	c.members[old].Stop()
	start := time.Now()
	var survivor *Server
	for i, s := range c.members {
		if i != old {
			survivor = s
			break
		}
	}
	waitFor(t, "a write after the leader stopped", func() bool {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := survivor.Put(wctx, &pb.PutRequest{Key: []byte("after"), Value: []byte("v")})
		return err == nil
	})
	t.Logf("writes resumed %v after the leader stopped (election timeout %v)", time.Since(start).Round(time.Millisecond), testElection)
	for i, s := range c.members {
		if i == old {
			continue
		}
		resp, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("after")})
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("member %d after failover: %v %v", i, resp, err)
		}
	}
}
