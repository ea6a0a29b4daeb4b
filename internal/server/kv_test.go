package server

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cairn-db/cairn/internal/mvcc"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// checkHeader verifies the fields fillHeader owns and the revision.
func checkHeader(t *testing.T, s *Server, what string, h *pb.ResponseHeader, rev int64) {
	t.Helper()
	if h == nil {
		t.Fatalf("%s: no header", what)
	}
	if h.ClusterId == 0 || h.ClusterId != s.ClusterID() {
		t.Errorf("%s: cluster_id = %x, want %x (non-zero)", what, h.ClusterId, s.ClusterID())
	}
	if h.MemberId == 0 || h.MemberId != s.ID() {
		t.Errorf("%s: member_id = %x, want %x (non-zero)", what, h.MemberId, s.ID())
	}
	if h.RaftTerm == 0 || h.RaftTerm != s.Term() {
		t.Errorf("%s: raft_term = %d, want %d (non-zero)", what, h.RaftTerm, s.Term())
	}
	if rev != 0 && h.Revision != rev {
		t.Errorf("%s: revision = %d, want %d", what, h.Revision, rev)
	}
}

func TestServerIdentity(t *testing.T) {
	s := newTestServer(t)
	if s.ID() != s.Options().Self.ID {
		t.Errorf("ID = %x, want %x", s.ID(), s.Options().Self.ID)
	}
	if s.Leader() != s.ID() {
		t.Errorf("Leader = %x, want self %x", s.Leader(), s.ID())
	}
	if s.LeaderChanges() < 1 {
		t.Errorf("LeaderChanges = %d, want >= 1", s.LeaderChanges())
	}
	ms := s.Cluster().Members()
	if len(ms) != 1 || ms[0].ID != s.ID() || ms[0].Name != "m0" || len(ms[0].ClientURLs) != 1 {
		t.Errorf("members = %+v, want m0 with its published client URL", ms)
	}
	// Ready means the attributes are applied; the leader also set the
	// cluster version.
	waitFor(t, "cluster version", func() bool { return s.Cluster().Version() == ClusterVersion })
}

func TestPutRangeHeaders(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	rev0 := s.KV().Rev()

	put, err := s.Put(ctx, &pb.PutRequest{Key: []byte("a"), Value: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, s, "put", put.Header, rev0+1)
	put, err = s.Put(ctx, &pb.PutRequest{Key: []byte("a"), Value: []byte("2"), PrevKv: true})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, s, "second put", put.Header, rev0+2)
	if put.PrevKv == nil || string(put.PrevKv.Value) != "1" {
		t.Errorf("prev kv = %v, want value 1", put.PrevKv)
	}

	for _, serializable := range []bool{false, true} {
		rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("a"), Serializable: serializable})
		if err != nil {
			t.Fatalf("range (serializable=%v): %v", serializable, err)
		}
		checkHeader(t, s, "range", rr.Header, rev0+2)
		if len(rr.Kvs) != 1 || string(rr.Kvs[0].Value) != "2" || rr.Kvs[0].Version != 2 ||
			rr.Kvs[0].CreateRevision != rev0+1 || rr.Kvs[0].ModRevision != rev0+2 {
			t.Errorf("range (serializable=%v) = %v", serializable, rr.Kvs)
		}
	}
	// A read at the old revision still sees the first value.
	rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("a"), Revision: rev0 + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Kvs) != 1 || string(rr.Kvs[0].Value) != "1" {
		t.Errorf("range at rev %d = %v, want value 1", rev0+1, rr.Kvs)
	}
	if _, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("a"), Revision: rev0 + 100}); !errors.Is(err, mvcc.ErrFutureRev) {
		t.Errorf("range at a future revision: err = %v, want %v", err, mvcc.ErrFutureRev)
	}
	if h := s.Header(); h.Revision != rev0+2 {
		t.Errorf("Header().Revision = %d, want %d", h.Revision, rev0+2)
	}
}

