package server

import (
	"net/http"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Peer paths for lease calls that only the leader's lessor can answer. A
// follower forwards them so clients may keep leases alive through any
// member, as with etcd.
const (
	leaseRenewPath = "/cairn/lease/renew"
	leaseTTLPath   = "/cairn/lease/ttl"
)

// leaseHandler serves forwarded lease calls on the peer port.
func (s *Server) leaseHandler(w http.ResponseWriter, r *http.Request) {
	body, ok := s.acceptForwarded(w, r)
	if !ok {
		return
	}
	var resp proto.Message
	switch r.URL.Path {
	case leaseRenewPath:
		req := &pb.LeaseKeepAliveRequest{}
		if err := proto.Unmarshal(body, req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		ttl, err := s.renewLocal(r.Context(), req.ID)
		if err != nil {
			writeForwardError(w, err)
			return
		}
		resp = &pb.LeaseKeepAliveResponse{ID: req.ID, TTL: ttl}
	case leaseTTLPath:
		req := &pb.LeaseTimeToLiveRequest{}
		if err := proto.Unmarshal(body, req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		out, err := s.timeToLiveLocal(r.Context(), req)
		if err != nil {
			writeForwardError(w, err)
			return
		}
		resp = out
	default:
		http.NotFound(w, r)
		return
	}
	writeForwarded(w, resp)
}
