package mvcc

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// API-side validation, run before a request is proposed, with etcd's rules
// and in etcd's order. Apply does not repeat it.

// CheckRange validates a RangeRequest.
func CheckRange(r *pb.RangeRequest) error {
	if len(r.GetKey()) == 0 {
		return ErrEmptyKey
	}
	return nil
}

// CheckPut validates a PutRequest.
func CheckPut(r *pb.PutRequest) error {
	if len(r.GetKey()) == 0 {
		return ErrEmptyKey
	}
	if r.IgnoreValue && len(r.Value) != 0 {
		return ErrValueProvided
	}
	if r.IgnoreLease && r.Lease != 0 {
		return ErrLeaseProvided
	}
	return nil
}

// CheckDeleteRange validates a DeleteRangeRequest.
func CheckDeleteRange(r *pb.DeleteRangeRequest) error {
	if len(r.GetKey()) == 0 {
		return ErrEmptyKey
	}
	return nil
}

// CheckTxn validates a TxnRequest: operation counts (each of compare,
// success and failure at most maxTxnOps; a nested txn gets what its parent
// left), keys, and etcd's rule against writing one key twice: no two puts
// of one key and no put inside a delete's range, across nested txns, where
// the two branches of one nested txn may put the same key.
func CheckTxn(r *pb.TxnRequest, maxTxnOps int) error {
	if err := checkTxnOps(r, maxTxnOps); err != nil {
		return err
	}
	// The overlap rule runs after the cheap checks, as in etcd.
	if _, _, err := checkOverlaps(r.Success); err != nil {
		return err
	}
	_, _, err := checkOverlaps(r.Failure)
	return err
}

func checkTxnOps(r *pb.TxnRequest, maxTxnOps int) error {
	opc := max(len(r.Compare), len(r.Success), len(r.Failure))
	if opc > maxTxnOps {
		return ErrTooManyOps
	}
	for _, c := range r.Compare {
		if len(c.GetKey()) == 0 {
			return ErrEmptyKey
		}
	}
	for _, ops := range [2][]*pb.RequestOp{r.Success, r.Failure} {
		for _, op := range ops {
			if err := checkOp(op, maxTxnOps-opc); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkOp(op *pb.RequestOp, maxTxnOps int) error {
	switch r := op.GetRequest().(type) {
	case *pb.RequestOp_RequestRange:
		if r.RequestRange != nil {
			return CheckRange(r.RequestRange)
		}
	case *pb.RequestOp_RequestPut:
		if r.RequestPut != nil {
			return CheckPut(r.RequestPut)
		}
	case *pb.RequestOp_RequestDeleteRange:
		if r.RequestDeleteRange != nil {
			return CheckDeleteRange(r.RequestDeleteRange)
		}
	case *pb.RequestOp_RequestTxn:
		if r.RequestTxn != nil {
			return checkTxnOps(r.RequestTxn, maxTxnOps)
		}
	}
	// An empty operation: etcd answers "key not found".
	return ErrKeyNotFound
}

// span is a delete's key range: [begin, end), or the point begin when
// point is set.
type span struct {
	begin, end string
	point      bool
}

// covers follows etcd's interval arithmetic: a point covers its key; a range
// covers k when begin <= k < end. A range whose end sorts below its begin
// (range_end "\x00", "every key from begin on") covers nothing: etcd does
// not catch a put under such a delete, and neither does Cairn.
func (s span) covers(k string) bool {
	if s.point {
		return k == s.begin
	}
	return s.begin <= k && k < s.end
}

type spans []span

func (ss spans) covers(k string) bool {
	for _, s := range ss {
		if s.covers(k) {
			return true
		}
	}
	return false
}

// checkOverlaps applies etcd's duplicate-key rule to one list of operations
// and returns its puts and deletes (nested txns' included) for the level
// above.
func checkOverlaps(ops []*pb.RequestOp) (map[string]struct{}, spans, error) {
	var dels spans
	for _, op := range ops {
		d := op.GetRequestDeleteRange()
		if d == nil {
			continue
		}
		if len(d.RangeEnd) != 0 {
			dels = append(dels, span{begin: string(d.Key), end: string(d.RangeEnd)})
		} else {
			dels = append(dels, span{begin: string(d.Key), point: true})
		}
	}
	puts := make(map[string]struct{})
	for _, op := range ops {
		t := op.GetRequestTxn()
		if t == nil {
			continue
		}
		putsThen, delsThen, err := checkOverlaps(t.Success)
		if err != nil {
			return nil, dels, err
		}
		putsElse, delsElse, err := checkOverlaps(t.Failure)
		if err != nil {
			return nil, dels, err
		}
		for k := range putsThen {
			if _, dup := puts[k]; dup || dels.covers(k) {
				return nil, dels, ErrDuplicateKey
			}
			puts[k] = struct{}{}
		}
		for k := range putsElse {
			if _, dup := puts[k]; dup {
				// The two branches exclude each other: a key put in both
				// is fine, a key put by an earlier sibling is not.
				if _, sameTxn := putsThen[k]; !sameTxn {
					return nil, dels, ErrDuplicateKey
				}
			}
			if dels.covers(k) {
				return nil, dels, ErrDuplicateKey
			}
			puts[k] = struct{}{}
		}
		dels = append(dels, delsThen...)
		dels = append(dels, delsElse...)
	}
	for _, op := range ops {
		p := op.GetRequestPut()
		if p == nil {
			continue
		}
		k := string(p.Key)
		if _, dup := puts[k]; dup || dels.covers(k) {
			return nil, dels, ErrDuplicateKey
		}
		puts[k] = struct{}{}
	}
	return puts, dels, nil
}
