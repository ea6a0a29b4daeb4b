package mvcc

import (
	"bytes"
	"fmt"

	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// scanner reads versions through one pebble iterator, so every read it does
// sees one point in time (for an iterator over an indexed batch: the DB at
// creation plus the batch as of the last refresh). It owns the buffers that
// back the iterator's bounds: pebble requires them to stay untouched until
// the next SetBounds, so two sets alternate.
type scanner struct {
	it    *storage.Iterator
	opts  storage.IterOptions
	bufs  [2][]byte
	cur   int
	seek  []byte
	key   []byte // copy of the current version key's prefix
	alloc kvAlloc
}

// boundsInto builds [lower, upper) over the versions of the user-key range
// [key, end) into dst. end follows etcd: nil or empty is the single key,
// "\x00" is every key from key on.
func boundsInto(dst, key, end []byte) (buf, lower, upper []byte) {
	buf = appendKeyPrefix(dst[:0], key)
	lower = buf[:len(buf):len(buf)]
	switch {
	case len(end) == 0:
		buf = append(buf, lower...)
		upper = keyPrefixEnd(buf[len(lower):])
	case isFromKey(end):
		upper = mvccUpper
	default:
		buf = appendRangeUpper(buf, end)
		upper = buf[len(lower):]
		if bytes.Compare(upper, lower) < 0 {
			upper = lower // end below key: an empty range (pebble wants lower <= upper)
		}
	}
	return buf, lower, upper
}

func isFromKey(end []byte) bool { return len(end) == 1 && end[0] == 0 }

// open creates the iterator over r with bounds for [key, end).
func (sc *scanner) open(r storage.Reader, key, end []byte) error {
	var lower, upper []byte
	sc.bufs[sc.cur], lower, upper = boundsInto(sc.bufs[sc.cur], key, end)
	sc.opts = storage.IterOptions{LowerBound: lower, UpperBound: upper}
	it, err := r.NewIter(&sc.opts)
	if err != nil {
		return storageErr("new iterator", err)
	}
	sc.it = it
	return nil
}

// bound points the open iterator at [key, end). With refresh, an iterator
// over an indexed batch also starts to see the batch's newer writes.
func (sc *scanner) bound(key, end []byte, refresh bool) {
	sc.cur ^= 1
	var lower, upper []byte
	sc.bufs[sc.cur], lower, upper = boundsInto(sc.bufs[sc.cur], key, end)
	if refresh {
		sc.opts.LowerBound, sc.opts.UpperBound = lower, upper
		sc.it.SetOptions(&sc.opts)
		return
	}
	sc.it.SetBounds(lower, upper)
}

// discard closes the iterator, ignoring errors (the view is dropped unread).
func (sc *scanner) discard() { _ = sc.close() }

func (sc *scanner) close() error {
	if sc.it == nil {
		return nil
	}
	err := sc.it.Close()
	sc.it = nil
	sc.opts = storage.IterOptions{}
	if err != nil {
		return storageErr("close iterator", err)
	}
	return nil
}

// rangeSpec says what a scan materialises.
type rangeSpec struct {
	rev       int64 // read at this main revision
	single    bool  // the bounds hold one key: stop after it
	limit     int   // KeyValues to build at most; 0 means all
	countOnly bool  // build none, only count
	noValue   bool  // build KeyValues without values
}

// scan visits the newest version at or below spec.rev of every key within
// the iterator's bounds (set by open or bound for [key, end)), skipping
// tombstones. It returns the KeyValues built (at most spec.limit) and the
// number of live keys (all of them, as etcd counts).
func (sc *scanner) scan(key []byte, spec rangeSpec) (kvs []*mvccpb.KeyValue, count int, err error) {
	if spec.single {
		spec.limit = 0 // one key at most
	}
	it := sc.it
	sc.seek = appendSeekAt(sc.seek[:0], key, spec.rev)
	if spec.limit > 0 {
		sc.alloc.hint(spec.limit)
	}
	// One key's versions share a storage prefix: a prefix seek lets pebble
	// skip every table whose bloom filter rules the key out.
	seek := it.SeekGE
	if spec.single {
		seek = it.SeekPrefixGE
	}
	valid := seek(sc.seek)
	for valid {
		k := it.Key()
		prefix, main, _, err := splitVersionKey(k)
		if err != nil {
			return nil, 0, err
		}
		if main > spec.rev {
			// Newer than wanted: jump to this key's newest version <= rev.
			// The seek lands past every version > rev, so the loop advances.
			sc.seek = appendRev(append(sc.seek[:0], prefix...), spec.rev, maxSub)
			valid = seek(sc.seek)
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, 0, storageErr("read value", err)
		}
		tomb, err := isTombstone(v)
		if err != nil {
			return nil, 0, fmt.Errorf("key %q: %w", k, err)
		}
		if !tomb {
			count++
			if !spec.countOnly && (spec.limit <= 0 || len(kvs) < spec.limit) {
				kv, err := sc.build(prefix, main, v, !spec.noValue)
				if err != nil {
					return nil, 0, err
				}
				kvs = append(kvs, kv)
			}
		}
		if spec.single {
			break
		}
		sc.key = append(sc.key[:0], prefix...)
		valid = sc.nextKey()
	}
	if err := it.Error(); err != nil {
		return nil, 0, storageErr("iterate", err)
	}
	return kvs, count, nil
}

// nextKey moves from any version of the key whose prefix is in sc.key to the
// first version of the next key. Most keys have few versions, so it steps a
// couple of times before it pays for a seek.
func (sc *scanner) nextKey() bool {
	it := sc.it
	for range 2 {
		if !it.Next() {
			return false
		}
		k := it.Key()
		if len(k) != len(sc.key)+revLen || !bytes.HasPrefix(k, sc.key) {
			return true
		}
	}
	sc.seek = append(sc.seek[:0], sc.key...)
	return it.SeekGE(keyPrefixEnd(sc.seek))
}

// build decodes one live version into a KeyValue that owns its bytes.
func (sc *scanner) build(prefix []byte, main int64, v []byte, withValue bool) (*mvccpb.KeyValue, error) {
	r, err := decodeRecord(v)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", prefix, err)
	}
	kv := sc.alloc.newKV()
	n := userKeyLen(prefix)
	m := 0
	if withValue {
		m = len(r.value)
	}
	buf := sc.alloc.bytes(n + m)
	if _, err := appendUserKey(buf[:0], prefix); err != nil {
		return nil, err
	}
	kv.Key = buf[:n:n]
	if m > 0 {
		kv.Value = buf[n:]
		copy(kv.Value, r.value)
	}
	kv.CreateRevision = r.create
	kv.ModRevision = main
	kv.Version = r.version
	kv.Lease = r.lease
	return kv, nil
}

