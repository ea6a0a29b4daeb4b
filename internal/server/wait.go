package server

import (
	"sort"
	"sync"
	"sync/atomic"
)

// result is what apply hands back to a waiting proposer.
type result struct {
	resp any
	err  error
	// done, for a physical compaction, closes when old versions are gone.
	done <-chan struct{}
}

// waitRegistry maps request IDs to the channels their proposers wait on.
// It is sharded so concurrent proposers do not contend on one lock.
type waitRegistry struct {
	pending atomic.Int64 // registered and not yet triggered or cancelled
	shards  [16]struct {
		mu sync.Mutex
		m  map[uint64]chan result // protected by mu
	}
}

func newWaitRegistry() *waitRegistry {
	w := &waitRegistry{}
	for i := range w.shards {
		w.shards[i].m = make(map[uint64]chan result)
	}
	return w
}

func (w *waitRegistry) register(id uint64) <-chan result {
	sh := &w.shards[id%uint64(len(w.shards))]
	ch := make(chan result, 1)
	sh.mu.Lock()
	if _, dup := sh.m[id]; !dup {
		w.pending.Add(1)
	}
	sh.m[id] = ch
	sh.mu.Unlock()
	return ch
}

// trigger delivers r to the waiter of id, if any is still waiting.
func (w *waitRegistry) trigger(id uint64, r result) {
	sh := &w.shards[id%uint64(len(w.shards))]
	sh.mu.Lock()
	ch, ok := sh.m[id]
	delete(sh.m, id)
	sh.mu.Unlock()
	if ok {
		w.pending.Add(-1)
		ch <- r
	}
}

func (w *waitRegistry) cancel(id uint64) {
	sh := &w.shards[id%uint64(len(w.shards))]
	sh.mu.Lock()
	if _, ok := sh.m[id]; ok {
		delete(sh.m, id)
		w.pending.Add(-1)
	}
	sh.mu.Unlock()
}

// indexWaiter wakes goroutines once the applied index reaches their target.
type indexWaiter struct {
	mu struct {
		sync.Mutex
		current uint64                     // protected by mu; highest index reported
		waiters map[uint64][]chan struct{} // protected by mu; target → waiters
	}
}

func newIndexWaiter(current uint64) *indexWaiter {
	w := &indexWaiter{}
	w.mu.current = current
	w.mu.waiters = make(map[uint64][]chan struct{})
	return w
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// wait returns a channel closed once the index is at least target.
func (w *indexWaiter) wait(target uint64) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if target <= w.mu.current {
		return closedChan
	}
	c := make(chan struct{})
	w.mu.waiters[target] = append(w.mu.waiters[target], c)
	return c
}

// reached records index and wakes every waiter at or below it.
func (w *indexWaiter) reached(index uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if index <= w.mu.current {
		return
	}
	w.mu.current = index
	if len(w.mu.waiters) == 0 {
		return
	}
	var ready []uint64
	for t := range w.mu.waiters {
		if t <= index {
			ready = append(ready, t)
		}
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i] < ready[j] })
	for _, t := range ready {
		for _, c := range w.mu.waiters[t] {
			close(c)
		}
		delete(w.mu.waiters, t)
	}
}
