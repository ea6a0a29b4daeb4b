package raftnode

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// capture is a Transport that keeps what it is given.
type capture struct {
	mu   sync.Mutex
	msgs []raftpb.Message
}

func (c *capture) Send(msgs []raftpb.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, msgs...)
}

func (c *capture) SendSnapshot(m raftpb.Message) { c.Send([]raftpb.Message{m}) }

func (c *capture) take() []raftpb.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.msgs
	c.msgs = nil
	return out
}

// newTestNode makes member id of a cluster of peers, without its loop:
// the test plays the loop on its own goroutine.
func newTestNode(t *testing.T, id uint64, peers ...uint64) (*Node, *capture) {
	t.Helper()
	db, err := storage.Open(storage.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ls, err := OpenLogStore(db)
	if err != nil {
		t.Fatal(err)
	}
	var rp []raft.Peer
	for _, p := range peers {
		rp = append(rp, raft.Peer{ID: p})
	}
	tr := &capture{}
	n, err := newNode(Config{ID: id, Store: ls, DB: db, Transport: tr,
		Applier:      &recorder{db: db, store: ls, got: make(chan struct{}, 1)},
		TickInterval: 10 * time.Millisecond, ElectionTicks: 10, Peers: rp})
	if err != nil {
		t.Fatal(err)
	}
	return n, tr
}

func (n *Node) turnForTest(t *testing.T) {
	t.Helper()
	for n.rn.HasReady() {
		if err := n.handleReady(); err != nil {
			t.Fatal(err)
		}
	}
}

func queueProposals(n *Node, count, size int) {
	for i := range count {
		data := fmt.Appendf(nil, "p%d-", i)
		for len(data) < size {
			data = append(data, 'x')
		}
		n.propc <- proposal{id: uint64(i + 1), data: data}
	}
}

// TestProposalsShareOneAppend: proposals queued when the loop turns to raft
// reach each follower in one append, not one append per proposal.
func TestProposalsShareOneAppend(t *testing.T) {
	n, tr := newTestNode(t, 1, 1, 2, 3)
	n.turnForTest(t) // apply the bootstrap conf changes
	if err := n.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	n.turnForTest(t)
	term := n.rn.Status().Term
	n.step(raftpb.Message{Type: raftpb.MsgVoteResp, From: 2, To: 1, Term: term})
	n.turnForTest(t)
	if st := n.rn.Status(); st.RaftState != raft.StateLeader {
		t.Fatalf("state %v, want leader", st.RaftState)
	}
	// Both followers acknowledge the leader's first entry, so the leader
	// streams appends to them instead of probing.
	last := n.rn.Status().Commit
	if li := n.LastIndex(); li > last {
		last = li
	}
	for _, f := range []uint64{2, 3} {
		n.step(raftpb.Message{Type: raftpb.MsgAppResp, From: f, To: 1, Term: term, Index: last})
	}
	n.turnForTest(t)
	tr.take()

	const queued = 300
	queueProposals(n, queued, 16)
	if dropped := n.flushProposals(n.drainInputs(nil)); len(dropped) != 0 {
		t.Fatalf("dropped %v", dropped)
	}
	n.turnForTest(t)
	apps := map[uint64]int{}
	entries := map[uint64]int{}
	for _, m := range tr.take() {
		if m.Type == raftpb.MsgApp {
			apps[m.To]++
			entries[m.To] += len(m.Entries)
		}
	}
	for _, f := range []uint64{2, 3} {
		if apps[f] != 1 || entries[f] != queued {
			t.Errorf("follower %d got %d appends carrying %d entries, want 1 carrying %d", f, apps[f], entries[f], queued)
		}
	}
}

// TestFollowerForwardsProposalsTogether: a follower forwards its queued
// proposals to the leader in one message, split at maxProposalBatch.
func TestFollowerForwardsProposalsTogether(t *testing.T) {
	n, tr := newTestNode(t, 2, 1, 2, 3)
	n.turnForTest(t)
	// A heartbeat from leader 1 at term 2 makes 1 this member's leader.
	n.step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 2})
	n.turnForTest(t)
	if lead := n.rn.Status().Lead; lead != 1 {
		t.Fatalf("leader %d, want 1", lead)
	}
	tr.take()

	const queued, size = 40, maxProposalBatch / 16
	queueProposals(n, queued, size)
	if dropped := n.flushProposals(n.drainInputs(nil)); len(dropped) != 0 {
		t.Fatalf("dropped %v", dropped)
	}
	n.turnForTest(t)
	var props, entries int
	for _, m := range tr.take() {
		if m.Type != raftpb.MsgProp || m.To != 1 {
			continue
		}
		props++
		var bytes int
		for i, e := range m.Entries {
			bytes += len(e.Data)
			if want := fmt.Sprintf("p%d-", entries+i); string(e.Data[:len(want)]) != want {
				t.Fatalf("entry %d of a forwarded batch is %.8q, want prefix %q", entries+i, e.Data, want)
			}
		}
		if bytes > maxProposalBatch {
			t.Errorf("one forwarded batch carries %d bytes, over %d", bytes, maxProposalBatch)
		}
		entries += len(m.Entries)
	}
	// 40 proposals of 1/16 of the limit fit in 3 batches (16+16+8).
	if entries != queued || props != 3 {
		t.Fatalf("forwarded %d proposals in %d messages, want %d in 3", entries, props, queued)
	}
}

// TestDroppedBatchReportsEveryID: without a leader raft drops proposals;
// every ID of the batch is reported.
func TestDroppedBatchReportsEveryID(t *testing.T) {
	n, _ := newTestNode(t, 2, 1, 2, 3)
	n.turnForTest(t)
	queueProposals(n, 5, 8)
	dropped := n.flushProposals(n.drainInputs(nil))
	if fmt.Sprint(dropped) != "[1 2 3 4 5]" {
		t.Fatalf("dropped %v, want [1 2 3 4 5]", dropped)
	}
}
