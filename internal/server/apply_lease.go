package server

import (
	"errors"

	"github.com/cairn-db/cairn/internal/lease"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// leaseErr classifies a lessor error: its documented answers are the
// request's deterministic result; anything else (a corrupt record, a
// storage failure) stops the member.
func leaseErr(err error) result {
	switch {
	case errors.Is(err, lease.ErrLeaseNotFound), errors.Is(err, lease.ErrLeaseExists),
		errors.Is(err, lease.ErrLeaseTTLTooLarge):
		return result{err: err}
	}
	return result{err: &fatalError{err}}
}

func (s *Server) applyLeaseGrant(round *applyRound, req *pb.LeaseGrantRequest) result {
	l, err := s.lessor.Grant(round.b, req.ID, req.TTL)
	if err != nil {
		return leaseErr(err)
	}
	return result{resp: &pb.LeaseGrantResponse{
		Header: &pb.ResponseHeader{Revision: s.pendingRev(round)},
		ID:     req.ID,
		TTL:    l.TTL,
	}}
}

// applyLeaseRevoke removes the lease and deletes its keys at one revision.
func (s *Server) applyLeaseRevoke(round *applyRound, req *pb.LeaseRevokeRequest) result {
	keys, err := s.lessor.Revoke(round.b, req.ID)
	if err != nil {
		return leaseErr(err)
	}
	t := s.kv.Write(round.b)
	for _, k := range keys {
		t.DeleteRange(k, nil)
	}
	round.addEvents(t.End())
	if err := t.Err(); err != nil {
		return result{err: &fatalError{err}}
	}
	return result{resp: &pb.LeaseRevokeResponse{Header: &pb.ResponseHeader{Revision: s.pendingRev(round)}}}
}

func (s *Server) applyLeaseCheckpoint(round *applyRound, req *pb.LeaseCheckpointRequest) result {
	for _, c := range req.Checkpoints {
		if err := s.lessor.Checkpoint(round.b, c.ID, c.Remaining_TTL); err != nil {
			return leaseErr(err)
		}
	}
	return result{resp: &pb.LeaseCheckpointResponse{Header: &pb.ResponseHeader{Revision: s.pendingRev(round)}}}
}

// pendingRev is the revision the round has reached (published or not).
func (s *Server) pendingRev(round *applyRound) int64 {
	if round.lastRev > s.kv.Rev() {
		return round.lastRev
	}
	return s.kv.Rev()
}
