package server

import (
	"errors"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/mvcc"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func TestMinLeaseTTL(t *testing.T) {
	for _, tc := range []struct {
		tick, election time.Duration
		want           int64
	}{
		{testTick, testElection, 1},                             // 15 ticks of 10ms
		{100 * time.Millisecond, time.Second, 2},                // etcd's defaults: 1.5s → 2
		{100 * time.Millisecond, 2 * time.Second, 3},            // 3s exactly
		{50 * time.Millisecond, 1500 * time.Millisecond, 3},     // 45 × 50ms = 2.25s → 3
		{500 * time.Millisecond, 5 * time.Second, 8},            // 7.5s → 8
		{100 * time.Millisecond, 1050 * time.Millisecond, 2},    // 10 ticks (truncated) → 1.5s → 2
		{10 * time.Millisecond, 5000 * time.Millisecond, 8},     // 750 ticks → 7.5s → 8
		{time.Millisecond, 6 * time.Millisecond, 1},             // 9ms → 1
		{1000 * time.Millisecond, 10000 * time.Millisecond, 15}, // 15s exactly
		{time.Second, 5 * time.Second, 7},                       // odd ticks: (3×5)/2 = 7 whole ticks, as etcd
	} {
		o := Options{TickInterval: tc.tick, ElectionTimeout: tc.election}
		if got := o.minLeaseTTL(); got != tc.want {
			t.Errorf("minLeaseTTL(tick %v, election %v) = %d, want %d", tc.tick, tc.election, got, tc.want)
		}
	}
}

func TestLeaseGrantAttachRevoke(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)

	g, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 60})
	if err != nil {
		t.Fatal(err)
	}
	if g.ID <= 0 || g.TTL != 60 {
		t.Fatalf("grant = id %d ttl %d, want a positive id and ttl 60", g.ID, g.TTL)
	}
	checkHeader(t, s, "grant", g.Header, 0)
	// Granting the same ID again is refused.
	if _, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: g.ID, TTL: 60}); !errors.Is(err, lease.ErrLeaseExists) {
		t.Errorf("grant of an existing id: err = %v, want %v", err, lease.ErrLeaseExists)
	}
	if _, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: lease.MaxTTL + 1}); !errors.Is(err, lease.ErrLeaseTTLTooLarge) {
		t.Errorf("grant above MaxTTL: err = %v, want %v", err, lease.ErrLeaseTTLTooLarge)
	}
	// A TTL below the minimum is raised to it.
	short, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: 7, TTL: 0})
	if err != nil {
		t.Fatal(err)
	}
	if short.ID != 7 || short.TTL != s.opts.minLeaseTTL() {
		t.Errorf("grant of ttl 0 = id %d ttl %d, want id 7 ttl %d", short.ID, short.TTL, s.opts.minLeaseTTL())
	}

	keys := []string{"l/a", "l/b", "l/c"}
	for _, k := range keys {
		if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte(k), Value: []byte("v"), Lease: g.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("other"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}

	ttl, err := s.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: g.ID, Keys: true})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, s, "time to live", ttl.Header, s.KV().Rev())
	if ttl.GrantedTTL != 60 || ttl.TTL < 55 || ttl.TTL > 60 || len(ttl.Keys) != 3 || string(ttl.Keys[0]) != "l/a" {
		t.Errorf("time to live = granted %d remaining %d keys %q", ttl.GrantedTTL, ttl.TTL, ttl.Keys)
	}
	ls, err := s.LeaseLeases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Leases) != 2 {
		t.Errorf("leases = %v, want 2", ls.Leases)
	}

	before := s.KV().Rev()
	rv, err := s.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Every attached key is deleted at one new revision.
	checkHeader(t, s, "revoke", rv.Header, before+1)
	for _, k := range keys {
		at := func(rev int64) int {
			rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte(k), Revision: rev})
			if err != nil {
				t.Fatal(err)
			}
			return len(rr.Kvs)
		}
		if at(before) != 1 || at(before+1) != 0 {
			t.Errorf("%s: present at %d: %d, at %d: %d; want 1, 0", k, before, at(before), before+1, at(before+1))
		}
	}
	rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("other")})
	if err != nil || len(rr.Kvs) != 1 {
		t.Errorf("unleased key after revoke: %v (err %v)", rr, err)
	}

	ttl, err = s.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: g.ID})
	if err != nil || ttl.TTL != -1 {
		t.Errorf("time to live of a revoked lease = %v (err %v), want TTL -1", ttl, err)
	}
	if _, err := s.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: g.ID}); !errors.Is(err, lease.ErrLeaseNotFound) {
		t.Errorf("second revoke: err = %v, want %v", err, lease.ErrLeaseNotFound)
	}
	if _, err := s.LeaseRenew(ctx, g.ID); !errors.Is(err, lease.ErrLeaseNotFound) {
		t.Errorf("renew of a revoked lease: err = %v, want %v", err, lease.ErrLeaseNotFound)
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("l/a"), Value: []byte("v"), Lease: g.ID}); !errors.Is(err, mvcc.ErrLeaseNotFound) {
		t.Errorf("put with a revoked lease: err = %v, want %v", err, mvcc.ErrLeaseNotFound)
	}
}

// TestLeaseExpiry: a lease that is not kept alive is revoked by the leader
// through raft, and its keys go with it.
func TestLeaseExpiry(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	granted := time.Now() // no later than the grant's apply
	g, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 1})
	if err != nil {
		t.Fatal(err)
	}
	if g.TTL != 1 {
		t.Fatalf("granted TTL %d, want 1 (minLeaseTTL with test timings)", g.TTL)
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("ephemeral"), Value: []byte("v"), Lease: g.ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "expired lease's key to go", func() bool {
		rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("ephemeral"), Serializable: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(rr.Kvs) == 0
	})
	if d := time.Since(granted); d < time.Second {
		t.Errorf("key went after %v, before the 1s TTL", d)
	}
	ttl, err := s.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: g.ID})
	if err != nil || ttl.TTL != -1 {
		t.Errorf("time to live of an expired lease = %v (err %v), want TTL -1", ttl, err)
	}
}

// TestLeaseKeepAlive: renewing a lease more often than its TTL keeps it
// (and its key) well past the TTL.
func TestLeaseKeepAlive(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	g, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("kept"), Value: []byte("v"), Lease: g.ID}); err != nil {
		t.Fatal(err)
	}
	// Renew every 100ms for 2.5 TTLs; the expiry loop runs every 500ms, so
	// a lapse would be seen.
	until := time.Now().Add(2500 * time.Millisecond)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(until) {
		<-tick.C
		ttl, err := s.LeaseRenew(ctx, g.ID)
		if err != nil {
			t.Fatalf("renew: %v", err)
		}
		if ttl != 1 {
			t.Fatalf("renew returned TTL %d, want 1", ttl)
		}
	}
	rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("kept")})
	if err != nil || len(rr.Kvs) != 1 {
		t.Fatalf("kept-alive key: %v (err %v)", rr, err)
	}
	tl, err := s.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: g.ID})
	if err != nil || tl.GrantedTTL != 1 || tl.TTL < 0 {
		t.Errorf("time to live after keep-alives = %v (err %v)", tl, err)
	}
	// Once renewals stop, it expires.
	waitFor(t, "lease to expire after keep-alives stop", func() bool {
		rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("kept"), Serializable: true})
		return err == nil && len(rr.Kvs) == 0
	})
}
