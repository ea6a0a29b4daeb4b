package lease

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/storage"
	"go.uber.org/zap"
)

var (
	// ErrLeaseNotFound: no lease has the ID.
	ErrLeaseNotFound = errors.New("lease: lease not found")
	// ErrLeaseExists: Grant of an ID already in use.
	ErrLeaseExists = errors.New("lease: lease already exists")
	// ErrLeaseTTLTooLarge: Grant of a TTL above MaxTTL.
	ErrLeaseTTLTooLarge = errors.New("lease: too large lease TTL")
	// ErrNotPrimary: a leader-only call on a lessor that is not primary.
	ErrNotPrimary = errors.New("lease: not a primary lessor")
	// ErrLeaseExpired: Renew of a lease whose deadline has passed and whose
	// revoke has not applied yet. errors.Is(ErrLeaseExpired,
	// ErrLeaseNotFound) holds, so a caller that only knows
	// ErrLeaseNotFound answers as etcd finally does.
	ErrLeaseExpired error = expiredError{}
)

type expiredError struct{}

func (expiredError) Error() string        { return "lease: lease expired" }
func (expiredError) Is(target error) bool { return target == ErrLeaseNotFound }

// Lease is what Grant hands back.
type Lease struct {
	ID int64
	// TTL is the granted TTL in seconds, after the MinTTL rule: the value
	// LeaseGrantResponse carries.
	TTL int64
}

// PendingCheckpoint is a remaining TTL the primary wants every member to
// persist: the server proposes a batch of them as one LeaseCheckpoint
// request, and applying it calls Checkpoint for each.
type PendingCheckpoint struct {
	ID int64
	// RemainingTTL in seconds, rounded up; 0 clears the checkpoint, so the
	// next Promote counts the full TTL again.
	RemainingTTL int64
}

// lease is the in-memory state of one lease. Attached keys are not held
// here; they live only in storage. All fields are protected by Lessor.mu.
type lease struct {
	id           int64
	ttl          int64 // granted TTL, seconds
	remainingTTL int64 // last applied checkpoint, seconds; 0 = none
	// expiry is the deadline while primary; zero (unknown) otherwise.
	expiry time.Time
	// clearPending: Renew found a checkpoint that no longer holds and wants
	// a {id, 0} checkpoint proposed; the lease is due in mu.checkpoints.
	clearPending bool
	slots        [2]slot // places in mu.expiries and mu.checkpoints
}

func newLease(id, ttl, remainingTTL int64) *lease {
	return &lease{
		id:           id,
		ttl:          ttl,
		remainingTTL: remainingTTL,
		slots:        [2]slot{{idx: -1}, {idx: -1}},
	}
}

// countdown is what a fresh deadline counts from: the last checkpoint if one
// is set, else the granted TTL.
func (l *lease) countdown() time.Duration {
	s := l.ttl
	if l.remainingTTL > 0 {
		s = l.remainingTTL
	}
	return time.Duration(s) * time.Second
}

// Lessor keeps leases: their records and attachments in storage, their
// deadlines in memory on the primary. See the package documentation for the
// calling contract.
type Lessor struct {
	db   *storage.DB
	opts Options // read-only after New
	lg   *zap.Logger

	// mu guards the in-memory state. It is a leaf lock: nothing else is
	// locked, and no storage read is made, while it is held (batch writes,
	// which only touch the caller's memory, are).
	mu struct {
		sync.Mutex
		// primary is true between Promote and Demote. Protected by mu.
		primary bool
		// leases holds every lease. Leases are added and removed only by
		// the apply goroutine (Grant, Revoke, Reload). Protected by mu.
		leases map[int64]*lease
		// expiries orders leases by deadline; empty unless primary.
		// Protected by mu.
		expiries queue
		// checkpoints orders leases by next checkpoint; empty unless
		// primary. Protected by mu.
		checkpoints queue
	}
}

