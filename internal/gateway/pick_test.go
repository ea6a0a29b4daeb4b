package gateway

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// newPicker builds a picker over eps whose random numbers come from a
// fixed seed.
func newPicker(eps ...Endpoint) *picker {
	r := rand.New(rand.NewPCG(1, 2))
	pk := &picker{intn: r.IntN}
	for _, ep := range eps {
		pk.eps = append(pk.eps, &endpoint{Endpoint: ep})
	}
	return pk
}

// count picks n times at now and counts the picks per address.
func count(pk *picker, now time.Time, n int) map[string]int {
	c := map[string]int{}
	for range n {
		ep := pk.pick(now, nil)
		if ep == nil {
			c["<nil>"]++
			continue
		}
		c[ep.Addr]++
	}
	return c
}

// fail marks the endpoint at addr failed until until.
func fail(pk *picker, addr string, until time.Time) {
	for _, ep := range pk.eps {
		if ep.Addr == addr {
			ep.failUntil = until
		}
	}
}

func within(t *testing.T, what string, got, lo, hi int) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s: %d picks, want %d..%d", what, got, lo, hi)
	}
}

func TestPickPriorityAndWeight(t *testing.T) {
	now := time.Unix(1000, 0)
	pk := newPicker(
		Endpoint{Addr: "backup:1", Priority: 10, Weight: 50},
		Endpoint{Addr: "a:1", Priority: 1, Weight: 3},
		Endpoint{Addr: "b:1", Priority: 1, Weight: 1},
	)
	const n = 20000
	c := count(pk, now, n)
	if c["backup:1"] != 0 || c["<nil>"] != 0 {
		t.Fatalf("picks %v: the priority 10 endpoint or nil was picked while priority 1 is live", c)
	}
	// 3:1 by weight; the seed is fixed, the bounds leave room for any seed.
	within(t, "a (weight 3)", c["a:1"], n*72/100, n*78/100)
	within(t, "b (weight 1)", c["b:1"], n*22/100, n*28/100)

	// With the best class down the next one takes everything.
	fail(pk, "a:1", now.Add(time.Minute))
	fail(pk, "b:1", now.Add(time.Minute))
	if c := count(pk, now, 100); c["backup:1"] != 100 {
		t.Fatalf("picks %v with priority 1 down, want all on backup", c)
	}
	// One endpoint of the class back: it alone is picked.
	fail(pk, "b:1", time.Time{})
	if c := count(pk, now, 100); c["b:1"] != 100 {
		t.Fatalf("picks %v, want all on b", c)
	}
	// Re-probe: once the retry delay has passed, a counts again.
	if c := count(pk, now.Add(time.Minute), 1000); c["a:1"] == 0 || c["backup:1"] != 0 {
		t.Fatalf("picks %v after the retry delay, want a back and no backup", c)
	}
}

// scripted returns the given numbers in turn, checking each bound.
func scripted(t *testing.T, calls ...[2]int) func(int) int {
	return func(n int) int {
		t.Helper()
		if len(calls) == 0 {
			t.Fatalf("unexpected intn(%d)", n)
		}
		c := calls[0]
		calls = calls[1:]
		if c[0] != n {
			t.Fatalf("intn(%d), want intn(%d)", n, c[0])
		}
		return c[1]
	}
}

func TestPickWeightBoundaries(t *testing.T) {
	// Weights 3 and 1: draws 0..2 are a's, 3 is b's — no off-by-one.
	pk := newPicker(Endpoint{Addr: "a:1", Weight: 3}, Endpoint{Addr: "b:1", Weight: 1})
	pk.intn = scripted(t, [2]int{4, 0}, [2]int{4, 2}, [2]int{4, 3})
	for i, want := range []string{"a:1", "a:1", "b:1"} {
		if got := pk.pick(time.Time{}, nil); got == nil || got.Addr != want {
			t.Fatalf("pick %d: %v, want %s", i, got, want)
		}
	}
}

func TestPickWeightZeroFallback(t *testing.T) {
	now := time.Unix(1000, 0)
	pk := newPicker(
		Endpoint{Addr: "w:1", Weight: 10},
		Endpoint{Addr: "z1:1"},
		Endpoint{Addr: "z2:1"},
		Endpoint{Addr: "low:1", Priority: 1}, // another class: never
	)
	const n = 20000
	c := count(pk, now, n)
	if c["low:1"] != 0 {
		t.Fatalf("picks %v: lower priority picked", c)
	}
	// About 1 in 100 goes to the weight-0 endpoints, shared round robin.
	within(t, "weight-0 endpoints", c["z1:1"]+c["z2:1"], n/200, n*2/100)
	if d := c["z1:1"] - c["z2:1"]; d < -1 || d > 1 {
		t.Errorf("weight-0 picks %d and %d, want round robin", c["z1:1"], c["z2:1"])
	}

	// The draw that selects them is intn(100) == 0, then round robin.
	pk.intn = scripted(t, [2]int{100, 0}, [2]int{100, 0}, [2]int{100, 1}, [2]int{10, 9})
	got := []string{pk.pick(now, nil).Addr, pk.pick(now, nil).Addr, pk.pick(now, nil).Addr}
	if got[0] == got[1] || !strings.HasPrefix(got[0], "z") || !strings.HasPrefix(got[1], "z") || got[2] != "w:1" {
		t.Fatalf("picks %v, want z1 and z2 in turn, then w", got)
	}

	// With the weighted one failed, the class has no weight: round robin
	// over every live endpoint, the other priority included (etcd's rule).
	fail(pk, "w:1", now.Add(time.Hour))
	pk.intn = scripted(t)
	c = count(pk, now, 300)
	if c["z1:1"] != 100 || c["z2:1"] != 100 || c["low:1"] != 100 {
		t.Fatalf("picks %v, want 100 each on z1, z2, low", c)
	}
}

func TestPickRoundRobinAndSkips(t *testing.T) {
	now := time.Unix(1000, 0)
	pk := newPicker(plain("a:1", "b:1", "c:1")...)
	pk.intn = scripted(t) // plain endpoints draw no random number
	var got []string
	for range 6 {
		got = append(got, pk.pick(now, nil).Addr)
	}
	if want := "a:1 b:1 c:1 a:1 b:1 c:1"; strings.Join(got, " ") != want {
		t.Fatalf("picks %v, want %s", got, want)
	}

	// Failed and already-tried endpoints are skipped; none left is nil.
	fail(pk, "b:1", now.Add(time.Second))
	tried := map[*endpoint]bool{}
	var order []string
	for {
		ep := pk.pick(now, tried)
		if ep == nil {
			break
		}
		tried[ep] = true
		order = append(order, ep.Addr)
	}
	if want := "a:1 c:1"; strings.Join(order, " ") != want {
		t.Fatalf("tries %v, want %s", order, want)
	}
	// Weighted endpoints skip tried ones too.
	wk := newPicker(Endpoint{Addr: "x:1", Weight: 1}, Endpoint{Addr: "y:1", Weight: 1})
	first := wk.pick(now, nil)
	second := wk.pick(now, map[*endpoint]bool{first: true})
	if second == nil || second == first {
		t.Fatalf("second try %v after %v", second, first)
	}
	if ep := wk.pick(now, map[*endpoint]bool{first: true, second: true}); ep != nil {
		t.Fatalf("pick %v with every endpoint tried", ep)
	}
}
