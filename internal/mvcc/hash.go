package mvcc

import (
	"bytes"
	"hash/crc32"

	"github.com/cairn-db/cairn/internal/storage"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// HashKV hashes (crc32-C over the stored key and value bytes) every version
// at or below rev (0: the current revision) that a read at the compaction
// revision or later can see: the versions above the compaction revision,
// and for each key its newest version at or below it unless that is a
// tombstone. The hash depends only on the history and the compaction
// revision, not on how far physical compaction has got, so members that
// agree on both agree on the hash. It returns the compaction revision it
// hashed against, -1 when the store was never compacted (as etcd reports
// it). As in etcd, rev must be above the compaction revision. Any goroutine.
func (s *Store) HashKV(rev int64) (hash uint32, compactRev int64, err error) {
	if err := s.enter(); err != nil {
		return 0, 0, err
	}
	defer s.exit()
	var it *storage.Iterator
	p, err := s.pinned(func() (err error) {
		it, err = s.db.NewIter(&storage.IterOptions{LowerBound: []byte{storage.PrefixMVCC}, UpperBound: mvccUpper})
		if err != nil {
			return storageErr("new iterator", err)
		}
		return nil
	}, func() { _ = it.Close() })
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	cur, compact := p.rev, p.compact
	switch {
	case rev > 0 && rev <= compact:
		return 0, compact, ErrCompacted
	case rev > cur:
		return 0, compact, ErrFutureRev
	case rev <= 0:
		rev = cur
	}

	h := crc32.New(castagnoli)
	var prefix []byte
	keptOld := false // the current key's newest version <= compact was seen
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		kp, main, _, err := splitVersionKey(k)
		if err != nil {
			return 0, compact, err
		}
		if !bytes.Equal(kp, prefix) {
			prefix = append(prefix[:0], kp...)
			keptOld = false
		}
		if main > rev {
			continue
		}
		if main <= compact {
			if keptOld {
				continue
			}
			keptOld = true
			v, err := it.ValueAndErr()
			if err != nil {
				return 0, compact, storageErr("read value", err)
			}
			if tomb, err := isTombstone(v); err != nil || tomb {
				if err != nil {
					return 0, compact, err
				}
				continue
			}
			h.Write(k)
			h.Write(v)
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return 0, compact, storageErr("read value", err)
		}
		h.Write(k)
		h.Write(v)
	}
	if err := it.Error(); err != nil {
		return 0, compact, storageErr("iterate", err)
	}
	return h.Sum32(), compact, nil
}

// Hash is HashKV at the current revision.
func (s *Store) Hash() (hash uint32, compactRev int64, err error) { return s.HashKV(0) }
