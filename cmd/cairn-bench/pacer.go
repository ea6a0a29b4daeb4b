package main

import (
	"context"
	"sync"
	"time"
)

// pacer spreads requests evenly in time, at most rate per second over all
// goroutines that share it. It hands out one start time per request, each
// interval after the last; a goroutine that comes late gets "now", and the
// time lost is not made up with a burst, so the rate is a ceiling. A nil
// *pacer does not limit.
type pacer struct {
	interval time.Duration

	mu struct {
		sync.Mutex
		next time.Time // protected by mu; the earliest start of the next request
	}
}

// newPacer returns a pacer of rate requests per second, or nil for an
// unlimited rate (0, or so high that the interval rounds to nothing).
func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return nil
	}
	interval := time.Duration(float64(time.Second) / rate)
	if interval <= 0 {
		return nil
	}
	return &pacer{interval: interval}
}

// reserve returns the start time of one more request asked for at now.
func (p *pacer) reserve(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.mu.next
	if at.Before(now) {
		at = now
	}
	p.mu.next = at.Add(p.interval)
	return at
}

// wait blocks until the caller may send its next request, or ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return ctx.Err()
	}
	now := time.Now()
	d := p.reserve(now).Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
