package mvcc

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/storage"
	"go.uber.org/zap"
)

// Options configure a Store. The zero value of every field is its default.
type Options struct {
	// CompactionBatchLimit is the number of revision-log entries one
	// physical compaction batch handles; default 1000.
	CompactionBatchLimit int
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.CompactionBatchLimit <= 0 {
		o.CompactionBatchLimit = 1000
	}
}

// Store is the multi-version key-value store. See the package doc for who
// may call what.
type Store struct {
	db   *storage.DB
	lg   *zap.Logger
	opts Options

	// pub is the published state, read by any goroutine; both revisions
	// change together.
	pub atomic.Pointer[revs]

	// closeMu makes Close wait for reads in flight: a read holds it shared
	// while it uses the DB; Close takes it to set closed. Lock order: before
	// mu.
	closeMu sync.RWMutex
	closed  bool // protected by closeMu

	// w is owned by the apply goroutine.
	w struct {
		lastRev    int64 // last ended revision, published or not
		compactRev int64 // last scheduled compaction, published or not
		pending    []waiter
		open       bool    // a WriteTxn is open
		sc         scanner // reused by every WriteTxn
	}

	// mu protects the compactor's hand-over state. Lock order: mu is a leaf.
	mu struct {
		sync.Mutex
		waiters  []waiter // published compactions not yet physically done
		finished int64    // last physically finished compaction
		err      error    // first compaction failure; compaction stops
	}
	kick  chan struct{} // wakes the compactor; buffered 1
	stopc chan struct{}
	donec chan struct{}

	scanners sync.Pool // *scanner for readers
}

// revs is a published pair of revisions.
type revs struct {
	// rev is the last published revision.
	rev int64
	// compact is the last published compaction revision; -1 when the
	// store was never compacted (etcd's value: a compaction at 0 is
	// allowed once).
	compact int64
}

// waiter is a compaction's done channel.
type waiter struct {
	rev  int64
	done chan struct{}
}

// Open loads the store's state from db and starts the background compactor,
// which resumes a physical compaction interrupted by a restart.
func Open(db *storage.DB, lg *zap.Logger) (*Store, error) {
	return OpenWithOptions(db, lg, Options{})
}

// OpenWithOptions is Open with explicit options.
func OpenWithOptions(db *storage.DB, lg *zap.Logger, opts Options) (*Store, error) {
	if lg == nil {
		lg = zap.NewNop()
	}
	opts.EnsureDefaults()
	s := &Store{
		db:    db,
		lg:    lg,
		opts:  opts,
		kick:  make(chan struct{}, 1),
		stopc: make(chan struct{}),
		donec: make(chan struct{}),
	}
	s.scanners.New = func() any { return new(scanner) }
	if err := s.load(); err != nil {
		return nil, err
	}
	go s.compactLoop()
	s.kickCompactor()
	return s, nil
}

// load reads the revisions from storage into memory.
func (s *Store) load() error {
	r := s.db.Reader()
	scheduled, err := readMeta(r, "scheduled", metaScheduledKey)
	if err != nil {
		return err
	}
	finished, err := readMeta(r, "finished", metaFinishedKey)
	if err != nil {
		return err
	}
	if finished > scheduled {
		return corruptf("finished compaction %d above scheduled %d", finished, scheduled)
	}
	last, err := lastLoggedRev(r)
	if err != nil {
		return err
	}
	rev := max(last, scheduled, 1)
	s.pub.Store(&revs{rev: rev, compact: scheduled})
	s.w.lastRev = rev
	s.w.compactRev = scheduled
	s.mu.Lock()
	s.mu.finished = finished
	s.mu.Unlock()
	if scheduled > finished {
		s.lg.Info("resuming physical compaction",
			zap.Int64("compact-revision", scheduled), zap.Int64("finished-revision", finished))
	}
	return nil
}

func readMeta(r storage.Reader, name string, key []byte) (int64, error) {
	v, err := storage.Get(r, key)
	if errors.Is(err, storage.ErrNotFound) {
		return -1, nil
	}
	if err != nil {
		return 0, storageErr("read meta "+name, err)
	}
	return decodeMetaRev(name, v)
}

