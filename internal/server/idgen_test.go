package server

import (
	"sync"
	"testing"
	"time"
)

func TestIDGeneratorUnique(t *testing.T) {
	const (
		goroutines = 8
		each       = 5000
	)
	now := time.Unix(1700000000, 0)
	gens := []*idGenerator{
		newIDGenerator(0x1234, now),
		newIDGenerator(0xabcd0000_00001235, now), // other member, same clock
	}
	var mu sync.Mutex
	seen := make(map[uint64]bool, 2*goroutines*each)
	var wg sync.WaitGroup
	for _, g := range gens {
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids := make([]uint64, 0, each)
				for range each {
					ids = append(ids, g.next())
				}
				mu.Lock()
				defer mu.Unlock()
				for _, id := range ids {
					if seen[id] {
						t.Errorf("duplicate id %x", id)
						return
					}
					seen[id] = true
				}
			}()
		}
	}
	wg.Wait()
	if len(seen) != 2*goroutines*each {
		t.Errorf("%d ids, want %d", len(seen), 2*goroutines*each)
	}
}

func TestIDGeneratorLayout(t *testing.T) {
	now := time.UnixMilli(0x12_3456_789a)
	g := newIDGenerator(0xffff_ffff_0000_beef, now)
	id := g.next()
	if got := id >> idSufBits; got != 0xbeef {
		t.Errorf("member bits = %x, want beef (the low 16 bits of the member ID)", got)
	}
	if got := (id >> idCntBits) & (1<<idTsBits - 1); got != 0x12_3456_789a {
		t.Errorf("timestamp bits = %x, want 123456789a", got)
	}
	if got := id & (1<<idCntBits - 1); got != 1 {
		t.Errorf("counter = %d, want 1", got)
	}
	// The counter carries into the timestamp, never into the member bits.
	for range 1 << idCntBits {
		id = g.next()
	}
	if id>>idSufBits != 0xbeef {
		t.Errorf("after 256 ids the member bits are %x", id>>idSufBits)
	}
}
