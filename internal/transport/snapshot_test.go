package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// fakeSnapshots serves a fixed state and records what it receives.
type fakeSnapshots struct {
	state   []byte
	index   uint64
	refuse  bool
	mu      sync.Mutex
	got     []byte
	gotMeta raftpb.SnapshotMetadata
}

func (f *fakeSnapshots) OpenSnapshot() (raftpb.SnapshotMetadata, func(io.Writer) error, func(), error) {
	write := func(w io.Writer) error { _, err := w.Write(f.state); return err }
	return raftpb.SnapshotMetadata{Index: f.index, Term: 3}, write, func() {}, nil
}

func (f *fakeSnapshots) ReceiveSnapshot(_ context.Context, m raftpb.Message, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if f.refuse {
		return errors.New("refused by test")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got, f.gotMeta = b, m.Snapshot.Metadata
	return nil
}

func (f *fakeSnapshots) received() ([]byte, raftpb.SnapshotMetadata) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got, f.gotMeta
}

func TestSnapshotCarriesStateAndCurrentMetadata(t *testing.T) {
	state := bytes.Repeat([]byte("state!"), 300_000) // larger than a frame buffer
	src := &fakeSnapshots{state: state, index: 120}
	dst := &fakeSnapshots{}
	a := newMember(t, 1, memberOpts{snapshots: src})
	b := newMember(t, 2, memberOpts{snapshots: dst})
	connect(a, b)

	// raft asked for its snapshot point (100); the state sent is newer,
	// and the metadata that arrives must describe what was sent.
	a.tr.SendSnapshot(raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 100, Term: 2}}})
	waitFor(t, "snapshot report", func() bool { return len(a.raft.snapshotReports(2)) == 1 })
	if r := a.raft.snapshotReports(2); !r[0] {
		t.Fatal("snapshot reported failed")
	}
	got, meta := dst.received()
	if !bytes.Equal(got, state) || meta.Index != 120 || meta.Term != 3 {
		t.Fatalf("received %d bytes at %d/%d", len(got), meta.Index, meta.Term)
	}
}

func TestSnapshotRefusedIsReportedFailed(t *testing.T) {
	a := newMember(t, 1, memberOpts{snapshots: &fakeSnapshots{state: []byte("x"), index: 5}})
	b := newMember(t, 2, memberOpts{snapshots: &fakeSnapshots{refuse: true}})
	c := newMember(t, 3, memberOpts{cluster: 0xdead, snapshots: &fakeSnapshots{}})
	connect(a, b)
	a.tr.AddPeer(3, []string{c.srv.URL})
	for _, to := range []uint64{2, 3, 9} { // refused; other cluster; unknown peer
		a.tr.SendSnapshot(raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: to, Snapshot: &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5}}})
		waitFor(t, "snapshot report", func() bool { return len(a.raft.snapshotReports(to)) == 1 })
		if a.raft.snapshotReports(to)[0] {
			t.Fatalf("snapshot to %d reported installed", to)
		}
	}
}
