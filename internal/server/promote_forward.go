package server

import (
	"context"
	"net/http"

	"github.com/cairn-db/cairn/internal/membership"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// promotePath is the leader's peer path for forwarded promotions.
const promotePath = "/cairn/member/promote"

// forwardPromote asks the leader to promote learner id.
func (s *Server) forwardPromote(ctx context.Context, id uint64) ([]*membership.Member, error) {
	resp := &pb.MemberPromoteResponse{}
	if err := s.forwardRetry(ctx, promotePath, &pb.MemberPromoteRequest{ID: id}, resp); err != nil {
		return nil, err
	}
	out := make([]*membership.Member, 0, len(resp.Members))
	for _, m := range resp.Members {
		out = append(out, &membership.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner})
	}
	return out, nil
}

// promoteHandler serves forwarded promotions on the leader.
func (s *Server) promoteHandler(w http.ResponseWriter, r *http.Request) {
	body, ok := s.acceptForwarded(w, r)
	if !ok {
		return
	}
	req := &pb.MemberPromoteRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	members, err := s.promoteLocal(r.Context(), req.ID)
	if err != nil {
		writeForwardError(w, err)
		return
	}
	writeForwarded(w, &pb.MemberPromoteResponse{Members: ToPB(members)})
}

// ToPB converts member records to etcd's wire type.
func ToPB(ms []*membership.Member) []*pb.Member {
	out := make([]*pb.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, &pb.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner})
	}
	return out
}
