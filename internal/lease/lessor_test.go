package lease

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
)

func TestGrant(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id, ttl int64
		want    int64 // granted TTL
		wantErr error
	}{
		{name: "plain", id: 1, ttl: 10, want: 10},
		{name: "below min TTL is raised", id: 1, ttl: 3, want: 5},
		{name: "zero TTL is raised", id: 1, ttl: 0, want: 5},
		{name: "negative TTL is raised", id: 1, ttl: -7, want: 5},
		{name: "exactly min", id: 1, ttl: 5, want: 5},
		{name: "exactly max", id: 1, ttl: MaxTTL, want: MaxTTL},
		{name: "above max", id: 1, ttl: MaxTTL + 1, wantErr: ErrLeaseTTLTooLarge},
		{name: "ID 0", id: 0, ttl: 10, wantErr: ErrLeaseNotFound},
		{name: "negative ID", id: -5, ttl: 10, want: 10},
		{name: "existing ID", id: 42, ttl: 10, wantErr: ErrLeaseExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{MinTTL: 5})
			e.grant(42, 100)
			var got *Lease
			var err error
			e.apply(func(b *storage.Batch) { got, err = e.l.Grant(b, tc.id, tc.ttl) })
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if tc.id != 42 && e.l.Exists(tc.id) {
					t.Fatalf("lease %d exists after a failed Grant", tc.id)
				}
				return
			}
			if got.ID != tc.id || got.TTL != tc.want {
				t.Fatalf("Grant = %+v, want {%d %d}", *got, tc.id, tc.want)
			}
			e.reopen()
			e.l.Promote(0)
			granted, _, _, err := e.l.TimeToLive(tc.id, false)
			if err != nil || granted != tc.want {
				t.Fatalf("after reopen: granted %d, %v; want %d", granted, err, tc.want)
			}
		})
	}
}

func TestAttachDetachRevoke(t *testing.T) {
	e := newEnv(t, Options{})
	e.grant(1, 60)
	e.grant(2, 60)
	e.attach(1, "b", "a", "c", "a")
	e.attach(2, "z")
	e.apply(func(b *storage.Batch) {
		if err := e.l.Detach(b, 1, []byte("c")); err != nil {
			t.Fatal(err)
		}
		if err := e.l.Detach(b, 1, []byte("never")); err != nil {
			t.Fatalf("detaching an unattached key: %v", err)
		}
	})
	for _, tc := range []struct {
		name string
		fn   func(b *storage.Batch) error
		want error
	}{
		{"attach to unknown", func(b *storage.Batch) error { return e.l.Attach(b, 9, []byte("k")) }, ErrLeaseNotFound},
		{"detach from unknown", func(b *storage.Batch) error { return e.l.Detach(b, 9, []byte("k")) }, ErrLeaseNotFound},
		{"revoke unknown", func(b *storage.Batch) error { _, err := e.l.Revoke(b, 9); return err }, ErrLeaseNotFound},
		{"checkpoint unknown is ignored", func(b *storage.Batch) error { return e.l.Checkpoint(b, 9, 5) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.apply(func(b *storage.Batch) {
				if err := tc.fn(b); !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			})
		})
	}
	if err := e.l.Attach(e.db.NewBatch(), 1, nil); err == nil {
		t.Fatal("Attach of an empty key succeeded")
	}
	if _, err := e.l.Revoke(e.db.NewBatch(), 1); err == nil {
		t.Fatal("Revoke with an unindexed batch succeeded")
	}

	e.l.Promote(0)
	_, _, keys, err := e.l.TimeToLive(1, true)
	if err != nil || !slices.Equal(strs(keys), []string{"a", "b"}) {
		t.Fatalf("TimeToLive keys = %q, %v; want [a b]", strs(keys), err)
	}

	// Keys attached earlier in the same batch are revoked with the lease.
	e.apply(func(b *storage.Batch) {
		if err := e.l.Attach(b, 1, []byte("0-same-batch")); err != nil {
			t.Fatal(err)
		}
		keys, err := e.l.Revoke(b, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"0-same-batch", "a", "b"}; !slices.Equal(strs(keys), want) {
			t.Fatalf("Revoke keys = %q, want %q", strs(keys), want)
		}
		if e.l.Exists(1) {
			t.Fatal("lease 1 exists after Revoke")
		}
	})
	if _, _, _, err := e.l.TimeToLive(1, true); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("TimeToLive of revoked lease: %v", err)
	}
	if got := e.l.Leases(); !slices.Equal(got, []int64{2}) {
		t.Fatalf("Leases = %v, want [2]", got)
	}
	// Nothing of lease 1 is left in storage.
	lower, upper := storage.KeyspaceBounds(storage.PrefixLease)
	it, err := e.db.NewIter(&storage.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	_ = it.Close()
	if n != 2 { // lease 2's record and its one attachment
		t.Fatalf("%d keys left in the lease keyspace, want 2", n)
	}
	// A granted-again ID starts with no keys.
	e.grant(1, 60)
	if _, _, keys, _ := e.l.TimeToLive(1, true); len(keys) != 0 {
		t.Fatalf("re-granted lease has keys %q", strs(keys))
	}
}

