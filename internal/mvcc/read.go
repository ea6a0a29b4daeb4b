package mvcc

import "go.etcd.io/etcd/api/v3/mvccpb"

// RangeOptions shape a Range.
type RangeOptions struct {
	// Limit caps the KeyValues returned; 0 or less means no cap. Count is
	// not affected.
	Limit int64
	// Rev is the revision to read at; 0 or less means the current one.
	Rev int64
	// Count returns only the count, no KeyValues.
	Count bool
	// KeysOnly leaves Value unset in the KeyValues returned.
	KeysOnly bool
}

// RangeResult is what a Range finds.
type RangeResult struct {
	// KVs are the live keys in the range at the revision read, in key
	// order, at most Limit of them. The caller owns them.
	KVs []*mvccpb.KeyValue
	// Count is the number of live keys in the range, regardless of Limit.
	Count int
	// Rev is the current revision of the view read from (not the revision
	// read at), as etcd reports it.
	Rev int64
}

// Range reads the live keys of [key, end) at ro.Rev. end nil or empty means
// key alone; end "\x00" means every key >= key. Any goroutine; each call
// reads one point in time.
func (s *Store) Range(key, end []byte, ro RangeOptions) (*RangeResult, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	sc := s.getScanner()
	defer s.putScanner(sc)
	p, err := s.pinned(func() error { return sc.open(s.db.Reader(), key, end) }, sc.discard)
	if err != nil {
		return nil, err
	}
	return rangeWith(sc, key, end, ro, p.rev, p.compact)
}

func rangeWith(sc *scanner, key, end []byte, ro RangeOptions, cur, compact int64) (*RangeResult, error) {
	rev, err := checkRev(ro.Rev, cur, compact)
	if err != nil {
		return nil, err
	}
	kvs, count, err := sc.scan(key, rangeSpec{
		rev:       rev,
		single:    len(end) == 0,
		limit:     int(max(ro.Limit, 0)),
		countOnly: ro.Count,
		noValue:   ro.KeysOnly,
	})
	if err != nil {
		return nil, err
	}
	return &RangeResult{KVs: kvs, Count: count, Rev: cur}, nil
}

// view is what the request layer reads through: a read view on the read
// path, a WriteTxn on the apply path.
type view interface {
	// rangeKeys reads like Store.Range, through the view.
	rangeKeys(key, end []byte, ro RangeOptions) (*RangeResult, error)
	// curRev is the revision the view reports in headers.
	curRev() int64
	// firstRev is the compaction revision the view checks against.
	firstRev() int64
}

// readView is a point-in-time view for a read-only txn: one iterator over
// the whole version keyspace, re-bounded for each range.
type readView struct {
	sc      *scanner
	cur     int64
	compact int64
	bounded bool // the iterator is already bounded for the next range
}

func (s *Store) openReadView() (*readView, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	sc := s.getScanner()
	p, err := s.pinned(func() error { return sc.open(s.db.Reader(), []byte{}, []byte{0}) }, sc.discard)
	if err != nil {
		s.putScanner(sc)
		s.exit()
		return nil, err
	}
	return &readView{sc: sc, cur: p.rev, compact: p.compact}, nil
}

// closeReadView ends a read view from openReadView.
func (s *Store) closeReadView(v *readView) {
	s.putScanner(v.sc)
	s.exit()
}

func (v *readView) rangeKeys(key, end []byte, ro RangeOptions) (*RangeResult, error) {
	if !v.bounded {
		v.sc.bound(key, end, false)
	}
	v.bounded = false
	return rangeWith(v.sc, key, end, ro, v.cur, v.compact)
}

func (v *readView) curRev() int64   { return v.cur }
func (v *readView) firstRev() int64 { return v.compact }