func TestDeleteRange(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	for _, k := range []string{"p/1", "p/2", "p/3", "q"} {
		if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte(k), Value: []byte("v" + k)}); err != nil {
			t.Fatal(err)
		}
	}
	rev := s.KV().Rev()
	dr, err := s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte("p/"), RangeEnd: []byte("p0"), PrevKv: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every key of one delete goes at one revision.
	checkHeader(t, s, "delete", dr.Header, rev+1)
	if dr.Deleted != 3 || len(dr.PrevKvs) != 3 || string(dr.PrevKvs[0].Key) != "p/1" {
		t.Errorf("delete = %d deleted, prev %v", dr.Deleted, dr.PrevKvs)
	}
	rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Kvs) != 1 || string(rr.Kvs[0].Key) != "q" {
		t.Errorf("after delete: %v, want only q", rr.Kvs)
	}
	// Deleting nothing does not make a revision.
	dr, err = s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte("nope")})
	if err != nil {
		t.Fatal(err)
	}
	if dr.Deleted != 0 || dr.Header.Revision != rev+1 {
		t.Errorf("empty delete: deleted %d at rev %d, want 0 at %d", dr.Deleted, dr.Header.Revision, rev+1)
	}
}

func versionIs(key string, v int64) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_VERSION, Result: pb.Compare_EQUAL,
		TargetUnion: &pb.Compare_Version{Version: v}}
}

func putOp(k, v string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
}

func rangeOp(k string, serializable bool) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte(k), Serializable: serializable}}}
}

func TestTxn(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	rev := s.KV().Rev()

	// Create-if-absent succeeds once, then takes the failure branch.
	create := &pb.TxnRequest{
		Compare: []*pb.Compare{versionIs("k", 0)},
		Success: []*pb.RequestOp{putOp("k", "first"), putOp("k2", "x")},
		Failure: []*pb.RequestOp{rangeOp("k", false)},
	}
	tr, err := s.Txn(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, s, "txn", tr.Header, rev+1)
	if !tr.Succeeded || len(tr.Responses) != 2 {
		t.Fatalf("first txn: succeeded=%v responses=%v", tr.Succeeded, tr.Responses)
	}
	tr, err = s.Txn(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Succeeded {
		t.Fatal("second create-if-absent succeeded")
	}
	// The failure branch only read: no new revision.
	checkHeader(t, s, "failed txn", tr.Header, rev+1)
	got := tr.Responses[0].GetResponseRange()
	if got == nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "first" {
		t.Errorf("failure branch range = %v", got)
	}

	// Read-only txns, linearizable and serializable, are served locally.
	for _, serializable := range []bool{false, true} {
		applied := s.AppliedIndex()
		tr, err := s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{rangeOp("k", serializable), rangeOp("k2", serializable)}})
		if err != nil {
			t.Fatalf("read-only txn (serializable=%v): %v", serializable, err)
		}
		checkHeader(t, s, "read-only txn", tr.Header, rev+1)
		if !tr.Succeeded || len(tr.Responses) != 2 ||
			string(tr.Responses[0].GetResponseRange().Kvs[0].Value) != "first" ||
			string(tr.Responses[1].GetResponseRange().Kvs[0].Value) != "x" {
			t.Errorf("read-only txn (serializable=%v) = %v", serializable, tr)
		}
		if s.AppliedIndex() != applied {
			t.Errorf("read-only txn (serializable=%v) went through raft: applied %d -> %d", serializable, applied, s.AppliedIndex())
		}
	}

	// A request apply rejects reaches the caller and changes nothing.
	// (Txn shape checks — duplicate keys, --max-txn-ops — belong to the
	// API layer, as in etcd.)
	ignore := &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("missing"), IgnoreValue: true}}}
	if _, err := s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{putOp("z", "1"), ignore}}); !errors.Is(err, mvcc.ErrKeyNotFound) {
		t.Errorf("ignore_value put of a missing key in txn: err = %v, want %v", err, mvcc.ErrKeyNotFound)
	}
	if got := s.KV().Rev(); got != rev+1 {
		t.Errorf("rejected txn moved the revision to %d", got)
	}
	if rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("z")}); err != nil || len(rr.Kvs) != 0 {
		t.Errorf("rejected txn left z = %v (err %v)", rr, err)
	}
}

func TestPutTooLarge(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.MaxRequestBytes = 1024 })
	_, err := s.Put(testCtx(t), &pb.PutRequest{Key: []byte("big"), Value: bytes.Repeat([]byte("x"), 2048)})
	if !errors.Is(err, ErrRequestTooLarge) {
		t.Errorf("err = %v, want %v", err, ErrRequestTooLarge)
	}
}

func TestPutUnknownLease(t *testing.T) {
	s := newTestServer(t)
	_, err := s.Put(testCtx(t), &pb.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 12345})
	if !errors.Is(err, mvcc.ErrLeaseNotFound) {
		t.Errorf("err = %v, want %v", err, mvcc.ErrLeaseNotFound)
	}
}
