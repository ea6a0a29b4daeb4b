package server

import (
	"path/filepath"
	"testing"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// createOnce puts key=first if key does not exist, else key=second: applied
// twice it would leave "second" at version 2.
func createOnce(key string) *pb.TxnRequest {
	return &pb.TxnRequest{
		Compare: []*pb.Compare{versionIs(key, 0)},
		Success: []*pb.RequestOp{putOp(key, "first")},
		Failure: []*pb.RequestOp{putOp(key, "second")},
	}
}

// storedApplied reads the applied index straight from a stopped member's DB.
func storedApplied(t *testing.T, dir string) uint64 {
	t.Helper()
	db, err := storage.Open(storage.Options{Dir: filepath.Join(dir, "member", "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.Get(keyApplied)
	if err != nil {
		t.Fatalf("applied index: %v", err)
	}
	idx, ok := storage.Uint64(v)
	if !ok || len(v) != 16 {
		t.Fatalf("applied index record %x", v)
	}
	return idx
}

func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	s := startServer(t, opts)
	ctx := testCtx(t)

	tr, err := s.Txn(ctx, createOnce("once"))
	if err != nil || !tr.Succeeded {
		t.Fatalf("create-once txn: %v (err %v)", tr, err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte(k), Value: []byte("v" + k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	g, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("leased"), Value: []byte("v"), Lease: g.ID}); err != nil {
		t.Fatal(err)
	}
	id, cid, rev := s.ID(), s.ClusterID(), s.KV().Rev()
	applied, term := s.AppliedIndex(), s.Term()
	s.Stop()

	if got := storedApplied(t, dir); got != applied {
		t.Errorf("stored applied index = %d, in memory at stop %d", got, applied)
	}

	// Bootstrap options are ignored on restart: another Self and founding
	// list must not change the member's identity.
	other := membership.NewMember("other", []string{"http://127.0.0.1:12380"}, "another-token")
	opts.Self, opts.InitialMembers = other, []*membership.Member{other}
	s = startServer(t, opts)
	if s.ID() != id || s.ClusterID() != cid {
		t.Errorf("identity after restart = %x/%x, want %x/%x", s.ID(), s.ClusterID(), id, cid)
	}
	if s.AppliedIndex() < applied {
		t.Errorf("applied index after restart = %d, want >= %d", s.AppliedIndex(), applied)
	}
	if s.Term() <= term {
		t.Errorf("term after restart = %d, want > %d (a new election)", s.Term(), term)
	}
	if got := s.KV().Rev(); got != rev {
		t.Errorf("revision after restart = %d, want %d", got, rev)
	}

	// The create-once txn was not applied again.
	rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("once")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Kvs) != 1 || string(rr.Kvs[0].Value) != "first" || rr.Kvs[0].Version != 1 {
		t.Errorf("once = %v, want first at version 1 (txn re-applied?)", rr.Kvs)
	}
	rr, err = s.Range(ctx, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range rr.Kvs {
		keys = append(keys, string(kv.Key))
	}
	if want := "[a c leased once]"; fmtKeys(keys) != want {
		t.Errorf("keys after restart = %v, want %s", keys, want)
	}
	ttl, err := s.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: g.ID, Keys: true})
	if err != nil || ttl.GrantedTTL != 3600 || len(ttl.Keys) != 1 {
		t.Errorf("lease after restart = %v (err %v)", ttl, err)
	}

	// The revision continues.
	put, err := s.Put(ctx, &pb.PutRequest{Key: []byte("d"), Value: []byte("vd")})
	if err != nil {
		t.Fatal(err)
	}
	if put.Header.Revision != rev+1 {
		t.Errorf("first put after restart at revision %d, want %d", put.Header.Revision, rev+1)
	}

	// And a second restart, after more writes, still holds.
	applied = s.AppliedIndex()
	s.Stop()
	if got := storedApplied(t, dir); got != applied {
		t.Errorf("stored applied index = %d, in memory at stop %d", got, applied)
	}
	s = startServer(t, opts)
	if got := s.KV().Rev(); got != rev+1 {
		t.Errorf("revision after second restart = %d, want %d", got, rev+1)
	}
}

func fmtKeys(keys []string) string {
	out := "["
	for i, k := range keys {
		if i > 0 {
			out += " "
		}
		out += k
	}
	return out + "]"
}

// TestApplySkipsAppliedEntries: entries at or below the stored applied
// index are a replay and change nothing; the next one applies. The server
// is opened but not started, so the test is the only applier.
func TestApplySkipsAppliedEntries(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	s := startServer(t, opts)
	ctx := testCtx(t)
	if tr, err := s.Txn(ctx, createOnce("once")); err != nil || !tr.Succeeded {
		t.Fatalf("create-once txn: %v (err %v)", tr, err)
	}
	applied, term, rev := s.AppliedIndex(), s.Term(), s.KV().Rev()
	s.Stop()

	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if s.AppliedIndex() != applied {
		t.Fatalf("loaded applied index %d, want %d", s.AppliedIndex(), applied)
	}
	entry := func(index uint64, req *pb.InternalRaftRequest) raftpb.Entry {
		data, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		return raftpb.Entry{Term: term, Index: index, Type: raftpb.EntryNormal, Data: data}
	}
	noConf := func(raftpb.ConfChangeI) *raftpb.ConfState { t.Fatal("unexpected conf change"); return nil }

	replay := []raftpb.Entry{
		entry(applied-1, &pb.InternalRaftRequest{ID: 1, Txn: createOnce("once")}),
		entry(applied, &pb.InternalRaftRequest{ID: 2, Txn: createOnce("once")}),
	}
	if err := s.Apply(replay, noConf); err != nil {
		t.Fatal(err)
	}
	if s.KV().Rev() != rev || s.AppliedIndex() != applied {
		t.Fatalf("replay changed state: rev %d applied %d, want %d %d", s.KV().Rev(), s.AppliedIndex(), rev, applied)
	}
	next := []raftpb.Entry{
		entry(applied, &pb.InternalRaftRequest{ID: 3, Txn: createOnce("once")}),
		entry(applied+1, &pb.InternalRaftRequest{ID: 4, Txn: createOnce("once")}),
	}
	if err := s.Apply(next, noConf); err != nil {
		t.Fatal(err)
	}
	if s.KV().Rev() != rev+1 || s.AppliedIndex() != applied+1 {
		t.Fatalf("after a new entry: rev %d applied %d, want %d %d", s.KV().Rev(), s.AppliedIndex(), rev+1, applied+1)
	}
	rr, err := s.KV().RangeRequest(&pb.RangeRequest{Key: []byte("once")})
	if err != nil {
		t.Fatal(err)
	}
	// Applied exactly twice in all: the original, then index applied+1.
	if len(rr.Kvs) != 1 || string(rr.Kvs[0].Value) != "second" || rr.Kvs[0].Version != 2 {
		t.Errorf("once = %v, want second at version 2", rr.Kvs)
	}
	s.Stop()
	if got := storedApplied(t, dir); got != applied+1 {
		t.Errorf("stored applied index = %d, want %d", got, applied+1)
	}
}
