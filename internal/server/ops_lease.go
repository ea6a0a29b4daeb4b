package server

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-db/cairn/internal/lease"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
)

// LeaseGrant creates a lease; an ID of 0 asks the server to pick one.
func (s *Server) LeaseGrant(ctx context.Context, req *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	if req.ID == 0 {
		// Positive int64, unique across members: etcd's scheme.
		req.ID = int64(s.reqID.next() & (1<<63 - 1))
	}
	if req.TTL > lease.MaxTTL {
		return nil, lease.ErrLeaseTTLTooLarge
	}
	r, err := s.propose(ctx, &pb.InternalRaftRequest{LeaseGrant: req})
	if err != nil {
		return nil, err
	}
	resp := r.resp.(*pb.LeaseGrantResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// LeaseRevoke deletes a lease and its keys.
func (s *Server) LeaseRevoke(ctx context.Context, req *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	r, err := s.propose(ctx, &pb.InternalRaftRequest{LeaseRevoke: req})
	if err != nil {
		return nil, err
	}
	resp := r.resp.(*pb.LeaseRevokeResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// LeaseRenew refreshes a lease and returns its TTL. Only the leader's
// lessor keeps deadlines, so a follower forwards the call to it.
func (s *Server) LeaseRenew(ctx context.Context, id int64) (int64, error) {
	if s.Leader() == s.id {
		ttl, err := s.renewLocal(ctx, id)
		if !errors.Is(err, lease.ErrNotPrimary) {
			return ttl, err
		}
	}
	return s.forwardRenew(ctx, id)
}

// forwardRenewOne forwards one keep-alive by itself, to a leader that does
// not serve batches.
func (s *Server) forwardRenewOne(ctx context.Context, id int64) (int64, error) {
	resp := &pb.LeaseKeepAliveResponse{}
	if err := s.forward(ctx, leaseRenewPath, &pb.LeaseKeepAliveRequest{ID: id}, resp); err != nil {
		return 0, err
	}
	return resp.TTL, nil
}

func (s *Server) renewLocal(ctx context.Context, id int64) (int64, error) {
	// Keep-alives are linearizable against revokes: wait for what is
	// committed to be applied, so a revoked lease is not renewed.
	if err := s.reads.wait(ctx); err != nil {
		return 0, err
	}
	return s.lessor.Renew(id)
}

// LeaseTimeToLive reports a lease's TTLs and, optionally, its keys; the
// remaining TTL is the leader's, so a follower asks it.
func (s *Server) LeaseTimeToLive(ctx context.Context, req *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	// Only the leader's lessor knows the remaining TTL; a follower (or a
	// leader that lost its lessor's primacy meanwhile) asks the leader.
	var resp *pb.LeaseTimeToLiveResponse
	err := lease.ErrNotPrimary
	if s.Leader() == s.id {
		resp, err = s.timeToLiveLocal(ctx, req)
	}
	if errors.Is(err, lease.ErrNotPrimary) {
		resp = &pb.LeaseTimeToLiveResponse{}
		if err = s.forwardRetry(ctx, leaseTTLPath, req, resp); err == nil {
			resp.Header = s.Header()
		}
	}
	if errors.Is(err, lease.ErrLeaseNotFound) {
		// etcd answers a missing lease with TTL -1, not an error.
		return &pb.LeaseTimeToLiveResponse{Header: s.Header(), ID: req.ID, TTL: -1}, nil
	}
	return resp, err
}

func (s *Server) timeToLiveLocal(ctx context.Context, req *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	if err := s.reads.wait(ctx); err != nil {
		return nil, err
	}
	granted, remaining, keys, err := s.lessor.TimeToLive(req.ID, req.Keys)
	if err != nil {
		return nil, err
	}
	return &pb.LeaseTimeToLiveResponse{Header: s.Header(), ID: req.ID, TTL: remaining, GrantedTTL: granted, Keys: keys}, nil
}

// LeaseLeases lists lease IDs.
func (s *Server) LeaseLeases(ctx context.Context) (*pb.LeaseLeasesResponse, error) {
	if err := s.reads.wait(ctx); err != nil {
		return nil, err
	}
	ids := s.lessor.Leases()
	out := make([]*pb.LeaseStatus, 0, len(ids))
	for _, id := range ids {
		out = append(out, &pb.LeaseStatus{ID: id})
	}
	return &pb.LeaseLeasesResponse{Header: s.Header(), Leases: out}, nil
}

// expireLeases proposes revokes for leases the leader's lessor found
// expired. Only the leader's lessor is primary, so only it proposes.
func (s *Server) expireLeases() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stopc:
			return
		}
		if cps := s.lessor.DueCheckpoints(1000); len(cps) > 0 {
			req := &pb.LeaseCheckpointRequest{}
			for _, c := range cps {
				req.Checkpoints = append(req.Checkpoints, &pb.LeaseCheckpoint{ID: c.ID, Remaining_TTL: c.RemainingTTL})
			}
			s.goAttach(func() {
				ctx, cancel := context.WithTimeout(context.Background(), s.opts.RequestTimeout)
				defer cancel()
				if _, err := s.propose(ctx, &pb.InternalRaftRequest{LeaseCheckpoint: req}); err != nil {
					s.lg.Debug("lease checkpoint not applied", zap.Error(err))
				}
			})
		}
		for _, id := range s.lessor.Expired(1000) {
			id := id
			s.goAttach(func() {
				ctx, cancel := context.WithTimeout(context.Background(), s.opts.RequestTimeout)
				defer cancel()
				if _, err := s.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id}); err != nil && err != lease.ErrLeaseNotFound {
					s.lg.Warn("failed to revoke expired lease", zap.Int64("lease-id", id), zap.Error(err))
				}
			})
		}
	}
}
