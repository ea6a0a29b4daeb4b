package lease

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
)

func TestPromoteExtend(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ttl       int64
		extend    time.Duration
		elapsed   time.Duration
		remaining int64 // TimeToLive after elapsed
		expired   bool  // in Expired after elapsed
	}{
		{name: "fresh", ttl: 10, extend: time.Second, remaining: 11},
		{name: "truncated to whole seconds", ttl: 10, extend: time.Second, elapsed: 300 * time.Millisecond, remaining: 10},
		{name: "inside extension", ttl: 10, extend: time.Second, elapsed: 10500 * time.Millisecond, remaining: 0},
		{name: "at deadline", ttl: 10, extend: time.Second, elapsed: 11 * time.Second, remaining: 0, expired: true},
		{name: "past deadline awaiting revoke", ttl: 10, extend: time.Second, elapsed: 13500 * time.Millisecond, remaining: -2, expired: true},
		{name: "no extension", ttl: 10, elapsed: 10 * time.Second, remaining: 0, expired: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.grant(1, tc.ttl)
			if got := e.l.Expired(0); got != nil {
				t.Fatalf("follower Expired = %v", got)
			}
			if _, ok := e.l.NextExpiry(); ok {
				t.Fatal("follower has a NextExpiry")
			}
			e.clock.Advance(time.Hour) // time as a follower does not count
			e.l.Promote(tc.extend)
			if !e.l.IsPrimary() {
				t.Fatal("not primary after Promote")
			}
			e.clock.Advance(tc.elapsed)
			g, r, _, err := e.l.TimeToLive(1, false)
			if err != nil || g != tc.ttl || r != tc.remaining {
				t.Fatalf("TimeToLive = %d, %d, %v; want %d, %d", g, r, err, tc.ttl, tc.remaining)
			}
			got := e.l.Expired(0)
			if want := tc.expired; (len(got) == 1) != want {
				t.Fatalf("Expired = %v, want expired=%v", got, want)
			}
		})
	}
}

func TestGrantOnPrimary(t *testing.T) {
	e := newEnv(t, Options{})
	e.l.Promote(time.Second) // the extension is for leases that existed
	e.grant(1, 5)
	if _, r, _, _ := e.l.TimeToLive(1, false); r != 5 {
		t.Fatalf("remaining = %d, want 5", r)
	}
	if at, ok := e.l.NextExpiry(); !ok || !at.Equal(e.clock.Now().Add(5*time.Second)) {
		t.Fatalf("NextExpiry = %v, %v", at, ok)
	}
}

func TestRenew(t *testing.T) {
	e := newEnv(t, Options{})
	e.grant(1, 10)
	e.grant(2, 10)
	for _, tc := range []struct {
		name    string
		setup   func()
		id      int64
		want    int64
		wantErr error
	}{
		{name: "follower", id: 1, want: -1, wantErr: ErrNotPrimary},
		{name: "primary", setup: func() { e.l.Promote(0) }, id: 1, want: 10},
		{name: "unknown", id: 9, want: -1, wantErr: ErrLeaseNotFound},
		{name: "expired", setup: func() {
			e.clock.Advance(9 * time.Second)
			if _, err := e.l.Renew(1); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Second) // lease 2 reaches its deadline
		}, id: 2, want: -1, wantErr: ErrLeaseExpired},
		{name: "renewed one lives on", id: 1, want: 10},
		{name: "demoted", setup: func() { e.l.Demote() }, id: 1, want: -1, wantErr: ErrNotPrimary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			got, err := e.l.Renew(tc.id)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("Renew(%d) = %d, %v; want %d, %v", tc.id, got, err, tc.want, tc.wantErr)
			}
		})
	}
	if !errors.Is(ErrLeaseExpired, ErrLeaseNotFound) {
		t.Fatal("ErrLeaseExpired does not match ErrLeaseNotFound")
	}
	if _, _, _, err := e.l.TimeToLive(1, false); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("TimeToLive after Demote: %v", err)
	}
	if got := e.l.Expired(0); got != nil {
		t.Fatalf("Expired after Demote = %v", got)
	}
}

func TestExpiryOrderAndRetry(t *testing.T) {
	e := newEnv(t, Options{MinTTL: 1, ExpiredRetryInterval: 3 * time.Second})
	e.l.Promote(0)
	// Deadlines: 4→2s, 2→3s, 3→3s, 1→5s, 5→60s.
	for _, g := range [][2]int64{{1, 5}, {2, 3}, {3, 3}, {4, 2}, {5, 60}} {
		e.grant(g[0], g[1])
	}
	step := func(d time.Duration, limit int, want []int64) {
		t.Helper()
		e.clock.Advance(d)
		if got := e.l.Expired(limit); !slices.Equal(got, want) {
			t.Fatalf("at +%v Expired(%d) = %v, want %v", d, limit, got, want)
		}
	}
	step(time.Second, 0, nil)
	step(2*time.Second, 2, []int64{4, 2}) // t=3: limit 2 of three due
	step(0, 0, []int64{3})                // the rest; 4 and 2 wait for the retry
	step(time.Second, 0, nil)             // t=4
	if at, ok := e.l.NextExpiry(); !ok || !at.Equal(e.clock.Now().Add(time.Second)) {
		t.Fatalf("NextExpiry = %v, %v; want lease 1 at +1s", at, ok)
	}
	// Revoke of 2 went through; 4's was lost.
	e.apply(func(b *storage.Batch) {
		if _, err := e.l.Revoke(b, 2); err != nil {
			t.Fatal(err)
		}
	})
	step(time.Second, 0, []int64{1})    // t=5
	step(time.Second, 0, []int64{3, 4}) // t=6: retry interval since t=3 passed; tie by ID
	step(3*time.Second, 0, []int64{1, 3, 4})
}

