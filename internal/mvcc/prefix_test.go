package mvcc

import (
	"context"
	"testing"
)

// Point reads (a txn's current version, a single-key Range, an event's
// PrevKv) seek by storage prefix, so pebble consults the tables' bloom
// filters. This checks they find every version once it is in tables, for
// user keys that exercise the escaping (empty, zero bytes, prefixes of
// each other).
func TestPointReadsFromTables(t *testing.T) {
	e := newEnv(t)
	keys := []string{"", "\x00", "\x00\x00", "a", "a\x00", "a\x00b", "ab", "\xff", "\xff\xff\x00"}
	for round := range 3 {
		e.apply(func(tx *WriteTxn) {
			for _, k := range keys {
				tx.Put([]byte(k), []byte{byte('0' + round)}, 0)
			}
		})
		// Move everything out of the memtable into tables.
		if err := e.db.CompactRange(context.Background(), []byte{0}, []byte{0xff}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		rr, err := e.s.Range([]byte(k), nil, RangeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rr.KVs) != 1 || string(rr.KVs[0].Value) != "2" || rr.KVs[0].Version != 3 {
			t.Errorf("Range(%q) = %v, want version 3 with value 2", k, rr.KVs)
		}
		old, err := e.s.Range([]byte(k), nil, RangeOptions{Rev: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(old.KVs) != 1 || string(old.KVs[0].Value) != "0" {
			t.Errorf("Range(%q) at rev 2 = %v, want value 0", k, old.KVs)
		}
	}
	// A write finds the current version in the tables: version 4, and its
	// event's PrevKv is version 3.
	evs := e.apply(func(tx *WriteTxn) {
		for _, k := range keys {
			if prev := tx.Put([]byte(k), []byte("3"), 0); prev == nil || string(prev.Value) != "2" {
				t.Errorf("Put(%q) prev = %v, want value 2", k, prev)
			}
		}
	})
	for _, ev := range evs {
		if ev.Kv.Version != 4 || ev.PrevKv == nil || ev.PrevKv.Version != 3 {
			t.Errorf("event for %q: version %d, prev %v", ev.Kv.Key, ev.Kv.Version, ev.PrevKv)
		}
	}
	if err := e.db.CompactRange(context.Background(), []byte{0}, []byte{0xff}); err != nil {
		t.Fatal(err)
	}
	logged, err := e.s.Events(5, 5, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != len(keys) {
		t.Fatalf("Events(5, 5) gave %d events, want %d", len(logged), len(keys))
	}
	for _, ev := range logged {
		if string(ev.Kv.Value) != "3" || ev.PrevKv == nil || string(ev.PrevKv.Value) != "2" {
			t.Errorf("logged event for %q: %v", ev.Kv.Key, ev)
		}
	}
}
