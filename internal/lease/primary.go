package lease

import (
	"sort"
	"time"

	"go.uber.org/zap"
)

// Promote makes the lessor primary: every lease becomes due at now + its
// countdown (last checkpoint, else TTL) + extend. The server passes its
// election timeout as extend, so a client gets at least that long to find
// the new leader and renew. When at least RevokeRate leases exist, deadlines
// that crowd into one second are spread out (see spreadLocked).
func (l *Lessor) Promote(extend time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.primary = true
	l.promoteLocked(extend)
}

func (l *Lessor) promoteLocked(extend time.Duration) {
	now := l.opts.Now()
	l.mu.expiries.reset()
	l.mu.checkpoints.reset()
	all := make([]*lease, 0, len(l.mu.leases))
	for _, le := range l.mu.leases {
		le.expiry = now.Add(le.countdown()).Add(extend)
		le.clearPending = false
		all = append(all, le)
	}
	if len(all) >= l.opts.RevokeRate {
		l.spreadLocked(all)
	}
	for _, le := range all {
		l.mu.expiries.set(le, le.expiry)
		l.scheduleCheckpointLocked(le, now)
	}
}

// spreadLocked delays deadlines so that no more than 3/4 of RevokeRate fall
// in any one second, leaving a quarter of the revoke budget for leases that
// expire on their own. This is etcd's rule: after a leader change every
// lease restarts its countdown at once, and leases granted together would
// otherwise all expire together.
//
// Leases are taken in deadline order and grouped in windows: a window opens
// at the deadline of the first lease past the previous window and spans one
// second. The n-th lease of a window beyond the target count is moved to
// window start + n/target seconds; the window then stretches to that
// deadline, so leases it overtakes join it. A deadline only ever moves
// later.
func (l *Lessor) spreadLocked(all []*lease) {
	sort.Slice(all, func(i, j int) bool {
		if !all[i].expiry.Equal(all[j].expiry) {
			return all[i].expiry.Before(all[j].expiry)
		}
		return all[i].id < all[j].id
	})
	target := max(3*l.opts.RevokeRate/4, 1)
	var start, end time.Time
	n, moved := 0, 0
	for i, le := range all {
		if i == 0 || le.expiry.After(end) {
			start, end, n = le.expiry, le.expiry.Add(time.Second), 1
			continue
		}
		n++
		if n <= target {
			continue
		}
		at := start.Add(time.Duration(int64(n) * int64(time.Second) / int64(target)))
		if at.After(le.expiry) {
			le.expiry = at
			moved++
		}
		if le.expiry.After(end) {
			end = le.expiry
		}
	}
	if moved > 0 {
		l.lg.Info("spread lease deadlines after promotion",
			zap.Int("leases", len(all)), zap.Int("moved", moved), zap.Int("per-second", target))
	}
}

// Demote makes the lessor a follower: deadlines become unknown, nothing
// expires, Renew and TimeToLive fail with ErrNotPrimary.
func (l *Lessor) Demote() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.primary = false
	l.mu.expiries.reset()
	l.mu.checkpoints.reset()
	for _, le := range l.mu.leases {
		le.expiry = time.Time{}
		le.clearPending = false
	}
}

// IsPrimary reports whether the lessor is primary (between Promote and
// Demote).
func (l *Lessor) IsPrimary() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.primary
}

// Renew restarts lease id's countdown: it is due at now + TTL, and the
// granted TTL is returned. Errors: ErrNotPrimary on a follower,
// ErrLeaseNotFound for an unknown lease, ErrLeaseExpired for a lease past
// its deadline whose revoke has not applied yet. etcd holds such a renewal
// until the revoke applies (then ErrLeaseNotFound) or the member is demoted
// (then ErrNotPrimary, and the client retries on the new leader); the server
// may do the same, or answer ErrLeaseNotFound at once.
//
// If the lease carries a checkpoint, Renew also queues a checkpoint of 0
// (DueCheckpoints), so a later leader does not count from the stale value.
func (l *Lessor) Renew(id int64) (ttl int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return -1, ErrNotPrimary
	}
	le := l.mu.leases[id]
	if le == nil {
		return -1, ErrLeaseNotFound
	}
	now := l.opts.Now()
	if !le.expiry.After(now) {
		return -1, ErrLeaseExpired
	}
	le.expiry = now.Add(time.Duration(le.ttl) * time.Second)
	l.mu.expiries.set(le, le.expiry)
	if le.remainingTTL > 0 && !le.clearPending {
		le.clearPending = true
		l.mu.checkpoints.set(le, now)
	}
	return le.ttl, nil
}

