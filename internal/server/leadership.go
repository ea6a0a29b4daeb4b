package server

import (
	"context"
	"time"

	"go.etcd.io/raft/v3/tracker"
	"go.uber.org/zap"
)

// MoveLeader hands leadership to target, a voting member, and waits until
// it has taken over. Only the leader may call it (etcd's rule).
func (s *Server) MoveLeader(ctx context.Context, target uint64) error {
	if s.Leader() != s.id {
		return ErrNotLeader
	}
	if target == s.id {
		return nil
	}
	m, ok := s.cluster.Member(target)
	if !ok || m.IsLearner {
		return ErrBadLeaderTransferee
	}
	return s.transferTo(ctx, target)
}

// transferTo asks raft to transfer leadership and polls until target leads.
func (s *Server) transferTo(ctx context.Context, target uint64) error {
	if err := s.node.TransferLeader(ctx, target); err != nil {
		return err
	}
	t := time.NewTicker(s.opts.TickInterval)
	defer t.Stop()
	for s.Leader() != target {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ErrTimeoutLeaderTransfer
		case <-s.stopc:
			return ErrStopped
		}
	}
	return nil
}

// HandOverLeadership is the first step of a graceful stop: a leader with
// other voters passes leadership to the most up-to-date one, so clients
// wait for a transfer rather than an election timeout (etcd does the
// same). Stop calls it too; calling it earlier, while clients are still
// served, makes the hand-over quicker.
func (s *Server) HandOverLeadership() {
	if s.node == nil || s.Leader() != s.id {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*s.opts.ElectionTimeout)
	defer cancel()
	st, err := s.node.Status(ctx)
	if err != nil || len(st.Progress) < 2 {
		return
	}
	var target, best uint64
	for id, pr := range st.Progress {
		if id == s.id || pr.IsLearner || pr.State != tracker.StateReplicate {
			continue
		}
		if pr.Match >= best {
			target, best = id, pr.Match
		}
	}
	if target == 0 {
		return
	}
	start := time.Now()
	if err := s.transferTo(ctx, target); err != nil {
		s.lg.Warn("leadership hand-over before stop failed", zap.Error(err))
		return
	}
	s.lg.Info("handed leadership over before stopping",
		zap.Uint64("to", target), zap.Duration("took", time.Since(start)))
}
