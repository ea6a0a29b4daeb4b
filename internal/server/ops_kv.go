package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Range reads keys; linearizable unless req.Serializable.
func (s *Server) Range(ctx context.Context, req *pb.RangeRequest) (*pb.RangeResponse, error) {
	if !req.Serializable {
		if err := s.reads.wait(ctx); err != nil {
			return nil, err
		}
	}
	resp, err := s.kv.RangeRequest(req)
	if err != nil {
		return nil, err
	}
	s.fillHeader(resp.Header)
	return resp, nil
}

// Put writes one key through raft.
func (s *Server) Put(ctx context.Context, req *pb.PutRequest) (*pb.PutResponse, error) {
	r, err := s.propose(ctx, &pb.InternalRaftRequest{Put: req})
	if err != nil {
		return nil, err
	}
	resp := r.resp.(*pb.PutResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// DeleteRange deletes keys through raft.
func (s *Server) DeleteRange(ctx context.Context, req *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	r, err := s.propose(ctx, &pb.InternalRaftRequest{DeleteRange: req})
	if err != nil {
		return nil, err
	}
	resp := r.resp.(*pb.DeleteRangeResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// Txn runs a transaction. A read-only txn with only serializable ranges is
// served locally, like etcd; any other txn goes through raft.
func (s *Server) Txn(ctx context.Context, req *pb.TxnRequest) (*pb.TxnResponse, error) {
	if isReadOnlyTxn(req) {
		if !isSerializableTxn(req) {
			if err := s.reads.wait(ctx); err != nil {
				return nil, err
			}
		}
		resp, err := s.kv.ReadTxn(req)
		if err != nil {
			return nil, err
		}
		s.fillTxnHeaders(resp)
		return resp, nil
	}
	r, err := s.propose(ctx, &pb.InternalRaftRequest{Txn: req})
	if err != nil {
		return nil, err
	}
	resp := r.resp.(*pb.TxnResponse)
	s.fillTxnHeaders(resp)
	return resp, nil
}

func isReadOnlyTxn(req *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{req.Success, req.Failure} {
		for _, op := range ops {
			switch r := op.Request.(type) {
			case *pb.RequestOp_RequestRange:
			case *pb.RequestOp_RequestTxn:
				if !isReadOnlyTxn(r.RequestTxn) {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// isSerializableTxn: every range in the txn asks for a serializable read.
func isSerializableTxn(req *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{req.Success, req.Failure} {
		for _, op := range ops {
			switch r := op.Request.(type) {
			case *pb.RequestOp_RequestRange:
				if !r.RequestRange.Serializable {
					return false
				}
			case *pb.RequestOp_RequestTxn:
				if !isSerializableTxn(r.RequestTxn) {
					return false
				}
			}
		}
	}
	return true
}

// Compact compacts the key space up to req.Revision. With Physical the call
// returns once old versions are gone.
func (s *Server) Compact(ctx context.Context, req *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	r, err := s.propose(ctx, &pb.InternalRaftRequest{Compaction: req})
	if err != nil {
		return nil, err
	}
	if req.Physical && r.done != nil {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.stopc:
			return nil, ErrStopped
		}
	}
	resp := r.resp.(*pb.CompactionResponse)
	s.fillHeader(resp.Header)
	return resp, nil
}

// Header returns a response header for the current state.
func (s *Server) Header() *pb.ResponseHeader {
	h := &pb.ResponseHeader{Revision: s.kv.Rev()}
	s.fillHeader(h)
	return h
}

func (s *Server) fillHeader(h *pb.ResponseHeader) {
	if h == nil {
		return
	}
	h.ClusterId = s.cluster.ID()
	h.MemberId = s.id
	h.RaftTerm = s.Term()
}

// fillTxnHeaders fills the txn's own header. The nested responses keep
// the revision-only headers apply gave them, as etcd's do.
func (s *Server) fillTxnHeaders(resp *pb.TxnResponse) {
	s.fillHeader(resp.Header)
}
