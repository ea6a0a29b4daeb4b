package server

import (
	"context"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// MemberList lists the members as etcd's Cluster service reports them.
func (s *Server) MemberList(ctx context.Context, req *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	if req.Linearizable {
		if err := s.reads.wait(ctx); err != nil {
			return nil, err
		}
	}
	out := ToPB(s.cluster.Members())
	// etcd's cluster service leaves the revision out of its header.
	h := &pb.ResponseHeader{}
	s.fillHeader(h)
	return &pb.MemberListResponse{Header: h, Members: out}, nil
}

// Status is the member's view for Maintenance.Status.
func (s *Server) Status(ctx context.Context) (*pb.StatusResponse, error) {
	size := s.db.SizeBytes()
	var errs []string
	for _, a := range s.Alarms() {
		errs = append(errs, fmt.Sprintf("memberID:%d alarm:%s ", a.MemberID, a.Alarm))
	}
	return &pb.StatusResponse{
		Errors:           errs,
		Header:           s.Header(),
		Version:          Version,
		DbSize:           size,
		DbSizeInUse:      s.db.StateBytes(),
		Leader:           s.Leader(),
		RaftIndex:        s.node.LastIndex(),
		RaftTerm:         s.Term(),
		RaftAppliedIndex: s.AppliedIndex(),
		DbSizeQuota:      s.opts.QuotaBackendBytes,
		StorageVersion:   ClusterVersion,
		IsLearner:        s.IsLearner(),
	}, nil
}

// Version is the server version Cairn reports to etcd clients. etcd
// clients gate features on it, so it names the etcd API level implemented.
const Version = "3.6.0"

// Linearize waits until a read started now would be linearizable; API
// layers that read other state (health checks) use it.
func (s *Server) Linearize(ctx context.Context) error { return s.reads.wait(ctx) }