// New loads the leases stored in db. The lessor starts as a follower: every
// deadline is unknown until Promote.
func New(db *storage.DB, opts Options) (*Lessor, error) {
	if db == nil {
		return nil, errors.New("lease: New needs a DB")
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	l := &Lessor{db: db, opts: opts, lg: opts.Logger}
	l.mu.expiries.kind = byExpiry
	l.mu.checkpoints.kind = byCheckpoint
	leases, err := l.load()
	if err != nil {
		return nil, err
	}
	l.mu.leases = leases
	return l, nil
}

// Reload replaces the in-memory leases with those in storage, for use by
// the apply goroutine after a snapshot has been installed. On a primary the
// reloaded leases get fresh deadlines, as Promote(0) would give them.
func (l *Lessor) Reload() error {
	leases, err := l.load()
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.leases = leases
	l.mu.expiries.reset()
	l.mu.checkpoints.reset()
	if l.mu.primary {
		l.promoteLocked(0)
	}
	return nil
}

// load reads every lease record from committed storage.
func (l *Lessor) load() (map[int64]*lease, error) {
	lower, upper := recordBounds()
	it, err := l.db.NewIter(&storage.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("lease: load: %w", err)
	}
	leases := make(map[int64]*lease)
	raised := 0
	for ok := it.First(); ok; ok = it.Next() {
		r, err := decodeRecord(it.Key(), it.Value())
		if err != nil {
			_ = it.Close()
			return nil, err
		}
		if r.ttl < l.opts.MinTTL {
			// A shorter TTL than the current election timeout allows would
			// not survive a leader change; etcd raises it the same way.
			r.ttl = l.opts.MinTTL
			raised++
		}
		leases[r.id] = newLease(r.id, r.ttl, r.remainingTTL)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("lease: load: %w", err)
	}
	l.lg.Info("recovered leases", zap.Int("count", len(leases)), zap.Int("raised-to-min-ttl", raised))
	return leases, nil
}

// Grant creates lease id with ttl seconds, writing its record into b. A ttl
// below MinTTL is raised to it; above MaxTTL fails with ErrLeaseTTLTooLarge.
// An id in use fails with ErrLeaseExists; id 0 with ErrLeaseNotFound. On a
// primary the lease is due at now + TTL.
func (l *Lessor) Grant(b *storage.Batch, id, ttl int64) (*Lease, error) {
	if id == 0 {
		return nil, ErrLeaseNotFound
	}
	if ttl > MaxTTL {
		return nil, ErrLeaseTTLTooLarge
	}
	if ttl < l.opts.MinTTL {
		ttl = l.opts.MinTTL
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mu.leases[id]; ok {
		return nil, ErrLeaseExists
	}
	if err := b.Set(recordKey(id), encodeRecord(record{id: id, ttl: ttl}), nil); err != nil {
		return nil, fmt.Errorf("lease: grant %016x: %w", uint64(id), err)
	}
	le := newLease(id, ttl, 0)
	l.mu.leases[id] = le
	if l.mu.primary {
		now := l.opts.Now()
		le.expiry = now.Add(le.countdown())
		l.mu.expiries.set(le, le.expiry)
		l.scheduleCheckpointLocked(le, now)
	}
	return &Lease{ID: id, TTL: ttl}, nil
}

// Revoke removes lease id and its attachments, writing the deletions into
// b, and returns the attached keys in ascending byte order for the caller to
// delete through MVCC in the same batch. b must be indexed
// (storage.DB.NewIndexedBatch) so that attachments written earlier in the
// same batch are seen. An unknown id fails with ErrLeaseNotFound.
func (l *Lessor) Revoke(b *storage.Batch, id int64) (keys [][]byte, err error) {
	if !l.Exists(id) {
		return nil, ErrLeaseNotFound
	}
	if !b.Indexed() {
		return nil, fmt.Errorf("lease: revoke %016x: the batch must be indexed", uint64(id))
	}
	// Scan without mu: only the apply goroutine (this one) adds or removes
	// leases and attachments, so the lease cannot vanish meanwhile.
	keys, err = scanAttached(b, id)
	if err != nil {
		return nil, fmt.Errorf("lease: revoke %016x: %w", uint64(id), err)
	}
	for _, k := range keys {
		if err := b.Delete(attachKey(id, k), nil); err != nil {
			return nil, fmt.Errorf("lease: revoke %016x: %w", uint64(id), err)
		}
	}
	if err := b.Delete(recordKey(id), nil); err != nil {
		return nil, fmt.Errorf("lease: revoke %016x: %w", uint64(id), err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if le := l.mu.leases[id]; le != nil {
		l.mu.expiries.remove(le)
		l.mu.checkpoints.remove(le)
		delete(l.mu.leases, id)
	}
	return keys, nil
}

// Exists reports whether lease id exists (granted, not yet revoked).
func (l *Lessor) Exists(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.mu.leases[id]
	return ok
}

// Attach records in b that key is attached to lease id; attaching twice is
// harmless. An unknown id fails with ErrLeaseNotFound. The caller (MVCC)
// detaches the key from any previous lease itself.
func (l *Lessor) Attach(b *storage.Batch, id int64, key []byte) error {
	if len(key) == 0 {
		return errors.New("lease: attach: empty key")
	}
	if !l.Exists(id) {
		return ErrLeaseNotFound
	}
	if err := b.Set(attachKey(id, key), nil, nil); err != nil {
		return fmt.Errorf("lease: attach to %016x: %w", uint64(id), err)
	}
	return nil
}

// Detach records in b that key is no longer attached to lease id; detaching
// a key that is not attached is harmless. An unknown id fails with
// ErrLeaseNotFound.
func (l *Lessor) Detach(b *storage.Batch, id int64, key []byte) error {
	if !l.Exists(id) {
		return ErrLeaseNotFound
	}
	if err := b.Delete(attachKey(id, key), nil); err != nil {
		return fmt.Errorf("lease: detach from %016x: %w", uint64(id), err)
	}
	return nil
}

// Checkpoint persists remainingTTL (seconds; 0 clears) as lease id's
// checkpoint, writing into b. It does not move a deadline: the next Promote
// counts from it. An unknown id is ignored (the lease was revoked after the
// checkpoint was proposed), as in etcd.
func (l *Lessor) Checkpoint(b *storage.Batch, id, remainingTTL int64) error {
	if remainingTTL < 0 || remainingTTL > MaxTTL {
		return fmt.Errorf("lease: checkpoint %016x: remaining TTL %d outside [0, %d]", uint64(id), remainingTTL, int64(MaxTTL))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	le := l.mu.leases[id]
	if le == nil {
		return nil
	}
	if err := b.Set(recordKey(id), encodeRecord(record{id: id, ttl: le.ttl, remainingTTL: remainingTTL}), nil); err != nil {
		return fmt.Errorf("lease: checkpoint %016x: %w", uint64(id), err)
	}
	le.remainingTTL = remainingTTL
	if l.mu.primary {
		l.scheduleCheckpointLocked(le, l.opts.Now())
	}
	return nil
}

// scanAttached lists the keys attached to lease id as r sees them.
func scanAttached(r storage.Reader, id int64) ([][]byte, error) {
	lower, upper := attachBounds(id)
	it, err := r.NewIter(&storage.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	for ok := it.First(); ok; ok = it.Next() {
		_, key, err := decodeAttachKey(it.Key())
		if err != nil {
			_ = it.Close()
			return nil, err
		}
		keys = append(keys, append([]byte(nil), key...))
	}
	return keys, it.Close()
}

// Leases returns the IDs of all leases, ascending.
func (l *Lessor) Leases() []int64 {
	l.mu.Lock()
	ids := make([]int64, 0, len(l.mu.leases))
	for id := range l.mu.leases {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
