package server

import (
	"errors"
	"sync"
	"testing"
)

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestIndexWaiter(t *testing.T) {
	w := newIndexWaiter(10)
	if !isClosed(w.wait(5)) || !isClosed(w.wait(10)) {
		t.Fatal("wait at or below the current index is not ready at once")
	}
	c11, c12a, c12b, c20 := w.wait(11), w.wait(12), w.wait(12), w.wait(20)
	if isClosed(c11) || isClosed(c12a) || isClosed(c20) {
		t.Fatal("wait above the current index is ready early")
	}
	w.reached(11)
	if !isClosed(c11) || isClosed(c12a) || isClosed(c12b) {
		t.Fatal("reached(11) woke the wrong waiters")
	}
	// Going backwards is ignored.
	w.reached(5)
	if !isClosed(w.wait(11)) {
		t.Fatal("reached(5) lowered the index")
	}
	w.reached(15)
	if !isClosed(c12a) || !isClosed(c12b) || isClosed(c20) {
		t.Fatal("reached(15) woke the wrong waiters")
	}
	w.reached(15) // twice: closing again would panic
	w.reached(20)
	if !isClosed(c20) {
		t.Fatal("reached(20) did not wake its waiter")
	}
	w.mu.Lock()
	left := len(w.mu.waiters)
	w.mu.Unlock()
	if left != 0 {
		t.Errorf("%d targets still registered", left)
	}
}

func TestIndexWaiterConcurrent(t *testing.T) {
	w := newIndexWaiter(0)
	const n = 200
	var wg sync.WaitGroup
	for i := uint64(1); i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-w.wait(i)
		}()
	}
	for i := uint64(1); i <= n; i++ {
		w.reached(i)
	}
	wg.Wait() // hangs (and the test times out) if a waiter is missed
}

func TestWaitRegistry(t *testing.T) {
	w := newWaitRegistry()
	errA := errors.New("a")

	ch := w.register(1)
	w.trigger(1, result{err: errA})
	if r := <-ch; r.err != errA {
		t.Errorf("got %v, want %v", r.err, errA)
	}
	// A second trigger, or one for an unknown ID, is a no-op and never
	// blocks.
	w.trigger(1, result{})
	w.trigger(99, result{})

	ch = w.register(2)
	w.cancel(2)
	w.trigger(2, result{})
	select {
	case r := <-ch:
		t.Errorf("cancelled waiter got %v", r)
	default:
	}

	// IDs in the same shard do not see each other's results.
	a, b := w.register(3), w.register(3+16)
	w.trigger(3+16, result{resp: "b"})
	w.trigger(3, result{resp: "a"})
	if ra, rb := <-a, <-b; ra.resp != "a" || rb.resp != "b" {
		t.Errorf("got %v and %v, want a and b", ra.resp, rb.resp)
	}
	for i := range w.shards {
		if n := len(w.shards[i].m); n != 0 {
			t.Errorf("shard %d holds %d waiters", i, n)
		}
	}
}

func TestWaitRegistryConcurrent(t *testing.T) {
	w := newWaitRegistry()
	const n = 1000
	var wg sync.WaitGroup
	for i := uint64(0); i < n; i++ {
		ch := w.register(i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			if r := <-ch; r.resp != i {
				t.Errorf("waiter %d got %v", i, r.resp)
			}
		}()
		go func() {
			defer wg.Done()
			w.trigger(i, result{resp: i})
		}()
	}
	wg.Wait()
}
