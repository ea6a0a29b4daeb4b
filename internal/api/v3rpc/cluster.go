package v3rpc

import (
	"context"

	"github.com/cairn-db/cairn/internal/server"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// clusterServer serves membership. Runtime reconfiguration (add, remove,
// update, promote) arrives with clustering; until then those calls answer
// Unimplemented through the embedded type.
type clusterServer struct {
	pb.UnimplementedClusterServer
	s *server.Server
}

func newClusterServer(s *server.Server) pb.ClusterServer { return &clusterServer{s: s} }

func (c *clusterServer) MemberList(ctx context.Context, r *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	resp, err := c.s.MemberList(ctx, r)
	return resp, toGRPC(err)
}