// Expired returns, in deadline order, up to limit (all if limit <= 0) IDs of
// leases whose deadline has passed; the server proposes a LeaseRevoke for
// each. A lease returned is not returned again before ExpiredRetryInterval
// has passed, so a revoke that got lost is retried, not duplicated. A
// follower returns nothing.
func (l *Lessor) Expired(limit int) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return nil
	}
	now := l.opts.Now()
	var ids []int64
	for limit <= 0 || len(ids) < limit {
		le, at, ok := l.mu.expiries.peek()
		if !ok || at.After(now) {
			break
		}
		if !le.expiry.After(now) {
			ids = append(ids, le.id)
		}
		l.mu.expiries.set(le, now.Add(l.opts.ExpiredRetryInterval))
	}
	return ids
}

// NextExpiry returns when Expired will next have something to return, for
// the server's timer; false on a follower or when no lease exists.
func (l *Lessor) NextExpiry() (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return time.Time{}, false
	}
	_, at, ok := l.mu.expiries.peek()
	return at, ok
}

// DueCheckpoints returns up to limit (all if limit <= 0) checkpoints that
// are due, in due order: remaining TTLs of leases whose checkpoint interval
// has passed (when EnableCheckpoints is set), and the clearing checkpoints
// queued by Renew (always). The server proposes them as LeaseCheckpoint
// requests. A follower returns nothing.
func (l *Lessor) DueCheckpoints(limit int) []PendingCheckpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return nil
	}
	now := l.opts.Now()
	var cps []PendingCheckpoint
	for limit <= 0 || len(cps) < limit {
		le, at, ok := l.mu.checkpoints.peek()
		if !ok || at.After(now) {
			break
		}
		switch left := le.expiry.Sub(now); {
		case le.clearPending:
			le.clearPending = false
			cps = append(cps, PendingCheckpoint{ID: le.id})
		case left <= 0:
			// Expired: its revoke is coming; nothing to keep.
			l.mu.checkpoints.remove(le)
			continue
		default:
			// Round up, so a lease never comes back shorter than it was.
			rem := int64((left + time.Second - 1) / time.Second)
			if rem < le.ttl {
				cps = append(cps, PendingCheckpoint{ID: le.id, RemainingTTL: rem})
			}
		}
		// The next one is due an interval from now even if this proposal
		// is lost; applying it reschedules the same way.
		l.scheduleCheckpointLocked(le, now)
	}
	return cps
}

// NextCheckpoint returns when DueCheckpoints will next have something to
// return; false on a follower or when nothing is scheduled.
func (l *Lessor) NextCheckpoint() (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return time.Time{}, false
	}
	_, at, ok := l.mu.checkpoints.peek()
	return at, ok
}

// scheduleCheckpointLocked places le in the checkpoint queue: now when a
// clear is pending; an interval from now when checkpoints are enabled and
// the lease counts down from more than one interval (etcd's rule); else
// nowhere.
func (l *Lessor) scheduleCheckpointLocked(le *lease, now time.Time) {
	switch {
	case le.clearPending:
		l.mu.checkpoints.set(le, now)
	case l.opts.EnableCheckpoints && le.countdown() > l.opts.CheckpointInterval.Truncate(time.Second):
		l.mu.checkpoints.set(le, now.Add(l.opts.CheckpointInterval))
	default:
		l.mu.checkpoints.remove(le)
	}
}

// TimeToLive reports lease id's granted TTL and remaining seconds, and with
// withKeys its attached keys in ascending order (as committed to storage).
// remaining is the time to the deadline truncated to whole seconds, as
// etcd's leader computes it: it is 0 or negative while an expired lease
// awaits its revoke. A follower does not know deadlines and answers
// ErrNotPrimary (etcd forwards the request to the leader, and answers
// ErrLeaderChanged when the leader is demoted mid-request); an unknown lease
// gives ErrLeaseNotFound (which the API turns into TTL -1).
func (l *Lessor) TimeToLive(id int64, withKeys bool) (granted, remaining int64, keys [][]byte, err error) {
	l.mu.Lock()
	if !l.mu.primary {
		l.mu.Unlock()
		return 0, 0, nil, ErrNotPrimary
	}
	le := l.mu.leases[id]
	if le == nil {
		l.mu.Unlock()
		return 0, 0, nil, ErrLeaseNotFound
	}
	granted = le.ttl
	remaining = int64(le.expiry.Sub(l.opts.Now()) / time.Second)
	l.mu.Unlock()
	if withKeys {
		if keys, err = scanAttached(l.db.Reader(), id); err != nil {
			return 0, 0, nil, err
		}
	}
	return granted, remaining, keys, nil
}
