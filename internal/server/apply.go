package server

import (
	"fmt"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// applyRound is the work of one Apply call: one batch, the results to hand
// back, and the events to publish once the batch is committed.
type applyRound struct {
	b       *storage.Batch
	results []applied
	events  []*mvccpb.Event
	lastRev int64
	// after runs once the batch is committed, before waiters are woken:
	// side effects outside storage (transport peers) that must not run
	// for a batch that never lands.
	after []func()
}

func (round *applyRound) afterCommit(f func()) { round.after = append(round.after, f) }

type applied struct {
	id uint64
	r  result
}

// Apply implements raftnode.Applier. It runs on the raft goroutine.
//
// Order matters: (1) every entry is applied into one indexed batch, which
// also records the applied index; (2) the batch is committed; (3) mvcc
// publishes the new revision to readers; (4) watchers get the events;
// (5) waiting proposers and readers are woken. A client therefore never
// sees an acknowledgement for state a reader cannot see yet.
func (s *Server) Apply(ents []raftpb.Entry, applyConf func(raftpb.ConfChangeI) *raftpb.ConfState) error {
	round := &applyRound{b: s.db.NewIndexedBatch()}
	defer round.b.Close()
	start := time.Now()
	defer func() {
		if d := time.Since(start); s.opts.WarningApplyDuration > 0 && d > s.opts.WarningApplyDuration {
			s.lg.Warn("apply request took too long", zap.Duration("took", d),
				zap.Duration("expected-duration", s.opts.WarningApplyDuration), zap.Int("entries", len(ents)))
		}
	}()

	for i := range ents {
		e := &ents[i]
		if e.Index <= s.appliedIndex.Load() {
			continue // already in the state machine (replay after restart)
		}
		switch e.Type {
		case raftpb.EntryNormal:
			if err := s.applyNormal(round, e); err != nil {
				return err
			}
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := cc.Unmarshal(e.Data); err != nil {
				return fmt.Errorf("%w: conf change at %d: %v", ErrCorrupt, e.Index, err)
			}
			if err := s.applyConfChange(round, cc, applyConf); err != nil {
				return err
			}
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			if err := cc.Unmarshal(e.Data); err != nil {
				return fmt.Errorf("%w: conf change at %d: %v", ErrCorrupt, e.Index, err)
			}
			if err := s.applyConfChangeV2(round, cc, applyConf); err != nil {
				return err
			}
		}
	}
	last := ents[len(ents)-1]
	if last.Index <= s.appliedIndex.Load() {
		return nil
	}
	v := storage.PutUint64(storage.PutUint64(make([]byte, 0, 16), last.Index), last.Term)
	if err := round.b.Set(keyApplied, v, nil); err != nil {
		return err
	}
	// The entries are already durable in the raft log; this batch can ride
	// on the next synced commit.
	if err := s.db.Commit(round.b, storage.NoSync); err != nil {
		return err
	}
	s.kv.Publish()
	s.appliedIndex.Store(last.Index)
	for _, f := range round.after {
		f()
	}
	if len(round.events) > 0 {
		s.hub.Notify(round.lastRev, round.events)
	}
	for _, a := range round.results {
		s.waits.trigger(a.id, a.r)
	}
	s.applied.reached(last.Index)
	return nil
}

func (s *Server) applyNormal(round *applyRound, e *raftpb.Entry) error {
	if len(e.Data) == 0 {
		return nil // a new leader's empty entry
	}
	req := &pb.InternalRaftRequest{}
	if err := proto.Unmarshal(e.Data, req); err != nil {
		return fmt.Errorf("%w: entry %d: %v", ErrCorrupt, e.Index, err)
	}
	r := s.dispatch(round, req)
	if r.err != nil && !isDeterministic(r.err) {
		// A failure that another member might not see (I/O) must stop this
		// member rather than let it diverge.
		s.lg.Error("apply failed", zap.Uint64("index", e.Index), zap.Error(r.err))
		return r.err
	}
	round.results = append(round.results, applied{id: req.ID, r: r})
	return nil
}

// dispatch is the one switch over request kinds; each family has its file.
func (s *Server) dispatch(round *applyRound, req *pb.InternalRaftRequest) result {
	switch {
	case req.Put != nil:
		return s.applyPut(round, req.Put)
	case req.DeleteRange != nil:
		return s.applyDeleteRange(round, req.DeleteRange)
	case req.Txn != nil:
		return s.applyTxn(round, req.Txn)
	case req.Range != nil:
		return s.applyRange(round, req.Range)
	case req.Compaction != nil:
		return s.applyCompaction(round, req.Compaction)
	case req.LeaseGrant != nil:
		return s.applyLeaseGrant(round, req.LeaseGrant)
	case req.LeaseRevoke != nil:
		return s.applyLeaseRevoke(round, req.LeaseRevoke)
	case req.LeaseCheckpoint != nil:
		return s.applyLeaseCheckpoint(round, req.LeaseCheckpoint)
	case req.ClusterMemberAttrSet != nil:
		return s.applyMemberAttrSet(round, req.ClusterMemberAttrSet)
	case req.ClusterVersionSet != nil:
		return s.applyClusterVersionSet(round, req.ClusterVersionSet)
	case req.Alarm != nil:
		return s.applyAlarm(round, req.Alarm)
	default:
		// A request kind this version does not know: every member rejects
		// it the same way, so it is deterministic.
		return result{err: ErrNotSupported}
	}
}

// addEvents records a write's events for the watch hub.
func (round *applyRound) addEvents(evs []*mvccpb.Event) {
	if len(evs) == 0 {
		return
	}
	round.events = append(round.events, evs...)
	round.lastRev = evs[len(evs)-1].Kv.ModRevision
}
