package lease

import (
	"container/heap"
	"time"
)

// queueKind names one of a lease's two deadline slots.
type queueKind int

const (
	byExpiry     queueKind = iota // when the lease is next due in Expired
	byCheckpoint                  // when the lease is next due in DueCheckpoints
)

// slot is a lease's place in one queue.
type slot struct {
	at  time.Time // deadline
	idx int       // position in queue.h; -1 when not queued
}

// queue is a min-heap of leases by one deadline slot, ties broken by ID so
// the order is deterministic. Each lease is in a queue at most once; set
// moves it. All methods run under Lessor.mu.
type queue struct {
	kind queueKind
	h    []*lease
}

func (q *queue) Len() int { return len(q.h) }

func (q *queue) Less(i, j int) bool {
	a, b := &q.h[i].slots[q.kind], &q.h[j].slots[q.kind]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return q.h[i].id < q.h[j].id
}

func (q *queue) Swap(i, j int) {
	q.h[i], q.h[j] = q.h[j], q.h[i]
	q.h[i].slots[q.kind].idx = i
	q.h[j].slots[q.kind].idx = j
}

// Push and Pop implement heap.Interface; use set and remove instead.
func (q *queue) Push(x any) {
	l := x.(*lease)
	l.slots[q.kind].idx = len(q.h)
	q.h = append(q.h, l)
}

func (q *queue) Pop() any {
	n := len(q.h) - 1
	l := q.h[n]
	q.h[n] = nil
	q.h = q.h[:n]
	l.slots[q.kind].idx = -1
	return l
}

// set queues l at deadline at, moving it if already queued.
func (q *queue) set(l *lease, at time.Time) {
	s := &l.slots[q.kind]
	s.at = at
	if s.idx < 0 {
		heap.Push(q, l)
		return
	}
	heap.Fix(q, s.idx)
}

// remove takes l out of the queue if it is in it.
func (q *queue) remove(l *lease) {
	if i := l.slots[q.kind].idx; i >= 0 {
		heap.Remove(q, i)
	}
}

// peek returns the lease with the earliest deadline.
func (q *queue) peek() (*lease, time.Time, bool) {
	if len(q.h) == 0 {
		return nil, time.Time{}, false
	}
	l := q.h[0]
	return l, l.slots[q.kind].at, true
}

// reset empties the queue.
func (q *queue) reset() {
	for _, l := range q.h {
		l.slots[q.kind].idx = -1
	}
	clear(q.h)
	q.h = q.h[:0]
}
