package main

import (
	"context"
	"testing"
	"time"
)

func TestPacerReserve(t *testing.T) {
	p := newPacer(100) // one request per 10ms
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, tc := range []struct {
		now  time.Duration // asked at t0+now
		want time.Duration // may start at t0+want
	}{
		{0, 0},       // the first goes at once
		{0, 10 * ms}, // those asked at the same time queue up
		{0, 20 * ms},
		{25 * ms, 30 * ms},   // asked before its slot: waits for it
		{100 * ms, 100 * ms}, // asked late: goes at once…
		{100 * ms, 110 * ms}, // …and the time lost is not made up by a burst
	} {
		if got := p.reserve(t0.Add(tc.now)).Sub(t0); got != tc.want {
			t.Errorf("reserve at +%v = +%v, want +%v", tc.now, got, tc.want)
		}
	}
}

func TestPacerUnlimited(t *testing.T) {
	for _, rate := range []float64{0, -1, 1e12} {
		if p := newPacer(rate); p != nil {
			t.Errorf("newPacer(%v) = %+v, want nil (unlimited)", rate, p)
		}
	}
	var p *pacer
	if err := p.wait(context.Background()); err != nil {
		t.Fatalf("nil pacer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.wait(ctx); err == nil {
		t.Fatal("a nil pacer waited through a cancelled context")
	}
}

func TestPacerWaitStopsAtCancel(t *testing.T) {
	p := newPacer(0.001) // one request per 1000s: the second would wait long
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.wait(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := p.wait(ctx); err == nil {
		t.Fatal("wait returned nil after cancel")
	}
}
