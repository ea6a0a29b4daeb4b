package v3rpc

import (
	"context"

	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/server"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// clusterServer serves membership: the list, and runtime reconfiguration.
type clusterServer struct {
	pb.UnimplementedClusterServer
	s *server.Server
}

func newClusterServer(s *server.Server) pb.ClusterServer { return &clusterServer{s: s} }

func (c *clusterServer) MemberList(ctx context.Context, r *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	resp, err := c.s.MemberList(ctx, r)
	return resp, toGRPC(err)
}

func (c *clusterServer) MemberAdd(ctx context.Context, r *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	m, members, err := c.s.AddMember(ctx, r.PeerURLs, r.IsLearner)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberAddResponse{
		Header:  c.header(),
		Member:  server.ToPB([]*membership.Member{m})[0],
		Members: server.ToPB(members),
	}, nil
}

func (c *clusterServer) MemberRemove(ctx context.Context, r *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	members, err := c.s.RemoveMember(ctx, r.ID)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberRemoveResponse{Header: c.header(), Members: server.ToPB(members)}, nil
}

func (c *clusterServer) MemberUpdate(ctx context.Context, r *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	members, err := c.s.UpdateMember(ctx, r.ID, r.PeerURLs)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberUpdateResponse{Header: c.header(), Members: server.ToPB(members)}, nil
}

func (c *clusterServer) MemberPromote(ctx context.Context, r *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	members, err := c.s.PromoteMember(ctx, r.ID)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberPromoteResponse{Header: c.header(), Members: server.ToPB(members)}, nil
}

// header is the cluster service's header: like etcd's, it carries no
// revision.
func (c *clusterServer) header() *pb.ResponseHeader {
	h := c.s.Header()
	h.Revision = 0
	return h
}