func TestCheckpoints(t *testing.T) {
	e := newEnv(t, Options{EnableCheckpoints: true, CheckpointInterval: time.Minute})
	e.l.Promote(0)
	e.grant(1, 300)
	e.grant(2, 60) // not longer than the interval: never checkpointed
	if cps := e.l.DueCheckpoints(0); cps != nil {
		t.Fatalf("DueCheckpoints at once = %v", cps)
	}
	if at, ok := e.l.NextCheckpoint(); !ok || !at.Equal(e.clock.Now().Add(time.Minute)) {
		t.Fatalf("NextCheckpoint = %v, %v", at, ok)
	}
	e.clock.Advance(time.Minute + 500*time.Millisecond)
	cps := e.l.DueCheckpoints(0)
	if want := []PendingCheckpoint{{ID: 1, RemainingTTL: 240}}; !slices.Equal(cps, want) {
		t.Fatalf("DueCheckpoints = %v, want %v", cps, want)
	}
	if cps := e.l.DueCheckpoints(0); cps != nil {
		t.Fatalf("DueCheckpoints again = %v", cps)
	}
	e.apply(func(b *storage.Batch) {
		for _, cp := range cps {
			if err := e.l.Checkpoint(b, cp.ID, cp.RemainingTTL); err != nil {
				t.Fatal(err)
			}
		}
	})

	// A new leader after a restart counts from the checkpoint.
	e.reopen()
	e.l.Promote(time.Second)
	if _, r, _, _ := e.l.TimeToLive(1, false); r != 241 {
		t.Fatalf("remaining after restart = %d, want 240 + 1 s extension", r)
	}

	// Renew restarts the full TTL and queues a clearing checkpoint, even
	// with periodic checkpoints off.
	e.opts.EnableCheckpoints = false
	e.reopen()
	e.l.Promote(0)
	if ttl, err := e.l.Renew(1); err != nil || ttl != 300 {
		t.Fatalf("Renew = %d, %v", ttl, err)
	}
	if _, r, _, _ := e.l.TimeToLive(1, false); r != 300 {
		t.Fatalf("remaining after Renew = %d, want 300", r)
	}
	cps = e.l.DueCheckpoints(0)
	if want := []PendingCheckpoint{{ID: 1}}; !slices.Equal(cps, want) {
		t.Fatalf("DueCheckpoints after Renew = %v, want %v", cps, want)
	}
	e.apply(func(b *storage.Batch) {
		if err := e.l.Checkpoint(b, 1, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.l.Checkpoint(b, 1, -1); err == nil {
			t.Fatal("negative checkpoint accepted")
		}
	})
	if _, err := e.l.Renew(1); err != nil {
		t.Fatal(err)
	}
	if cps := e.l.DueCheckpoints(0); cps != nil {
		t.Fatalf("DueCheckpoints after clear = %v", cps)
	}
	e.reopen()
	e.l.Promote(0)
	if _, r, _, _ := e.l.TimeToLive(1, false); r != 300 {
		t.Fatalf("remaining after cleared checkpoint = %d, want 300", r)
	}
}

func TestPromoteSpreadsPileUp(t *testing.T) {
	const rate = 100 // target: 75 a second
	for _, tc := range []struct {
		name    string
		leases  int
		spreads bool
	}{
		{name: "below the revoke rate", leases: rate - 1},
		{name: "pile-up", leases: 3 * rate, spreads: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{MinTTL: 1, RevokeRate: rate})
			e.apply(func(b *storage.Batch) {
				for id := 1; id <= tc.leases; id++ {
					ttl := int64(10)
					if id%10 == 0 {
						ttl = 11 // a few in the next second
					}
					if _, err := e.l.Grant(b, int64(id), ttl); err != nil {
						t.Fatal(err)
					}
				}
			})
			e.l.Promote(2 * time.Second)
			base := e.clock.Now().Add(12 * time.Second)
			perSecond := map[int]int{}
			last := base
			for _, id := range e.l.Leases() {
				le := e.l.mu.leases[id]
				want := base
				if id%10 == 0 {
					want = base.Add(time.Second)
				}
				if le.expiry.Before(want) {
					t.Fatalf("lease %d due at %v, before its countdown ends at %v", id, le.expiry, want)
				}
				perSecond[int(le.expiry.Sub(base)/time.Second)]++
				if le.expiry.After(last) {
					last = le.expiry
				}
			}
			if !tc.spreads {
				if !last.Equal(base.Add(time.Second)) {
					t.Fatalf("deadlines moved without a pile-up: last at %v", last.Sub(base))
				}
				return
			}
			for s, n := range perSecond {
				if n > 3*rate/4 {
					t.Errorf("%d leases due in second %d, want at most %d", n, s, 3*rate/4)
				}
			}
			if want := base.Add(4 * time.Second); !last.Equal(want) {
				t.Errorf("last deadline at +%v, want +4s (300 leases at 75/s)", last.Sub(base))
			}
			// Expired hands them out in deadline order.
			e.clock.Advance(12 * time.Second)
			if got := len(e.l.Expired(0)); got != 75 {
				t.Errorf("%d expired in the first second, want 75", got)
			}
		})
	}
}
