package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// recorder is an Applier that remembers normal entries' data and persists
// its applied index like the server does.
type recorder struct {
	db    *storage.DB
	store *LogStore
	mu    sync.Mutex
	data  []string
	index uint64
	got   chan struct{}
}

func (r *recorder) Apply(ents []raftpb.Entry, applyConf func(raftpb.ConfChangeI) *raftpb.ConfState) error {
	b := r.db.NewBatch()
	defer b.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range ents {
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) > 0 {
				r.data = append(r.data, string(e.Data))
			}
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := cc.Unmarshal(e.Data); err != nil {
				return err
			}
			cs := applyConf(cc)
			if err := r.store.StageConfState(b, *cs); err != nil {
				return err
			}
		}
		r.index = e.Index
	}
	select {
	case r.got <- struct{}{}:
	default:
	}
	return r.db.Commit(b, storage.NoSync)
}

// ApplySnapshot is unused: these tests run one member, which never
// receives a snapshot.
func (r *recorder) ApplySnapshot(raftpb.Snapshot, func(*storage.Batch) error) error {
	return errors.New("recorder: unexpected snapshot")
}

func (r *recorder) snapshot() ([]string, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.data...), r.index
}

func startNode(t *testing.T, dir string, applied uint64, snapCount uint64) (*Node, *recorder, *storage.DB) {
	t.Helper()
	db, err := storage.Open(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := OpenLogStore(db)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{db: db, store: ls, got: make(chan struct{}, 1)}
	var peers []raft.Peer
	if ls.IsEmpty() {
		peers = []raft.Peer{{ID: 1}}
	}
	n, err := Start(Config{
		ID: 1, Store: ls, DB: db, Applier: rec,
		TickInterval: 10 * time.Millisecond, ElectionTicks: 10, TickAdvance: true,
		Applied: applied, Peers: peers, SnapshotCount: snapCount, CatchUpEntries: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, rec, db
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSingleNodeProposeRestartCompact(t *testing.T) {
	dir := t.TempDir()
	n, rec, db := startNode(t, dir, 0, 20)
	waitFor(t, "leader", func() bool {
		st, _ := n.Status(context.Background())
		return st.Lead == 1
	})
	const total = 100
	for i := 0; i < total; i++ {
		if err := n.Propose(context.Background(), uint64(i), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "apply", func() bool { d, _ := rec.snapshot(); return len(d) == total })
	data, applied := rec.snapshot()
	for i, d := range data {
		if d != fmt.Sprint(i) {
			t.Fatalf("entry %d = %q: order lost", i, d)
		}
	}
	n.Stop()
	first, _ := n.cfg.Store.FirstIndex()
	if first <= 1 {
		t.Fatalf("log was not compacted: first index %d", first)
	}
	db.Close()

	// Restart from the same data: nothing is re-applied before applied, and
	// new proposals continue the log.
	n2, rec2, db2 := startNode(t, dir, applied, 20)
	defer db2.Close()
	defer n2.Stop()
	waitFor(t, "leader after restart", func() bool {
		st, _ := n2.Status(context.Background())
		return st.Lead == 1
	})
	if err := n2.Propose(context.Background(), 1000, []byte("after")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "apply after restart", func() bool { d, _ := rec2.snapshot(); return len(d) == 1 })
	d, idx := rec2.snapshot()
	if d[0] != "after" || idx <= applied {
		t.Fatalf("after restart applied %v at %d (before %d)", d, idx, applied)
	}
}

func TestEntriesAcrossCacheAndDisk(t *testing.T) {
	db, err := storage.Open(storage.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ls, _ := OpenLogStore(db)
	var ents []raftpb.Entry
	for i := uint64(1); i <= cacheLimit+100; i++ {
		ents = append(ents, raftpb.Entry{Index: i, Term: 1 + i/1000, Data: []byte{byte(i)}})
	}
	b := db.NewBatch()
	if err := ls.stageAppend(b, ents, raftpb.HardState{Term: 5, Commit: 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(b, storage.Sync); err != nil {
		t.Fatal(err)
	}
	ls.commitAppend(ents, raftpb.HardState{Term: 5, Commit: 3})
	got, err := ls.Entries(1, cacheLimit+101, 0)
	if err != nil || len(got) != cacheLimit+100 {
		t.Fatalf("entries: %d %v", len(got), err)
	}
	for i, e := range got {
		if e.Index != uint64(i+1) {
			t.Fatalf("entry %d has index %d", i, e.Index)
		}
	}
	// Overwrite a tail, as a new leader would.
	tail := []raftpb.Entry{{Index: 50, Term: 9}, {Index: 51, Term: 9}}
	b = db.NewBatch()
	if err := ls.stageAppend(b, tail, raftpb.HardState{}); err != nil {
		t.Fatal(err)
	}
	db.Commit(b, storage.Sync)
	ls.commitAppend(tail, raftpb.HardState{})
	if last, _ := ls.LastIndex(); last != 51 {
		t.Fatalf("last index %d after overwrite", last)
	}
	if term, _ := ls.Term(51); term != 9 {
		t.Fatalf("term(51)=%d", term)
	}
	// Reopen sees the same log.
	ls2, err := OpenLogStore(db)
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := ls2.LastIndex(); last != 51 {
		t.Fatalf("reopened last index %d", last)
	}
	if term, _ := ls2.Term(50); term != 9 {
		t.Fatalf("reopened term(50)=%d", term)
	}
}

// TestQueuedInputsShareOneReady: what is queued when the loop turns to raft
// (proposals, peer messages, read requests) goes into one Ready, so a busy
// member persists many entries with one fsync instead of one per input.
// The loop is not running; the test plays it on its own goroutine.
func TestQueuedInputsShareOneReady(t *testing.T) {
	db, err := storage.Open(storage.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ls, err := OpenLogStore(db)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{db: db, store: ls, got: make(chan struct{}, 1)}
	n, err := newNode(Config{ID: 1, Store: ls, DB: db, Applier: rec,
		TickInterval: 10 * time.Millisecond, ElectionTicks: 10, Peers: []raft.Peer{{ID: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	turn := func() {
		for n.rn.HasReady() {
			if err := n.handleReady(); err != nil {
				t.Fatal(err)
			}
		}
	}
	turn() // the bootstrap entries make this member a voter
	if err := n.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	turn()
	if st := n.rn.Status(); st.RaftState != raft.StateLeader {
		t.Fatalf("state %v, want leader", st.RaftState)
	}

	const queued = 300
	for i := range queued {
		n.propc <- proposal{id: uint64(i + 1), data: []byte(fmt.Sprintf("p%d", i))}
	}
	n.readc <- []byte("read")
	// From a peer unknown to this one-member cluster: raft ignores it.
	n.recvc <- raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 2, To: 1, Term: n.rn.Status().Term}
	if dropped := n.flushProposals(n.drainInputs(nil)); len(dropped) != 0 {
		t.Fatalf("dropped %v", dropped)
	}
	if len(n.propc) != 0 || len(n.readc) != 0 || len(n.recvc) != 0 {
		t.Fatalf("left queued: %d proposals, %d reads, %d messages", len(n.propc), len(n.readc), len(n.recvc))
	}
	rd := n.rn.Ready()
	if len(rd.Entries) != queued {
		t.Fatalf("one Ready carries %d entries, want all %d queued proposals", len(rd.Entries), queued)
	}
}
