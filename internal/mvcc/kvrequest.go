package mvcc

import (
	"bytes"
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// LeaseHooks is how the request layer keeps the lessor's key attachments in
// step with puts and deletes. Calls happen on the apply goroutine, inside the
// write, in a deterministic order.
type LeaseHooks interface {
	// Exists reports whether lease id exists.
	Exists(id int64) bool
	// Attach records that key now carries lease id.
	Attach(id int64, key []byte)
	// Detach records that key no longer carries lease id.
	Detach(id int64, key []byte)
}

// RangeRequest serves a Range on the read path, at one point in time. The
// header carries the revision only; the server fills the rest.
func (s *Store) RangeRequest(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	sc := s.getScanner()
	defer s.putScanner(sc)
	p, err := s.pinned(func() error { return sc.open(s.db.Reader(), req.Key, req.RangeEnd) }, sc.discard)
	if err != nil {
		return nil, err
	}
	v := readView{sc: sc, cur: p.rev, compact: p.compact, bounded: true}
	return executeRange(&v, req)
}

// executeRange runs a RangeRequest through v the way etcd does: fetch (all
// keys when a sort or a revision filter is asked for, else limit+1 to learn
// "more"), filter, sort, truncate, strip values.
func executeRange(v view, req *pb.RangeRequest) (*pb.RangeResponse, error) {
	order := effectiveSortOrder(req)
	ro := RangeOptions{Rev: req.Revision, Count: req.CountOnly}
	if order == pb.RangeRequest_NONE && !hasRevFilter(req) && req.Limit > 0 {
		ro.Limit = req.Limit + 1
	}
	// Values are needed to sort by them even when the reply strips them.
	ro.KeysOnly = req.KeysOnly && !(order != pb.RangeRequest_NONE && req.SortTarget == pb.RangeRequest_VALUE)
	rr, err := v.rangeKeys(req.Key, req.RangeEnd, ro)
	if err != nil {
		return nil, err
	}
	kvs := rr.KVs
	if req.MaxModRevision != 0 {
		kvs = prune(kvs, func(kv *mvccpb.KeyValue) bool { return kv.ModRevision > req.MaxModRevision })
	}
	if req.MinModRevision != 0 {
		kvs = prune(kvs, func(kv *mvccpb.KeyValue) bool { return kv.ModRevision < req.MinModRevision })
	}
	if req.MaxCreateRevision != 0 {
		kvs = prune(kvs, func(kv *mvccpb.KeyValue) bool { return kv.CreateRevision > req.MaxCreateRevision })
	}
	if req.MinCreateRevision != 0 {
		kvs = prune(kvs, func(kv *mvccpb.KeyValue) bool { return kv.CreateRevision < req.MinCreateRevision })
	}
	sortKVs(kvs, req.SortTarget, order)
	resp := &pb.RangeResponse{Header: &pb.ResponseHeader{Revision: rr.Rev}, Count: int64(rr.Count)}
	if req.Limit > 0 && len(kvs) > int(req.Limit) {
		kvs = kvs[:req.Limit]
		resp.More = true
	}
	if req.KeysOnly {
		for _, kv := range kvs {
			kv.Value = nil
		}
	}
	resp.Kvs = kvs
	return resp, nil
}

func hasRevFilter(req *pb.RangeRequest) bool {
	return req.MinModRevision != 0 || req.MaxModRevision != 0 ||
		req.MinCreateRevision != 0 || req.MaxCreateRevision != 0
}

// effectiveSortOrder applies etcd's defaults: a target other than KEY with no
// order sorts ascending; KEY ascending is the natural order (no sort).
func effectiveSortOrder(req *pb.RangeRequest) pb.RangeRequest_SortOrder {
	order := req.SortOrder
	switch {
	case req.SortTarget != pb.RangeRequest_KEY && order == pb.RangeRequest_NONE:
		order = pb.RangeRequest_ASCEND
	case req.SortTarget == pb.RangeRequest_KEY && order == pb.RangeRequest_ASCEND:
		order = pb.RangeRequest_NONE
	}
	return order
}

// prune drops, in place, the KeyValues for which drop is true.
func prune(kvs []*mvccpb.KeyValue, drop func(*mvccpb.KeyValue) bool) []*mvccpb.KeyValue {
	out := kvs[:0]
	for _, kv := range kvs {
		if !drop(kv) {
			out = append(out, kv)
		}
	}
	clear(kvs[len(out):])
	return out
}

// sortKVs sorts like etcd: sort.Sort (not stable) with the same comparison,
// over input in key order, so ties come out in the order etcd gives.
func sortKVs(kvs []*mvccpb.KeyValue, target pb.RangeRequest_SortTarget, order pb.RangeRequest_SortOrder) {
	if order == pb.RangeRequest_NONE {
		return
	}
	var s sort.Interface
	switch target {
	case pb.RangeRequest_KEY:
		s = byKey{kvs}
	case pb.RangeRequest_VERSION:
		s = byVersion{kvs}
	case pb.RangeRequest_CREATE:
		s = byCreate{kvs}
	case pb.RangeRequest_MOD:
		s = byMod{kvs}
	case pb.RangeRequest_VALUE:
		s = byValue{kvs}
	default:
		return // unknown target: etcd leaves the order alone
	}
	switch order {
	case pb.RangeRequest_ASCEND:
		sort.Sort(s)
	case pb.RangeRequest_DESCEND:
		sort.Sort(sort.Reverse(s))
	}
}

type kvSlice []*mvccpb.KeyValue

func (s kvSlice) Len() int      { return len(s) }
func (s kvSlice) Swap(i, j int) { s[i], s[j] = s[j], s[i] }

type (
	byKey     struct{ kvSlice }
	byVersion struct{ kvSlice }
	byCreate  struct{ kvSlice }
	byMod     struct{ kvSlice }
	byValue   struct{ kvSlice }
)

func (s byKey) Less(i, j int) bool {
	return bytes.Compare(s.kvSlice[i].Key, s.kvSlice[j].Key) < 0
}

func (s byVersion) Less(i, j int) bool {
	return s.kvSlice[i].Version < s.kvSlice[j].Version
}

func (s byCreate) Less(i, j int) bool {
	return s.kvSlice[i].CreateRevision < s.kvSlice[j].CreateRevision
}

func (s byMod) Less(i, j int) bool {
	return s.kvSlice[i].ModRevision < s.kvSlice[j].ModRevision
}

func (s byValue) Less(i, j int) bool {
	return bytes.Compare(s.kvSlice[i].Value, s.kvSlice[j].Value) < 0
}

// ApplyPut applies a PutRequest the way etcd does: the lease must exist;
// ignore_value and ignore_lease need the key to exist and take its value or
// lease; prev_kv returns the version replaced. Lease attachments move
// through leases (nil: no lessor, so no lease exists). The header carries
// the revision of the write.
func (t *WriteTxn) ApplyPut(req *pb.PutRequest, leases LeaseHooks) (*pb.PutResponse, error) {
	if req.Lease != 0 && !leaseExists(leases, req.Lease) {
		return nil, ErrLeaseNotFound
	}
	return t.put1(req, leases)
}

func leaseExists(leases LeaseHooks, id int64) bool {
	return leases != nil && leases.Exists(id)
}

// put1 is a put inside a txn or alone, after the lease check.
func (t *WriteTxn) put1(req *pb.PutRequest, leases LeaseHooks) (*pb.PutResponse, error) {
	if t.err != nil {
		return nil, t.err
	}
	cur, err := t.current(req.Key)
	if err != nil {
		return nil, err
	}
	value, lease := req.Value, req.Lease
	if req.IgnoreValue || req.IgnoreLease {
		if cur.kv == nil {
			return nil, ErrKeyNotFound
		}
		if req.IgnoreValue {
			value = cur.kv.Value
		}
		if req.IgnoreLease {
			lease = cur.kv.Lease
		}
	}
	t.put(req.Key, value, lease, cur)
	if t.err != nil {
		return nil, t.err
	}
	resp := &pb.PutResponse{Header: &pb.ResponseHeader{Revision: t.begin + 1}}
	if req.PrevKv {
		resp.PrevKv = cur.kv
	}
	var oldLease int64
	if cur.kv != nil {
		oldLease = cur.kv.Lease
	}
	if oldLease != lease && leases != nil {
		if oldLease != 0 {
			leases.Detach(oldLease, req.Key)
		}
		if lease != 0 {
			leases.Attach(lease, req.Key)
		}
	}
	return resp, nil
}

// ApplyDeleteRange applies a DeleteRangeRequest the way etcd does. Leases of
// deleted keys are detached through leases (may be nil). The header carries
// the revision after the delete: unchanged when the txn has written nothing.
func (t *WriteTxn) ApplyDeleteRange(req *pb.DeleteRangeRequest, leases LeaseHooks) (*pb.DeleteRangeResponse, error) {
	deleted := t.DeleteRange(req.Key, req.RangeEnd)
	if t.err != nil {
		return nil, t.err
	}
	resp := &pb.DeleteRangeResponse{
		Header:  &pb.ResponseHeader{Revision: t.Rev()},
		Deleted: int64(len(deleted)),
	}
	if req.PrevKv {
		resp.PrevKvs = deleted
	}
	if leases != nil {
		for _, kv := range deleted {
			if kv.Lease != 0 {
				leases.Detach(kv.Lease, kv.Key)
			}
		}
	}
	return resp, nil
}
