package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/raftnode"
	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// A lagging follower catches up from a snapshot: the leader streams its
// state keyspaces as of its applied index (storage.ExportSpans), the
// follower turns the stream into one SST that also deletes what it held in
// those keyspaces (storage.BuildSST), and installs it when raft hands the
// snapshot over (ApplySnapshot). The install is crash-safe: the raft side
// and keySnapshotPending are committed first; the ingest then replaces the
// state and, by its range deletion, removes keySnapshotPending in the same
// step. A restart that finds keySnapshotPending ingests again.

// testHookSnapshotCommitted, when set by a test, runs between committing
// the install record and the ingest; an error stops the install there, as
// a crash would.
var testHookSnapshotCommitted func() error

// keySnapshotPending names the SST of an install that has not finished.
var keySnapshotPending = []byte{storage.PrefixApply, 'p'}

// snapshotSpans are the keyspaces a snapshot carries: all the state, but
// not this member's own ID (keyMemberID) nor anything of raft's.
var snapshotSpans = []storage.Span{
	{Start: []byte{storage.PrefixApply}, End: keyMemberID},
	{Start: append(bytes.Clone(keyMemberID), 0), End: []byte{storage.PrefixMembership + 1}},
}

func (s *Server) snapDir() string { return filepath.Join(s.opts.DataDir, "member", "snap") }

func (s *Server) snapPath(index uint64) string {
	return filepath.Join(s.snapDir(), fmt.Sprintf("%016x.sst", index))
}

// OpenSnapshot implements transport.Snapshotter on the leader.
func (s *Server) OpenSnapshot() (raftpb.SnapshotMetadata, func(io.Writer) error, func(), error) {
	snap := s.db.NewSnapshot()
	var meta raftpb.SnapshotMetadata
	v, err := storage.Get(snap, keyApplied)
	if err != nil || len(v) != 16 {
		snap.Close()
		return meta, nil, nil, fmt.Errorf("server: snapshot: no applied index: %v", err)
	}
	meta.Index, _ = storage.Uint64(v)
	meta.Term, _ = storage.Uint64(v[8:])
	if meta.ConfState, err = raftnode.ReadConfState(snap); err != nil {
		snap.Close()
		return meta, nil, nil, err
	}
	write := func(w io.Writer) error {
		return storage.ExportSpans(snap, snapshotSpans, func(k []byte) bool { return bytes.Equal(k, keySnapshotPending) }, w)
	}
	return meta, write, func() { snap.Close() }, nil
}

// ReceiveSnapshot implements transport.Snapshotter on a follower: it
// builds the SST, then hands the message to raft.
func (s *Server) ReceiveSnapshot(ctx context.Context, m raftpb.Message, r io.Reader) error {
	if s.node == nil {
		return ErrStopped
	}
	idx := m.Snapshot.Metadata.Index
	if idx <= s.appliedIndex.Load() {
		return fmt.Errorf("server: snapshot at %d is not newer than the applied index %d", idx, s.appliedIndex.Load())
	}
	if err := os.MkdirAll(s.snapDir(), 0o700); err != nil {
		return err
	}
	keys, err := s.db.BuildSST(r, snapshotSpans, s.snapPath(idx))
	if err != nil {
		return fmt.Errorf("server: snapshot at %d: %w", idx, err)
	}
	s.lg.Info("received snapshot", zap.Uint64("index", idx), zap.Int("keys", keys))
	return s.node.Step(ctx, m)
}

// ApplySnapshot implements raftnode.Applier. It runs on the raft goroutine.
func (s *Server) ApplySnapshot(snap raftpb.Snapshot, stageRaft func(b *storage.Batch) error) error {
	idx := snap.Metadata.Index
	path := s.snapPath(idx)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("server: raft installs a snapshot at %d that was never received: %w", idx, err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := stageRaft(b); err != nil {
		return err
	}
	if err := b.Set(keySnapshotPending, []byte(filepath.Base(path)), nil); err != nil {
		return err
	}
	if err := s.db.Commit(b, storage.Sync); err != nil {
		return err
	}
	if testHookSnapshotCommitted != nil {
		if err := testHookSnapshotCommitted(); err != nil {
			return err
		}
	}
	if err := s.ingestSnapshot(path); err != nil {
		return err
	}
	return s.reloadState()
}

// ingestSnapshot replaces the state with the SST at path.
func (s *Server) ingestSnapshot(path string) error {
	if err := s.db.Ingest(context.Background(), []string{path}); err != nil {
		return fmt.Errorf("server: ingest snapshot %s: %w", path, err)
	}
	if _, err := s.db.Get(keySnapshotPending); !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: snapshot %s ingested but still pending (%v)", ErrCorrupt, path, err)
	}
	s.removeStaleSnapshots()
	return nil
}

// finishSnapshotInstall completes an install a crash interrupted; it runs
// before any state is loaded.
func (s *Server) finishSnapshotInstall() error {
	v, err := s.db.Get(keySnapshotPending)
	if errors.Is(err, storage.ErrNotFound) {
		s.removeStaleSnapshots()
		return nil
	}
	if err != nil {
		return err
	}
	name := string(v)
	if strings.ContainsAny(name, `/\`) || !strings.HasSuffix(name, ".sst") {
		return fmt.Errorf("%w: pending snapshot record %q", ErrCorrupt, name)
	}
	path := filepath.Join(s.snapDir(), name)
	s.lg.Warn("finishing a snapshot install interrupted by a crash", zap.String("file", path))
	return s.ingestSnapshot(path)
}

// removeStaleSnapshots deletes received snapshot files that can no longer
// be installed: raft refused them, or a newer one won.
func (s *Server) removeStaleSnapshots() {
	ents, err := os.ReadDir(s.snapDir())
	if err != nil {
		return
	}
	applied, _, _ := s.loadApplied()
	for _, e := range ents {
		name := e.Name()
		hex, _, _ := strings.Cut(name, ".")
		idx, err := strconv.ParseUint(hex, 16, 64)
		if err != nil || idx <= applied || strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(s.snapDir(), name))
		}
	}
}

// reloadState rebuilds every in-memory view from the state a snapshot just
// replaced, and brings the transport's peers in line with the new member
// list.
func (s *Server) reloadState() error {
	before := s.cluster.Members()
	r := s.db.Reader()
	if err := s.cluster.Reload(r); err != nil {
		return err
	}
	if err := s.alarms.reload(r); err != nil {
		return err
	}
	if err := s.kv.Restore(); err != nil {
		return err
	}
	if err := s.lessor.Reload(); err != nil {
		return err
	}
	idx, _, err := s.loadApplied()
	if err != nil {
		return err
	}
	s.appliedIndex.Store(idx)
	s.hub.Restore(s.kv.Rev())
	s.syncPeers(before)
	s.refreshRole()
	s.applied.reached(idx)
	if s.cluster.IsRemoved(s.id) {
		s.stopRemoved()
	}
	return nil
}

// syncPeers makes the transport stream to exactly the current members.
func (s *Server) syncPeers(before []*membership.Member) {
	now := map[uint64]bool{}
	for _, m := range s.cluster.Members() {
		now[m.ID] = true
		if m.ID != s.id {
			s.peers.AddPeer(m.ID, m.PeerURLs)
		}
	}
	for _, m := range before {
		if !now[m.ID] {
			s.peers.RemovePeer(m.ID)
		}
	}
}