// version is what a point lookup finds: the newest version of a key at or
// below some revision.
type version struct {
	main int64
	kv   *mvccpb.KeyValue // nil for a tombstone or when nothing was found
}

// get finds the newest version of key at or below rev. The iterator must
// have been bounded to key alone. The KeyValue's Key is key itself (not a
// copy); its value is a copy.
func (sc *scanner) get(key []byte, rev int64) (version, error) {
	sc.seek = appendSeekAt(sc.seek[:0], key, rev)
	if !sc.it.SeekPrefixGE(sc.seek) {
		if err := sc.it.Error(); err != nil {
			return version{}, storageErr("seek", err)
		}
		return version{}, nil
	}
	_, main, _, err := splitVersionKey(sc.it.Key())
	if err != nil {
		return version{}, err
	}
	v, err := sc.it.ValueAndErr()
	if err != nil {
		return version{}, storageErr("read value", err)
	}
	r, err := decodeRecord(v)
	if err != nil {
		return version{}, fmt.Errorf("key %q: %w", key, err)
	}
	if r.tombstone {
		return version{main: main}, nil
	}
	kv := sc.alloc.newKV()
	kv.Key = key
	if len(r.value) > 0 {
		kv.Value = sc.alloc.bytes(len(r.value))
		copy(kv.Value, r.value)
	}
	kv.CreateRevision = r.create
	kv.ModRevision = main
	kv.Version = r.version
	kv.Lease = r.lease
	return version{main: main, kv: kv}, nil
}

func storageErr(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrStorage, op, err)
}
