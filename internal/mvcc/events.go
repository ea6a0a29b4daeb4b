package mvcc

import (
	"fmt"

	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Events returns the events of main revisions [from, to], in (main, sub)
// order, for watch catch-up. to is capped at Rev(). limit (> 0) is a soft cap:
// the events of the revision that reaches it are all returned, so a revision
// is never split. With prevKV, each event carries the key's version at the
// previous main revision (nil when there is none). It fails with
// ErrCompacted when from < CompactRev(). Like etcd, a watch may start at the
// compaction revision itself: the events of that revision that compaction
// keeps (a put that is its key's newest version; not a tombstone) are still
// served. Any goroutine; one point in time.
func (s *Store) Events(from, to int64, limit int, prevKV bool) ([]*mvccpb.Event, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	// Two iterators over one snapshot: the log and the versions it names,
	// at the same point in time.
	var snap *storage.Snapshot
	p, err := s.pinned(func() error {
		snap = s.db.NewSnapshot()
		return nil
	}, func() { _ = snap.Close() })
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	if to <= 0 || to > p.rev {
		to = p.rev
	}
	if from < 1 {
		from = 1
	}
	if from < p.compact {
		return nil, ErrCompacted
	}
	if from > to {
		return nil, nil
	}
	lower := appendRevLogKey(nil, from, 0)
	upper := appendRevLogKey(nil, to+1, 0)
	logIt, err := snap.NewIter(&storage.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, storageErr("new iterator", err)
	}
	defer logIt.Close()
	sc := s.getScanner()
	defer s.putScanner(sc)
	if err := sc.open(snap, []byte{}, []byte{0}); err != nil {
		return nil, err
	}

	var evs []*mvccpb.Event
	lastMain := int64(-1)
	for valid := logIt.First(); valid; valid = logIt.Next() {
		main, sub, err := decodeRevLogKey(logIt.Key())
		if err != nil {
			return nil, err
		}
		if limit > 0 && len(evs) >= limit && main != lastMain {
			break
		}
		lastMain = main
		v, err := logIt.ValueAndErr()
		if err != nil {
			return nil, storageErr("read value", err)
		}
		kind, key, err := decodeRevLogValue(v)
		if err != nil {
			return nil, err
		}
		wantPrev := prevKV
		if main == p.compact {
			// At the compaction revision only the puts that compaction
			// keeps are served, and without prev_kv, whose version is
			// compacted (etcd omits a prev_kv it cannot read). The answer
			// is then the same before and after physical compaction.
			if kind == kindTombstone {
				continue
			}
			wantPrev = false
		}
		ev, err := sc.event(main, sub, kind, key, wantPrev)
		if err != nil {
			return nil, fmt.Errorf("event at %d.%d: %w", main, sub, err)
		}
		evs = append(evs, ev)
	}
	if err := logIt.Error(); err != nil {
		return nil, storageErr("iterate", err)
	}
	return evs, nil
}

// event builds the event logged at (main, sub) for key (which aliases the
// log iterator's memory) from the version keyspace.
func (sc *scanner) event(main, sub int64, kind byte, key []byte, prevKV bool) (*mvccpb.Event, error) {
	ev := &mvccpb.Event{}
	if kind == kindTombstone {
		k := sc.alloc.bytes(len(key))
		copy(k, key)
		ev.Type = mvccpb.Event_DELETE
		ev.Kv = sc.alloc.newKV()
		ev.Kv.Key, ev.Kv.ModRevision = k, main
	} else {
		sc.seek = appendVersionKey(sc.seek[:0], key, main, sub)
		if !sc.it.SeekPrefixGE(sc.seek) || string(sc.it.Key()) != string(sc.seek) {
			if err := sc.it.Error(); err != nil {
				return nil, storageErr("seek", err)
			}
			return nil, corruptf("logged version of %q missing", key)
		}
		prefix := sc.seek[:len(sc.seek)-revLen]
		v, err := sc.it.ValueAndErr()
		if err != nil {
			return nil, storageErr("read value", err)
		}
		kv, err := sc.build(prefix, main, v, true)
		if err != nil {
			return nil, err
		}
		ev.Type, ev.Kv = mvccpb.Event_PUT, kv
	}
	if !prevKV {
		return ev, nil
	}
	// etcd gives a create no PrevKv; any other event gets the key's newest
	// version below main (etcd reads the key at main-1).
	if ev.Type == mvccpb.Event_PUT && ev.Kv.CreateRevision == main {
		return ev, nil
	}
	sc.seek = appendSeekAt(sc.seek[:0], ev.Kv.Key, main-1)
	prefixLen := len(sc.seek) - revLen
	if !sc.it.SeekPrefixGE(sc.seek) {
		if err := sc.it.Error(); err != nil {
			return nil, storageErr("seek", err)
		}
		return ev, nil
	}
	k := sc.it.Key()
	if len(k) != len(sc.seek) || string(k[:prefixLen]) != string(sc.seek[:prefixLen]) {
		return ev, nil // no older version of this key
	}
	_, pmain, _, err := splitVersionKey(k)
	if err != nil {
		return nil, err
	}
	v, err := sc.it.ValueAndErr()
	if err != nil {
		return nil, storageErr("read value", err)
	}
	tomb, err := isTombstone(v)
	if err != nil || tomb {
		return ev, err
	}
	if ev.PrevKv, err = sc.build(k[:prefixLen], pmain, v, true); err != nil {
		return nil, err
	}
	return ev, nil
}