// lastLoggedRev is the main revision of the newest revision-log entry, or 0.
func lastLoggedRev(r storage.Reader) (int64, error) {
	it, err := r.NewIter(&storage.IterOptions{LowerBound: revLogLower, UpperBound: revLogUpper})
	if err != nil {
		return 0, storageErr("new iterator", err)
	}
	defer it.Close()
	if !it.Last() {
		if err := it.Error(); err != nil {
			return 0, storageErr("iterate", err)
		}
		return 0, nil
	}
	main, _, err := decodeRevLogKey(it.Key())
	return main, err
}

// Restore reloads the store's state from storage after the caller replaced
// the MVCC keyspaces (a snapshot was installed). Apply goroutine only, with
// no WriteTxn open.
func (s *Store) Restore() error {
	if s.w.open {
		panic("mvcc: Restore with an open WriteTxn")
	}
	s.w.pending = nil
	if err := s.load(); err != nil {
		return err
	}
	s.kickCompactor()
	return nil
}

// Close stops the background compactor and waits for reads in flight; reads
// after it fail with ErrClosed. Pending done channels stay open. Close the DB
// after the Store.
func (s *Store) Close() {
	s.closeMu.Lock()
	was := s.closed
	s.closed = true
	s.closeMu.Unlock()
	if was {
		return
	}
	close(s.stopc)
	<-s.donec
}

// Rev is the last published revision: every write up to it is committed and
// visible to readers. A fresh store starts at 1, as etcd does.
func (s *Store) Rev() int64 { return s.pub.Load().rev }

// CompactRev is the last published compaction revision (0 when none): reads
// below it fail with ErrCompacted.
func (s *Store) CompactRev() int64 { return max(s.pub.Load().compact, 0) }

// Publish makes every ended WriteTxn and every scheduled compaction visible
// to readers. Apply goroutine only, after the batches holding them were
// committed.
func (s *Store) Publish() {
	p := s.pub.Load()
	if p.rev == s.w.lastRev && p.compact == s.w.compactRev {
		return
	}
	if p.compact == s.w.compactRev {
		s.pub.Store(&revs{rev: s.w.lastRev, compact: p.compact})
		return
	}
	// Hand the done channels over before the compactor can see the new
	// revision, so the step that reaches it closes them.
	s.mu.Lock()
	for _, w := range s.w.pending {
		if w.rev <= s.mu.finished {
			close(w.done)
		} else {
			s.mu.waiters = append(s.mu.waiters, w)
		}
	}
	s.mu.Unlock()
	s.w.pending = s.w.pending[:0]
	s.pub.Store(&revs{rev: s.w.lastRev, compact: s.w.compactRev})
	s.kickCompactor()
}

func (s *Store) kickCompactor() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// getScanner returns a pooled scanner for a reader.
func (s *Store) getScanner() *scanner { return s.scanners.Get().(*scanner) }

func (s *Store) putScanner(sc *scanner) {
	_ = sc.close()
	s.scanners.Put(sc)
}

// enter starts a read: it fails once the store is closed, and otherwise
// keeps Close waiting until exit.
func (s *Store) enter() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Store) exit() { s.closeMu.RUnlock() }

// pinned opens a read view with open and returns the published revisions it
// holds: every write up to rev, and no version deleted by a compaction above
// compact. The revisions are loaded before open, so the view holds every
// write up to rev; the compaction revision is checked again after, because
// physical compaction starts only once its revision is published: if it did
// not change, nothing the view needs was deleted before the view was taken.
// Otherwise close drops the view and it tries again.
func (s *Store) pinned(open func() error, close func()) (revs, error) {
	for {
		p := s.pub.Load()
		if err := open(); err != nil {
			return revs{}, err
		}
		if s.pub.Load().compact == p.compact {
			return *p, nil
		}
		close()
	}
}

// checkRev validates a read at rev against the current and compaction
// revisions, the way etcd does, and returns the revision to read at.
func checkRev(rev, cur, compact int64) (int64, error) {
	if rev > cur {
		return 0, ErrFutureRev
	}
	if rev <= 0 {
		rev = cur
	}
	if rev < compact {
		return 0, ErrCompacted
	}
	return rev, nil
}

// String describes the store's revisions, for logs and tests.
func (s *Store) String() string {
	return fmt.Sprintf("mvcc.Store{rev: %d, compact: %d}", s.Rev(), s.CompactRev())
}
