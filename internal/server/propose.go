package server

import (
	"context"
	"errors"

	"github.com/cairn-db/cairn/internal/raftnode"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// propose sends req through raft and waits until it is applied.
func (s *Server) propose(ctx context.Context, req *pb.InternalRaftRequest) (result, error) {
	select {
	case <-s.stopc:
		return result{}, ErrStopped
	default:
	}
	if err := s.checkQuota(req); err != nil {
		return result{}, err
	}
	req.ID = s.reqID.next()
	data, err := proto.Marshal(req)
	if err != nil {
		return result{}, err
	}
	if len(data) > s.opts.MaxRequestBytes {
		// etcd's rule: the encoded raft request, not the gRPC message, is
		// held to --max-request-bytes.
		return result{}, ErrRequestTooLarge
	}
	if s.Leader() == 0 {
		return result{}, ErrNoLeader
	}
	ch := s.waits.register(req.ID)
	ctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	if err := s.node.Propose(ctx, req.ID, data); err != nil {
		s.waits.cancel(req.ID)
		s.proposalsFailed.Add(1)
		return result{}, s.proposeErr(ctx, err)
	}
	leaderChanged := s.leaderChangedNotify()
	select {
	case r := <-ch:
		return r, r.err
	case <-ctx.Done():
		s.waits.cancel(req.ID)
		s.proposalsFailed.Add(1)
		return result{}, s.proposeErr(ctx, ctx.Err())
	case <-leaderChanged:
		// The entry may still commit; etcd reports the ambiguity the same way.
		s.waits.cancel(req.ID)
		s.proposalsFailed.Add(1)
		return result{}, ErrLeaderChanged
	case <-s.stopc:
		return result{}, ErrStopped
	}
}

func (s *Server) proposeErr(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, raftnode.ErrStopped):
		return ErrStopped
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		if s.Leader() == 0 {
			return ErrTimeoutLeaderLost
		}
		return ErrTimeout
	}
	return err
}

// PendingProposals is the number of proposals waiting to be applied.
func (s *Server) PendingProposals() int64 { return s.waits.pending.Load() }

// FailedProposals is the number of proposals that failed to commit or whose
// outcome their proposer stopped waiting for.
func (s *Server) FailedProposals() uint64 { return s.proposalsFailed.Load() }
