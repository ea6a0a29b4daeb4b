package server

import (
	"errors"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/mvcc"
	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// fatalError marks an apply failure that is not a property of the request
// (storage I/O): the member stops instead of diverging from its peers.
type fatalError struct{ err error }

func (f *fatalError) Error() string { return f.err.Error() }
func (f *fatalError) Unwrap() error { return f.err }

func isDeterministic(err error) bool {
	var f *fatalError
	return !errors.As(err, &f)
}

// leaseHooks lets mvcc attach and detach keys inside the apply batch.
type leaseHooks struct {
	l   *lease.Lessor
	b   *storage.Batch
	err error // first attach/detach failure
}

func (h *leaseHooks) Exists(id int64) bool { return h.l.Exists(id) }
func (h *leaseHooks) Attach(id int64, key []byte) {
	if err := h.l.Attach(h.b, id, key); err != nil && h.err == nil {
		h.err = err
	}
}
func (h *leaseHooks) Detach(id int64, key []byte) {
	if err := h.l.Detach(h.b, id, key); err != nil && h.err == nil {
		h.err = err
	}
}

func (s *Server) hooks(round *applyRound) *leaseHooks {
	return &leaseHooks{l: s.lessor, b: round.b}
}

// applyWrite runs one write request in its own mvcc txn, with lease hooks
// on the apply batch. A storage or corruption failure (from mvcc or from
// the lessor) is fatal; anything else is the request's deterministic
// answer.
func (s *Server) applyWrite(round *applyRound, fn func(*mvcc.WriteTxn, *leaseHooks) (any, error)) result {
	t := s.kv.Write(round.b)
	h := s.hooks(round)
	resp, err := fn(t, h)
	round.addEvents(t.End())
	switch {
	case h.err != nil:
		return result{err: &fatalError{h.err}}
	case err != nil && mvcc.IsFatal(err):
		return result{err: &fatalError{err}}
	case err != nil:
		return result{err: err}
	}
	return result{resp: resp}
}

func (s *Server) applyPut(round *applyRound, req *pb.PutRequest) result {
	return s.applyWrite(round, func(t *mvcc.WriteTxn, h *leaseHooks) (any, error) { return t.ApplyPut(req, h) })
}

func (s *Server) applyDeleteRange(round *applyRound, req *pb.DeleteRangeRequest) result {
	return s.applyWrite(round, func(t *mvcc.WriteTxn, h *leaseHooks) (any, error) { return t.ApplyDeleteRange(req, h) })
}

func (s *Server) applyTxn(round *applyRound, req *pb.TxnRequest) result {
	return s.applyWrite(round, func(t *mvcc.WriteTxn, h *leaseHooks) (any, error) { return t.ApplyTxn(req, h) })
}

// applyRange serves a range that went through raft (etcd 3.4 clients may
// send one as a txn; a plain Range request in the log is also honoured).
func (s *Server) applyRange(round *applyRound, req *pb.RangeRequest) result {
	t := s.kv.Write(round.b)
	resp, err := t.ApplyTxn(&pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: req}}}}, s.hooks(round))
	t.End()
	if err != nil {
		return result{err: err}
	}
	return result{resp: resp.Responses[0].GetResponseRange()}
}

func (s *Server) applyCompaction(round *applyRound, req *pb.CompactionRequest) result {
	done, err := s.kv.Compact(round.b, req.Revision)
	if err != nil {
		return result{err: err}
	}
	resp := &pb.CompactionResponse{Header: &pb.ResponseHeader{Revision: s.pendingRev(round)}}
	return result{resp: resp, done: done}
}