func TestPersistAndReopen(t *testing.T) {
	e := newEnv(t, Options{MinTTL: 2})
	e.grant(7, 30)
	e.grant(3, 2)
	e.grant(5, 600)
	e.attach(5, "k2", "k1")
	e.apply(func(b *storage.Batch) {
		if err := e.l.Checkpoint(b, 5, 400); err != nil {
			t.Fatal(err)
		}
	})
	e.grant(9, 10)
	e.apply(func(b *storage.Batch) {
		if _, err := e.l.Revoke(b, 9); err != nil {
			t.Fatal(err)
		}
	})

	// Restart with a larger election timeout: MinTTL rises to 4.
	e.opts.MinTTL = 4
	e.reopen()
	if got := e.l.Leases(); !slices.Equal(got, []int64{3, 5, 7}) {
		t.Fatalf("Leases after reopen = %v", got)
	}
	if e.l.IsPrimary() {
		t.Fatal("a reopened lessor is primary")
	}
	if _, _, _, err := e.l.TimeToLive(5, false); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("TimeToLive before Promote: %v, want ErrNotPrimary", err)
	}
	e.l.Promote(0)
	for _, tc := range []struct {
		id, granted, remaining int64
		keys                   []string
	}{
		{id: 3, granted: 4, remaining: 4},
		{id: 5, granted: 600, remaining: 400, keys: []string{"k1", "k2"}},
		{id: 7, granted: 30, remaining: 30},
	} {
		g, r, keys, err := e.l.TimeToLive(tc.id, true)
		if err != nil || g != tc.granted || r != tc.remaining || !slices.Equal(strs(keys), tc.keys) {
			t.Errorf("TimeToLive(%d) = %d, %d, %q, %v; want %d, %d, %q",
				tc.id, g, r, strs(keys), err, tc.granted, tc.remaining, tc.keys)
		}
	}
}

func TestCorruptRecordStopsNew(t *testing.T) {
	for _, tc := range []struct {
		name       string
		key, value []byte
	}{
		{"short value", recordKey(1), []byte{1, 2, 3}},
		{"unknown version", recordKey(1), append([]byte{9}, make([]byte, 16)...)},
		{"zero TTL", recordKey(1), encodeRecord(record{id: 1, ttl: 0})},
		{"ID 0", recordKey(0), encodeRecord(record{ttl: 5})},
		{"short key", []byte{storage.PrefixLease, tagRecord, 1}, encodeRecord(record{ttl: 5})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.apply(func(b *storage.Batch) {
				if err := b.Set(tc.key, tc.value, nil); err != nil {
					t.Fatal(err)
				}
			})
			if err := e.db.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := storage.Open(storage.Options{Dir: "/db", FS: e.fs})
			if err != nil {
				t.Fatal(err)
			}
			e.db = db
			if _, err := New(db, e.opts); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("New = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestReload(t *testing.T) {
	e := newEnv(t, Options{})
	e.grant(1, 10)
	e.l.Promote(0)
	// Another lease appears behind the lessor's back, as a snapshot would
	// bring it.
	e.apply(func(b *storage.Batch) {
		if err := b.Set(recordKey(2), encodeRecord(record{id: 2, ttl: 20, remainingTTL: 15}), nil); err != nil {
			t.Fatal(err)
		}
	})
	if err := e.l.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := e.l.Leases(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("Leases = %v", got)
	}
	if _, r, _, err := e.l.TimeToLive(2, false); err != nil || r != 15 {
		t.Fatalf("TimeToLive(2) remaining = %d, %v; want 15", r, err)
	}
	if at, ok := e.l.NextExpiry(); !ok || !at.Equal(e.clock.Now().Add(10*time.Second)) {
		t.Fatalf("NextExpiry = %v, %v", at, ok)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{}, true},
		{"negative min TTL", Options{MinTTL: -1}, false},
		{"min TTL above max", Options{MinTTL: MaxTTL + 1}, false},
		{"negative interval", Options{CheckpointInterval: -time.Second}, false},
		{"negative retry", Options{ExpiredRetryInterval: -time.Second}, false},
		{"negative rate", Options{RevokeRate: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.EnsureDefaults()
			if err := o.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	var o Options
	o.EnsureDefaults()
	if o.MinTTL != DefaultMinTTL || o.CheckpointInterval != DefaultCheckpointInterval ||
		o.ExpiredRetryInterval != DefaultExpiredRetryInterval || o.RevokeRate != DefaultRevokeRate ||
		o.Logger == nil || o.Now == nil || o.EnableCheckpoints {
		t.Fatalf("EnsureDefaults gave %+v", o)
	}
}
