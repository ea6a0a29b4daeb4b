package main

import (
	"slices"
	"strings"
	"testing"
)

func TestKeyspace(t *testing.T) {
	ks, err := newKeyspace(8, 200, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "00000000"}, {7, "00000007"}, {199, "00000199"}} {
		if got := ks.key(tc.n); got != tc.want {
			t.Errorf("key(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	// Sequential keys wrap around the key space.
	var got []int
	for i := 198; i < 202; i++ {
		got = append(got, ks.index(i))
	}
	if want := []int{198, 199, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("sequential indexes %v, want %v", got, want)
	}
	// Keys sort as their numbers do, so the key space is one range.
	if !(ks.key(9) < ks.key(10) && ks.key(99) < ks.key(100)) {
		t.Error("keys do not sort in numeric order")
	}

	random, err := newKeyspace(3, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if n := random.index(i); n < 0 || n >= 5 {
			t.Fatalf("random index %d outside [0, 5)", n)
		}
	}
}

func TestKeyspaceRejects(t *testing.T) {
	for _, tc := range []struct {
		size, space int
		want        string
	}{
		{0, 1, "--key-size"},
		{8, 0, "--key-space-size"},
		{2, 101, "needs keys of 3 digits"}, // key 100
	} {
		_, err := newKeyspace(tc.size, tc.space, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("newKeyspace(%d, %d) = %v, want an error about %q", tc.size, tc.space, err, tc.want)
		}
	}
	// The largest key space that fits: keys 00…99.
	if _, err := newKeyspace(2, 100, false); err != nil {
		t.Errorf("newKeyspace(2, 100): %v", err)
	}
}

func TestValue(t *testing.T) {
	for _, n := range []int{0, 1, 100} {
		if v := value(n); len(v) != n {
			t.Errorf("len(value(%d)) = %d", n, len(v))
		}
	}
}
