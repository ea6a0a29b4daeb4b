package mvcc

import (
	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// WriteTxn is one write transaction: every write it makes shares one main
// revision, with sub revisions counting its writes, as in etcd. Only the
// apply goroutine uses it, and only one is open at a time.
type WriteTxn struct {
	s *Store
	b *storage.Batch
	// begin is the revision the txn starts from; its writes go to begin+1.
	begin int64
	// sub counts the txn's writes so far.
	sub    int64
	sc     *scanner
	opened bool // sc.it is open over b
	stale  bool // b holds writes sc.it does not see yet
	events []*mvccpb.Event
	err    error // first storage failure; the txn stops writing
}

// Write opens a write transaction over b, an indexed batch owned by the
// caller. The txn's reads see b's earlier writes. It writes at the revision
// after the last ended txn, published or not.
//
// The caller commits b (and every earlier batch given to Write) before
// Publish. A batch that is dropped instead of committed leaves the store
// ahead of storage: the caller must stop and reopen the store.
func (s *Store) Write(b *storage.Batch) *WriteTxn {
	if s.w.open {
		panic("mvcc: Write while another WriteTxn is open")
	}
	if !b.Indexed() {
		panic("mvcc: Write needs an indexed batch")
	}
	s.w.open = true
	return &WriteTxn{s: s, b: b, begin: s.w.lastRev, sc: &s.w.sc}
}

// Rev is the revision the txn's reads see: the starting revision, or the
// txn's own once it has written.
func (t *WriteTxn) Rev() int64 {
	if t.sub > 0 {
		return t.begin + 1
	}
	return t.begin
}

// Err is the first storage failure the txn met, or nil. Writes after one are
// dropped; the member must stop (IsFatal is true).
func (t *WriteTxn) Err() error { return t.err }

// End finishes the txn and returns its events, in (main, sub) order, with
// PrevKv set to the key's version at the previous main revision (nil when
// there is none). If the txn wrote, its revision is consumed. The events
// and the KeyValues in them are shared: nobody may modify them.
func (t *WriteTxn) End() []*mvccpb.Event {
	if t.opened {
		if err := t.sc.close(); err != nil && t.err == nil {
			t.err = err
		}
		t.opened = false
	}
	if t.sub > 0 {
		t.s.w.lastRev = t.begin + 1
	}
	t.s.w.open = false
	evs := t.events
	t.events = nil
	return evs
}

// position bounds the txn's iterator to [key, end), opening it or
// refreshing its view of the batch as needed.
func (t *WriteTxn) position(key, end []byte) error {
	if !t.opened {
		if err := t.sc.open(t.b, key, end); err != nil {
			return err
		}
		t.opened, t.stale = true, false
		return nil
	}
	t.sc.bound(key, end, t.stale)
	t.stale = false
	return nil
}

func (t *WriteTxn) fail(err error) {
	if t.err == nil {
		t.err = err
		t.s.lg.Error("mvcc write failed; the member must stop")
	}
}

// rangeKeys implements view.
func (t *WriteTxn) rangeKeys(key, end []byte, ro RangeOptions) (*RangeResult, error) {
	if t.err != nil {
		return nil, t.err
	}
	if err := t.position(key, end); err != nil {
		t.fail(err)
		return nil, err
	}
	rr, err := rangeWith(t.sc, key, end, ro, t.Rev(), t.s.w.compactRev)
	if IsFatal(err) {
		t.fail(err)
	}
	return rr, err
}

func (t *WriteTxn) curRev() int64   { return t.Rev() }
func (t *WriteTxn) firstRev() int64 { return t.s.w.compactRev }

// Range reads through the txn: what the store held at its start plus its
// own writes. Reads below the latest scheduled compaction (published or
// not) fail with ErrCompacted, so every member answers alike.
func (t *WriteTxn) Range(key, end []byte, ro RangeOptions) (*RangeResult, error) {
	return t.rangeKeys(key, end, ro)
}

// get returns key's newest version at or below rev, through the txn.
func (t *WriteTxn) get(key []byte, rev int64) (version, error) {
	if err := t.position(key, nil); err != nil {
		return version{}, err
	}
	return t.sc.get(key, rev)
}

// current returns key's newest version (the txn's own writes included).
func (t *WriteTxn) current(key []byte) (version, error) {
	v, err := t.get(key, t.begin+1)
	if err != nil {
		t.fail(err)
	}
	return v, err
}

// prevOf returns the PrevKv for an event of this txn on a key whose newest
// version is cur: the version at the previous main revision.
func (t *WriteTxn) prevOf(key []byte, cur version) (*mvccpb.KeyValue, error) {
	if cur.main <= t.begin {
		return cur.kv, nil
	}
	// The key was written earlier in this txn; look past that write.
	v, err := t.get(key, t.begin)
	if err != nil {
		t.fail(err)
		return nil, err
	}
	return v.kv, nil
}

// Put writes key = value with lease and returns the key's previous live
// version (nil if none; the txn's own earlier writes count). The txn keeps
// key and value: the caller must not modify them afterwards. Lease
// bookkeeping is the caller's (see ApplyPut).
func (t *WriteTxn) Put(key, value []byte, lease int64) (prev *mvccpb.KeyValue) {
	if t.err != nil {
		return nil
	}
	cur, err := t.current(key)
	if err != nil {
		return nil
	}
	t.put(key, value, lease, cur)
	return cur.kv
}

// put writes a new version of key over its current version cur.
func (t *WriteTxn) put(key, value []byte, lease int64, cur version) {
	// etcd gives a create no PrevKv (even when an earlier write of this
	// txn deleted a version: the event's PrevKv is the version at the
	// previous main revision otherwise).
	var prevKv *mvccpb.KeyValue
	if cur.kv != nil {
		var err error
		if prevKv, err = t.prevOf(key, cur); err != nil {
			return
		}
	}
	rev := t.begin + 1
	create, ver := rev, int64(1)
	if cur.kv != nil {
		create, ver = cur.kv.CreateRevision, cur.kv.Version+1
	}
	op := t.b.SetDeferred(versionKeyLen(key), putRecordLen(create, ver, lease, value))
	putVersionKey(op.Key, key, rev, t.sub)
	putRecord(op.Value, create, ver, lease, value)
	if err := op.Finish(); err != nil {
		t.fail(storageErr("batch", err))
		return
	}
	if !t.log(rev, kindPut, key) {
		return
	}
	t.sub++
	t.stale = true
	kv := &mvccpb.KeyValue{
		Key:            key,
		Value:          value,
		CreateRevision: create,
		ModRevision:    rev,
		Version:        ver,
		Lease:          lease,
	}
	t.events = append(t.events, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv, PrevKv: prevKv})
}

