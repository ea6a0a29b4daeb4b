package server

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/mvcc"
	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// countKeys counts the stored keys of one keyspace.
func countKeys(t *testing.T, db *storage.DB, prefix byte) int {
	t.Helper()
	lo, hi := storage.KeyspaceBounds(prefix)
	it, err := db.NewIter(&storage.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n
}

func TestCompactPhysical(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	var revs []int64
	for i := range 10 {
		r, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: fmt.Appendf(nil, "v%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, r.Header.Revision)
	}
	versions := countKeys(t, s.DB(), storage.PrefixMVCC)
	target := revs[7]

	cr, err := s.Compact(ctx, &pb.CompactionRequest{Revision: target, Physical: true})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, s, "compact", cr.Header, s.KV().Rev())
	// Physical: the call returned only after old versions were deleted.
	if got := s.KV().FinishedCompactRev(); got < target {
		t.Errorf("FinishedCompactRev = %d after a physical compact at %d", got, target)
	}
	if got := s.KV().CompactRev(); got != target {
		t.Errorf("CompactRev = %d, want %d", got, target)
	}
	if after := countKeys(t, s.DB(), storage.PrefixMVCC); after >= versions {
		t.Errorf("MVCC versions: %d before, %d after a physical compaction", versions, after)
	}

	if _, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), Revision: revs[6]}); !errors.Is(err, mvcc.ErrCompacted) {
		t.Errorf("range below the compaction: err = %v, want %v", err, mvcc.ErrCompacted)
	}
	for _, rev := range []int64{target, revs[9], 0} {
		rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), Revision: rev})
		if err != nil {
			t.Fatalf("range at %d: %v", rev, err)
		}
		if len(rr.Kvs) != 1 {
			t.Errorf("range at %d: %v", rev, rr.Kvs)
		}
	}
	if _, err := s.Compact(ctx, &pb.CompactionRequest{Revision: target}); !errors.Is(err, mvcc.ErrCompacted) {
		t.Errorf("compact again at %d: err = %v, want %v", target, err, mvcc.ErrCompacted)
	}
	if _, err := s.Compact(ctx, &pb.CompactionRequest{Revision: s.KV().Rev() + 1}); !errors.Is(err, mvcc.ErrFutureRev) {
		t.Errorf("compact in the future: err = %v, want %v", err, mvcc.ErrFutureRev)
	}
	// A non-physical compaction returns at once; the data goes later.
	if _, err := s.Compact(ctx, &pb.CompactionRequest{Revision: revs[9]}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "background compaction", func() bool { return s.KV().FinishedCompactRev() >= revs[9] })
}

func TestParseAutoCompaction(t *testing.T) {
	for _, tc := range []struct {
		mode, retention string
		want            AutoCompaction
		wantErr         bool
	}{
		{"", "", AutoCompaction{}, false},
		{"periodic", "", AutoCompaction{}, false},
		{"periodic", "0", AutoCompaction{}, false},
		{"revision", "0", AutoCompaction{}, false},
		{"periodic", "0s", AutoCompaction{}, false},
		{"periodic", "1", AutoCompaction{Mode: "periodic", Period: time.Hour}, false},
		{"", "1", AutoCompaction{Mode: "periodic", Period: time.Hour}, false},
		{"periodic", "72", AutoCompaction{Mode: "periodic", Period: 72 * time.Hour}, false},
		{"periodic", "30m", AutoCompaction{Mode: "periodic", Period: 30 * time.Minute}, false},
		{"periodic", "1h30m", AutoCompaction{Mode: "periodic", Period: 90 * time.Minute}, false},
		{"periodic", "5s", AutoCompaction{Mode: "periodic", Period: 5 * time.Second}, false},
		{"revision", "1000", AutoCompaction{Mode: "revision", Revisions: 1000}, false},
		{"revision", "1", AutoCompaction{Mode: "revision", Revisions: 1}, false},
		{"periodic", "-1m", AutoCompaction{}, true},
		{"periodic", "abc", AutoCompaction{}, true},
		{"periodic", "1.5", AutoCompaction{}, true},
		{"revision", "1h", AutoCompaction{}, true},
		{"revision", "-5", AutoCompaction{}, true},
		{"revision", "ten", AutoCompaction{}, true},
		{"hourly", "1", AutoCompaction{}, true},
	} {
		got, err := ParseAutoCompaction(tc.mode, tc.retention)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseAutoCompaction(%q, %q) error = %v, want error %v", tc.mode, tc.retention, err, tc.wantErr)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseAutoCompaction(%q, %q) = %+v, want %+v", tc.mode, tc.retention, got, tc.want)
		}
	}
}

// TestAutoCompactionPeriodic: with a 1s retention the leader samples every
// second (the floor) and compacts to a revision at least 1s old.
func TestAutoCompactionPeriodic(t *testing.T) {
	s := newTestServer(t, func(o *Options) {
		o.AutoCompaction = AutoCompaction{Mode: "periodic", Period: time.Second}
	})
	ctx := testCtx(t)
	var first int64
	for i := range 5 {
		r, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if first == 0 {
			first = r.Header.Revision
		}
	}
	waitFor(t, "periodic auto compaction", func() bool { return s.KV().CompactRev() >= first })
	if _, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), Revision: first - 1}); !errors.Is(err, mvcc.ErrCompacted) {
		t.Errorf("range below the auto compaction: err = %v, want %v", err, mvcc.ErrCompacted)
	}
}

// TestAutoCompactionRevision: revision mode keeps the last N revisions.
func TestAutoCompactionRevision(t *testing.T) {
	s := newTestServer(t, func(o *Options) {
		o.AutoCompaction = AutoCompaction{Mode: "revision", Revisions: 3, CheckInterval: 50 * time.Millisecond}
	})
	ctx := testCtx(t)
	for i := range 10 {
		if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	want := s.KV().Rev() - 3
	waitFor(t, "revision auto compaction", func() bool { return s.KV().CompactRev() >= want })
}
