package v3rpc

import (
	"context"
	"errors"
	"io"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/server"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

type leaseServer struct {
	pb.UnimplementedLeaseServer
	s *server.Server
}

func newLeaseServer(s *server.Server) pb.LeaseServer { return &leaseServer{s: s} }

func (l *leaseServer) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	resp, err := l.s.LeaseGrant(ctx, r)
	return resp, toGRPC(err)
}

func (l *leaseServer) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	resp, err := l.s.LeaseRevoke(ctx, r)
	return resp, toGRPC(err)
}

func (l *leaseServer) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	resp, err := l.s.LeaseTimeToLive(ctx, r)
	return resp, toGRPC(err)
}

func (l *leaseServer) LeaseLeases(ctx context.Context, r *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	resp, err := l.s.LeaseLeases(ctx)
	return resp, toGRPC(err)
}

// LeaseKeepAlive answers each keep-alive with the lease's new TTL; a lease
// that does not exist gets TTL 0, as etcd answers.
func (l *leaseServer) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		ttl, err := l.s.LeaseRenew(stream.Context(), req.ID)
		if errors.Is(err, lease.ErrLeaseNotFound) {
			err, ttl = nil, 0
		}
		if errors.Is(err, server.ErrNotLeader) {
			return rpctypes.ErrGRPCNoLeader
		}
		if err != nil {
			return toGRPC(err)
		}
		resp := &pb.LeaseKeepAliveResponse{Header: l.s.Header(), ID: req.ID, TTL: ttl}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
