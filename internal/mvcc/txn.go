package mvcc

import (
	"bytes"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// ApplyTxn applies a TxnRequest the way etcd does:
//
//  1. every compare, nested txns' included, is evaluated against the state
//     before the txn, which fixes the path (the branch taken at each level);
//  2. along that path, ranges must not ask for a compacted or future
//     revision, puts with ignore_value/ignore_lease need an existing key and
//     puts need an existing lease; a failure there returns the error and
//     writes nothing;
//  3. the operations run in order; all writes share one main revision.
//
// The header carries the revision after the txn (unchanged if it wrote
// nothing); nested TxnResponses carry an empty header, as etcd's do. An
// error wrapping ErrCorrupt or ErrStorage (IsFatal) may come after some
// writes: the member must stop.
func (t *WriteTxn) ApplyTxn(req *pb.TxnRequest, leases LeaseHooks) (*pb.TxnResponse, error) {
	return runTxn(t, t, req, leases)
}

// ReadTxn serves a read-only TxnRequest (every operation, nested txns'
// included, a range) on the read path, at one point in time.
func (s *Store) ReadTxn(req *pb.TxnRequest) (*pb.TxnResponse, error) {
	if !IsTxnReadOnly(req) {
		return nil, ErrNotReadOnly
	}
	v, err := s.openReadView()
	if err != nil {
		return nil, err
	}
	defer s.closeReadView(v)
	return runTxn(v, nil, req, nil)
}

// IsTxnReadOnly reports whether every operation of req, nested txns'
// included, is a range.
func IsTxnReadOnly(req *pb.TxnRequest) bool {
	for _, ops := range [2][]*pb.RequestOp{req.Success, req.Failure} {
		for _, op := range ops {
			switch r := op.GetRequest().(type) {
			case *pb.RequestOp_RequestRange:
				if r.RequestRange == nil {
					return false
				}
			case *pb.RequestOp_RequestTxn:
				if r.RequestTxn == nil || !IsTxnReadOnly(r.RequestTxn) {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// runTxn evaluates, checks and executes req through v; w is v as a WriteTxn,
// nil on the read path.
func runTxn(v view, w *WriteTxn, req *pb.TxnRequest, leases LeaseHooks) (*pb.TxnResponse, error) {
	x := txnExec{v: v, w: w, leases: leases}
	path, err := x.comparePath(req, nil)
	if err != nil {
		return nil, err
	}
	if _, err := x.check(req, path); err != nil {
		return nil, err
	}
	resp, _ := newTxnResp(req, path)
	if _, err := x.execute(req, path, resp); err != nil {
		return nil, err
	}
	resp.Header.Revision = v.curRev()
	return resp, nil
}

type txnExec struct {
	v      view
	w      *WriteTxn
	leases LeaseHooks
}

// branch returns the operations of the branch the path takes.
func branch(req *pb.TxnRequest, succeeded bool) []*pb.RequestOp {
	if succeeded {
		return req.Success
	}
	return req.Failure
}

// comparePath appends to path the outcome of req's compares, then (depth
// first, in order) the paths of the nested txns on the branch taken.
func (x *txnExec) comparePath(req *pb.TxnRequest, path []bool) ([]bool, error) {
	ok := true
	for _, c := range req.Compare {
		r, err := x.compare(c)
		if err != nil {
			return nil, err
		}
		if !r {
			ok = false
			break
		}
	}
	path = append(path, ok)
	for _, op := range branch(req, ok) {
		if nested := op.GetRequestTxn(); nested != nil {
			var err error
			if path, err = x.comparePath(nested, path); err != nil {
				return nil, err
			}
		}
	}
	return path, nil
}

// compare evaluates one compare over every key in its range. A compare on
// no key compares a zero KeyValue, except that VALUE compares then fail.
func (x *txnExec) compare(c *pb.Compare) (bool, error) {
	rr, err := x.v.rangeKeys(c.Key, c.RangeEnd, RangeOptions{})
	if err != nil {
		if IsFatal(err) {
			return false, err
		}
		return false, nil
	}
	if len(rr.KVs) == 0 {
		if c.Target == pb.Compare_VALUE {
			return false, nil
		}
		return compareKV(c, &mvccpb.KeyValue{}), nil
	}
	for _, kv := range rr.KVs {
		if !compareKV(c, kv) {
			return false, nil
		}
	}
	return true, nil
}

func compareKV(c *pb.Compare, kv *mvccpb.KeyValue) bool {
	var r int
	switch c.Target {
	case pb.Compare_VALUE:
		v := []byte{}
		if tv, _ := c.TargetUnion.(*pb.Compare_Value); tv != nil {
			v = tv.Value
		}
		r = bytes.Compare(kv.Value, v)
	case pb.Compare_CREATE:
		var want int64
		if tv, _ := c.TargetUnion.(*pb.Compare_CreateRevision); tv != nil {
			want = tv.CreateRevision
		}
		r = cmpInt64(kv.CreateRevision, want)
	case pb.Compare_MOD:
		var want int64
		if tv, _ := c.TargetUnion.(*pb.Compare_ModRevision); tv != nil {
			want = tv.ModRevision
		}
		r = cmpInt64(kv.ModRevision, want)
	case pb.Compare_VERSION:
		var want int64
		if tv, _ := c.TargetUnion.(*pb.Compare_Version); tv != nil {
			want = tv.Version
		}
		r = cmpInt64(kv.Version, want)
	case pb.Compare_LEASE:
		var want int64
		if tv, _ := c.TargetUnion.(*pb.Compare_Lease); tv != nil {
			want = tv.Lease
		}
		r = cmpInt64(kv.Lease, want)
	}
	switch c.Result {
	case pb.Compare_EQUAL:
		return r == 0
	case pb.Compare_NOT_EQUAL:
		return r != 0
	case pb.Compare_GREATER:
		return r > 0
	case pb.Compare_LESS:
		return r < 0
	}
	return true
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// check validates the operations along path against the state before the
// txn. It returns how many nested txns of req the path covers.
func (x *txnExec) check(req *pb.TxnRequest, path []bool) (int, error) {
	txns := 0
	for _, op := range branch(req, path[0]) {
		var err error
		switch r := op.GetRequest().(type) {
		case *pb.RequestOp_RequestRange:
			if rr := r.RequestRange; rr != nil && rr.Revision != 0 {
				switch {
				case rr.Revision > x.v.curRev():
					err = ErrFutureRev
				case rr.Revision < x.v.firstRev():
					err = ErrCompacted
				}
			}
		case *pb.RequestOp_RequestPut:
			err = x.checkPut(r.RequestPut)
		case *pb.RequestOp_RequestTxn:
			if r.RequestTxn != nil {
				var n int
				n, err = x.check(r.RequestTxn, path[1:])
				txns += n + 1
				path = path[n+1:]
			}
		}
		if err != nil {
			return 0, err
		}
	}
	return txns, nil
}

func (x *txnExec) checkPut(p *pb.PutRequest) error {
	if p == nil {
		return nil
	}
	if p.IgnoreValue || p.IgnoreLease {
		rr, err := x.v.rangeKeys(p.Key, nil, RangeOptions{})
		if err != nil {
			return err
		}
		if len(rr.KVs) == 0 {
			return ErrKeyNotFound
		}
	}
	if p.Lease != 0 && !leaseExists(x.leases, p.Lease) {
		return ErrLeaseNotFound
	}
	return nil
}

// newTxnResp builds the response skeleton for the path: one ResponseOp per
// operation of the branch taken, nested txns recursively.
func newTxnResp(req *pb.TxnRequest, path []bool) (*pb.TxnResponse, int) {
	ops := branch(req, path[0])
	resps := make([]*pb.ResponseOp, len(ops))
	resp := &pb.TxnResponse{Header: &pb.ResponseHeader{}, Succeeded: path[0], Responses: resps}
	txns := 0
	for i, op := range ops {
		switch r := op.GetRequest().(type) {
		case *pb.RequestOp_RequestRange:
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{}}
		case *pb.RequestOp_RequestPut:
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponsePut{}}
		case *pb.RequestOp_RequestDeleteRange:
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseDeleteRange{}}
		case *pb.RequestOp_RequestTxn:
			if r.RequestTxn == nil {
				resps[i] = &pb.ResponseOp{}
				continue
			}
			nested, n := newTxnResp(r.RequestTxn, path[1:])
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: nested}}
			path = path[n+1:]
			txns += n + 1
		default:
			resps[i] = &pb.ResponseOp{}
		}
	}
	return resp, txns
}

// execute runs the operations along path, filling resp. It returns how many
// nested txns of req the path covers.
func (x *txnExec) execute(req *pb.TxnRequest, path []bool, resp *pb.TxnResponse) (int, error) {
	txns := 0
	for i, op := range branch(req, path[0]) {
		out := resp.Responses[i]
		switch r := op.GetRequest().(type) {
		case *pb.RequestOp_RequestRange:
			if r.RequestRange == nil {
				continue
			}
			rr, err := executeRange(x.v, r.RequestRange)
			if err != nil {
				return 0, err
			}
			out.Response.(*pb.ResponseOp_ResponseRange).ResponseRange = rr
		case *pb.RequestOp_RequestPut:
			if r.RequestPut == nil {
				continue
			}
			if x.w == nil {
				return 0, ErrNotReadOnly
			}
			pr, err := x.w.put1(r.RequestPut, x.leases)
			if err != nil {
				return 0, err
			}
			out.Response.(*pb.ResponseOp_ResponsePut).ResponsePut = pr
		case *pb.RequestOp_RequestDeleteRange:
			if r.RequestDeleteRange == nil {
				continue
			}
			if x.w == nil {
				return 0, ErrNotReadOnly
			}
			dr, err := x.w.ApplyDeleteRange(r.RequestDeleteRange, x.leases)
			if err != nil {
				return 0, err
			}
			out.Response.(*pb.ResponseOp_ResponseDeleteRange).ResponseDeleteRange = dr
		case *pb.RequestOp_RequestTxn:
			if r.RequestTxn == nil {
				continue
			}
			nested := out.Response.(*pb.ResponseOp_ResponseTxn).ResponseTxn
			n, err := x.execute(r.RequestTxn, path[1:], nested)
			if err != nil {
				return 0, err
			}
			txns += n + 1
			path = path[n+1:]
		}
	}
	return txns, nil
}
