package mvcc

import (
	"bytes"
	"fmt"

	"github.com/cairn-db/cairn/internal/storage"
	"go.uber.org/zap"
)

// Compact schedules a compaction at rev: every version a read at rev or
// later can need stays, the rest (and the revision log up to rev) goes. It
// validates like etcd (ErrCompacted if rev <= the last scheduled compaction,
// ErrFutureRev if rev is above the last ended revision) and records the
// schedule in b. Apply goroutine only, with no WriteTxn open.
//
// Reads at revisions below rev fail with ErrCompacted from the Publish that
// follows the commit of b (reads through a WriteTxn: at once). Then the
// background compactor deletes old versions in bounded batches; done is
// closed when it has finished.
func (s *Store) Compact(b *storage.Batch, rev int64) (done <-chan struct{}, err error) {
	if s.w.open {
		panic("mvcc: Compact with an open WriteTxn")
	}
	if rev <= s.w.compactRev {
		return nil, ErrCompacted
	}
	if rev > s.w.lastRev {
		return nil, ErrFutureRev
	}
	if err := b.Set(metaScheduledKey, encodeMetaRev(rev), nil); err != nil {
		return nil, storageErr("batch", err)
	}
	s.w.compactRev = rev
	ch := make(chan struct{})
	s.w.pending = append(s.w.pending, waiter{rev: rev, done: ch})
	return ch, nil
}

// compactLoop runs physical compactions until Close.
func (s *Store) compactLoop() {
	defer close(s.donec)
	for {
		select {
		case <-s.stopc:
			return
		case <-s.kick:
		}
		for {
			target := s.pub.Load().compact
			s.mu.Lock()
			finished, failed := s.mu.finished, s.mu.err != nil
			s.mu.Unlock()
			if failed || finished >= target {
				break
			}
			select {
			case <-s.stopc:
				return
			default:
			}
			if err := s.compactStep(target); err != nil {
				s.lg.Error("physical compaction failed; compaction stops",
					zap.Int64("compact-revision", target), zap.Error(err))
				s.mu.Lock()
				s.mu.err = err
				s.mu.Unlock()
			}
		}
	}
}

// compactStep handles up to CompactionBatchLimit revision-log entries at or
// below target in one batch. For each entry that is its key's newest version
// at or below target, it deletes the key's older versions, and that version
// too if it is a tombstone; every handled log entry is deleted. Versions at
// or below target never change except here, so reading them through a fresh
// iterator while apply goes on is safe, and a crash between batches only
// leaves work that the next step (after a restart: Open) redoes.
func (s *Store) compactStep(target int64) error {
	logIt, err := s.db.NewIter(&storage.IterOptions{
		LowerBound: revLogLower,
		UpperBound: appendRevLogKey(nil, target+1, 0),
	})
	if err != nil {
		return storageErr("new iterator", err)
	}
	defer logIt.Close()
	verIt, err := s.db.NewIter(&storage.IterOptions{LowerBound: []byte{storage.PrefixMVCC}, UpperBound: mvccUpper})
	if err != nil {
		return storageErr("new iterator", err)
	}
	defer verIt.Close()

	b := s.db.NewBatch()
	defer b.Close()
	var seek, prefix []byte
	n := 0
	valid := logIt.First()
	for ; valid && n < s.opts.CompactionBatchLimit; valid = logIt.Next() {
		main, sub, err := decodeRevLogKey(logIt.Key())
		if err != nil {
			return err
		}
		v, err := logIt.ValueAndErr()
		if err != nil {
			return storageErr("read value", err)
		}
		_, key, err := decodeRevLogValue(v)
		if err != nil {
			return err
		}
		// A put at exactly the target that stays its key's newest version
		// keeps its log entry, so a watch from the compaction revision
		// still sees it (etcd's rule). Kept entries are not counted towards
		// the batch limit: they are at most one txn, and a later step must
		// not stall on them.
		//
		// Is (main, sub) the key's newest version at or below target?
		seek = appendSeekAt(seek[:0], key, target)
		prefix = append(prefix[:0], seek[:len(seek)-revLen]...)
		if !verIt.SeekPrefixGE(seek) {
			if err := verIt.Error(); err != nil {
				return storageErr("seek", err)
			}
			// Already compacted by an earlier, interrupted run.
			if err := b.Delete(logIt.Key(), nil); err != nil {
				return storageErr("batch", err)
			}
			n++
			continue
		}
		k := verIt.Key()
		kp, vmain, vsub, err := splitVersionKey(k)
		if err != nil {
			return err
		}
		if !bytes.Equal(kp, prefix) || vmain != main || vsub != sub {
			// An older version: the newest one's entry handles it.
			if err := b.Delete(logIt.Key(), nil); err != nil {
				return storageErr("batch", err)
			}
			n++
			continue
		}
		val, err := verIt.ValueAndErr()
		if err != nil {
			return storageErr("read value", err)
		}
		tomb, err := isTombstone(val)
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		if tomb {
			if err := b.Delete(k, nil); err != nil {
				return storageErr("batch", err)
			}
		}
		keepLog := !tomb && main == target
		if !keepLog {
			if err := b.Delete(logIt.Key(), nil); err != nil {
				return storageErr("batch", err)
			}
			n++
		}
		for verIt.Next() {
			k := verIt.Key()
			if len(k) != len(prefix)+revLen || !bytes.HasPrefix(k, prefix) {
				break
			}
			if err := b.Delete(k, nil); err != nil {
				return storageErr("batch", err)
			}
			n++
		}
		if err := verIt.Error(); err != nil {
			return storageErr("iterate", err)
		}
	}
	if err := logIt.Error(); err != nil {
		return storageErr("iterate", err)
	}
	done := !valid
	if done {
		if err := b.Set(metaFinishedKey, encodeMetaRev(target), nil); err != nil {
			return storageErr("batch", err)
		}
	}
	if err := s.db.Commit(b, storage.NoSync); err != nil {
		return storageErr("commit", err)
	}
	if done {
		s.finish(target)
	}
	return nil
}

// finish records a finished physical compaction and closes the done
// channels it covers.
func (s *Store) finish(target int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.finished = target
	keep := s.mu.waiters[:0]
	for _, w := range s.mu.waiters {
		if w.rev <= target {
			close(w.done)
		} else {
			keep = append(keep, w)
		}
	}
	s.mu.waiters = keep
}

// FinishedCompactRev is the last compaction revision whose physical
// compaction has finished.
func (s *Store) FinishedCompactRev() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.mu.finished, 0)
}

// compacted returns a channel closed once physical compaction has reached
// rev.
func (s *Store) compacted(rev int64) <-chan struct{} {
	ch := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.finished >= rev {
		close(ch)
		return ch
	}
	s.mu.waiters = append(s.mu.waiters, waiter{rev: rev, done: ch})
	return ch
}