// log writes the revision-log entry of the write at (rev, t.sub).
func (t *WriteTxn) log(rev int64, kind byte, key []byte) bool {
	op := t.b.SetDeferred(revLogKeyLen, 1+len(key))
	appendRevLogKey(op.Key[:0], rev, t.sub)
	op.Value[0] = kind
	copy(op.Value[1:], key)
	if err := op.Finish(); err != nil {
		t.fail(storageErr("batch", err))
		return false
	}
	return true
}

// DeleteRange deletes the live keys of [key, end) (end as in Range) and
// returns their versions before the delete, in key order. Deleting nothing
// writes nothing. Lease bookkeeping is the caller's.
func (t *WriteTxn) DeleteRange(key, end []byte) (deleted []*mvccpb.KeyValue) {
	if t.err != nil {
		return nil
	}
	rr, err := t.rangeKeys(key, end, RangeOptions{})
	if err != nil {
		// Only a storage failure can get here: the txn reads at its own
		// revision, which is never compacted or in the future.
		t.fail(err)
		return nil
	}
	rev := t.begin + 1
	for _, kv := range rr.KVs {
		prevKv := kv
		if kv.ModRevision > t.begin {
			if prevKv, err = t.prevOf(kv.Key, version{main: kv.ModRevision}); err != nil {
				return nil
			}
		}
		op := t.b.SetDeferred(versionKeyLen(kv.Key), 1)
		putVersionKey(op.Key, kv.Key, rev, t.sub)
		op.Value[0] = kindTombstone
		if err := op.Finish(); err != nil {
			t.fail(storageErr("batch", err))
			return nil
		}
		if !t.log(rev, kindTombstone, kv.Key) {
			return nil
		}
		t.sub++
		t.stale = true
		t.events = append(t.events, &mvccpb.Event{
			Type:   mvccpb.Event_DELETE,
			Kv:     &mvccpb.KeyValue{Key: kv.Key, ModRevision: rev},
			PrevKv: prevKv,
		})
	}
	return rr.KVs
}
