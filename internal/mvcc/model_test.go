package mvcc

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"testing"

	"github.com/cairn-db/cairn/internal/storage"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// model is a plain in-memory rendering of etcd's MVCC semantics: the whole
// history of every key, the current and compaction revisions, and the
// event log.
type model struct {
	hist    map[string][]mver // per key, oldest first
	rev     int64
	compact int64
	events  []*mvccpb.Event
}

type mver struct {
	main, sub int64
	kv        *mvccpb.KeyValue // nil for a tombstone
}

func newModel() *model { return &model{hist: map[string][]mver{}, rev: 1, compact: -1} }

// get is key's live version at or below rev (any sub revision).
func (m *model) get(key string, rev int64) *mvccpb.KeyValue {
	h := m.hist[key]
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].main <= rev {
			return h[i].kv
		}
	}
	return nil
}

func (m *model) keys() []string {
	ks := make([]string, 0, len(m.hist))
	for k := range m.hist {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func inRange(k string, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return k == string(key)
	case isFromKey(end):
		return k >= string(key)
	default:
		return k >= string(key) && k < string(end)
	}
}

func (m *model) rangeAt(key, end []byte, rev int64) []*mvccpb.KeyValue {
	var out []*mvccpb.KeyValue
	for _, k := range m.keys() {
		if !inRange(k, key, end) {
			continue
		}
		if kv := m.get(k, rev); kv != nil {
			out = append(out, kv)
		}
	}
	return out
}

// mtxn is a write txn on the model.
type mtxn struct {
	m   *model
	sub int64
	evs []*mvccpb.Event
}

func (t *mtxn) rev() int64 {
	if t.sub > 0 {
		return t.m.rev + 1
	}
	return t.m.rev
}

func (t *mtxn) put(key, value []byte, lease int64) *mvccpb.KeyValue {
	m, rev := t.m, t.m.rev+1
	cur := m.get(string(key), rev)
	kv := &mvccpb.KeyValue{Key: key, Value: value, CreateRevision: rev, ModRevision: rev, Version: 1, Lease: lease}
	var prev *mvccpb.KeyValue
	if cur != nil {
		kv.CreateRevision, kv.Version = cur.CreateRevision, cur.Version+1
		prev = m.get(string(key), rev-1)
	}
	m.hist[string(key)] = append(m.hist[string(key)], mver{rev, t.sub, kv})
	t.sub++
	t.evs = append(t.evs, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv, PrevKv: prev})
	return cur
}

func (t *mtxn) del(key, end []byte) []*mvccpb.KeyValue {
	m, rev := t.m, t.m.rev+1
	kvs := m.rangeAt(key, end, t.rev())
	for _, kv := range kvs {
		k := string(kv.Key)
		m.hist[k] = append(m.hist[k], mver{rev, t.sub, nil})
		t.sub++
		t.evs = append(t.evs, &mvccpb.Event{
			Type:   mvccpb.Event_DELETE,
			Kv:     &mvccpb.KeyValue{Key: kv.Key, ModRevision: rev},
			PrevKv: m.get(k, rev-1),
		})
	}
	return kvs
}

func (t *mtxn) end() {
	if t.sub > 0 {
		t.m.rev++
		t.m.events = append(t.m.events, t.evs...)
	}
}

func (m *model) eventsFrom(from, to int64, limit int) ([]*mvccpb.Event, error) {
	if from < m.compact {
		return nil, ErrCompacted
	}
	var out []*mvccpb.Event
	last := int64(-1)
	for _, ev := range m.events {
		r := ev.Kv.ModRevision
		if r < from || r > to {
			continue
		}
		if r == m.compact {
			// Only kept puts, without prev_kv, at the compaction revision.
			if ev.Type == mvccpb.Event_DELETE {
				continue
			}
			ev = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
		}
		if limit > 0 && len(out) >= limit && r != last {
			break
		}
		last = r
		out = append(out, ev)
	}
	return out, nil
}

var modelKeys = [][]byte{
	[]byte("a"), []byte("a\x00"), []byte("a\x00\x00"), []byte("ab"), []byte("b"),
	[]byte("\x00"), []byte("b\xff"), []byte("c"), []byte("cc"), []byte("d"),
}

func randKey(r *rand.Rand) []byte { return modelKeys[r.Intn(len(modelKeys))] }

func randEnd(r *rand.Rand, key []byte) []byte {
	switch r.Intn(4) {
	case 0:
		return nil
	case 1:
		return []byte{0}
	default:
		return randKey(r)
	}
}

func sameKVs(t *testing.T, what string, got, want []*mvccpb.KeyValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d kvs %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("%s: kv %d: got %v, want %v", what, i, got[i], want[i])
		}
	}
}

func sameEvents(t *testing.T, what string, got, want []*mvccpb.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d events, want %d\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("%s: event %d: got %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestModel runs thousands of random operations against the store and the
// model, and compares every answer, across compactions and reopens.
func TestModel(t *testing.T) {
	seeds := []int64{1, 2, 3}
	ops := 3000
	if testing.Short() {
		ops = 500
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runModel(t, seed, ops)
		})
	}
}

func runModel(t *testing.T, seed int64, ops int) {
	r := rand.New(rand.NewSource(seed))
	e := newEnvOpts(t, Options{CompactionBatchLimit: 1 + r.Intn(5)})
	m := newModel()
	var dones []<-chan struct{}
	for i := 0; i < ops; i++ {
		switch op := r.Intn(100); {
		case op < 45: // a write txn of a few operations
			b := e.db.NewIndexedBatch()
			w := e.s.Write(b)
			mt := &mtxn{m: m}
			for n := 1 + r.Intn(4); n > 0; n-- {
				key := randKey(r)
				switch r.Intn(5) {
				case 0, 1, 2:
					val := []byte(fmt.Sprintf("v%d", i))
					lease := int64(r.Intn(3))
					got := w.Put(key, val, lease)
					want := mt.put(key, val, lease)
					if !proto.Equal(got, want) {
						t.Fatalf("op %d: put %q prev: got %v want %v", i, key, got, want)
					}
				case 3:
					end := randEnd(r, key)
					sameKVs(t, fmt.Sprintf("op %d: delete %q-%q", i, key, end), w.DeleteRange(key, end), mt.del(key, end))
				case 4:
					end := randEnd(r, key)
					rr, err := w.Range(key, end, RangeOptions{})
					if err != nil {
						t.Fatal(err)
					}
					want := m.rangeAt(key, end, mt.rev())
					sameKVs(t, fmt.Sprintf("op %d: txn range", i), rr.KVs, want)
					if rr.Rev != mt.rev() {
						t.Fatalf("op %d: txn range rev %d want %d", i, rr.Rev, mt.rev())
					}
				}
			}
			evs := w.End()
			mt.end()
			sameEvents(t, fmt.Sprintf("op %d: txn events", i), evs, mt.evs[:len(evs)])
			if len(evs) != len(mt.evs) && m.rev == e.s.w.lastRev {
				t.Fatalf("op %d: %d events, want %d", i, len(evs), len(mt.evs))
			}
			if err := e.db.Commit(b, storage.NoSync); err != nil {
				t.Fatal(err)
			}
			b.Close()
			e.s.Publish()
			if e.s.Rev() != m.rev {
				t.Fatalf("op %d: rev %d want %d", i, e.s.Rev(), m.rev)
			}
		case op < 75: // a range at some revision
			key := randKey(r)
			end := randEnd(r, key)
			rev := int64(r.Intn(int(m.rev)+3)) - 1
			limit := int64(r.Intn(4))
			rr, err := e.s.Range(key, end, RangeOptions{Rev: rev, Limit: limit})
			var wantErr error
			at := rev
			if at <= 0 {
				at = m.rev
			}
			switch {
			case rev > m.rev:
				wantErr = ErrFutureRev
			case at < m.compact:
				wantErr = ErrCompacted
			}
			if !errors.Is(err, wantErr) || (err != nil && wantErr == nil) {
				t.Fatalf("op %d: range at %d: err %v want %v", i, rev, err, wantErr)
			}
			if err != nil {
				continue
			}
			want := m.rangeAt(key, end, at)
			if rr.Count != len(want) || rr.Rev != m.rev {
				t.Fatalf("op %d: range count %d rev %d, want %d %d", i, rr.Count, rr.Rev, len(want), m.rev)
			}
			if limit > 0 && len(want) > int(limit) {
				want = want[:limit]
			}
			sameKVs(t, fmt.Sprintf("op %d: range %q-%q at %d", i, key, end, rev), rr.KVs, want)
		case op < 85: // events
			from := int64(1 + r.Intn(int(m.rev)+1))
			to := from + int64(r.Intn(5))
			limit := r.Intn(4)
			got, err := e.s.Events(from, to, limit, true)
			want, wantErr := m.eventsFrom(from, min(to, m.rev), limit)
			if !errors.Is(err, wantErr) || (err != nil && wantErr == nil) {
				t.Fatalf("op %d: events from %d: err %v want %v", i, from, err, wantErr)
			}
			sameEvents(t, fmt.Sprintf("op %d: events %d-%d limit %d", i, from, to, limit), got, want)
		case op < 92: // compaction
			rev := m.compact + int64(r.Intn(int(m.rev-m.compact)+2))
			if r.Intn(5) == 0 {
				rev = m.compact - int64(r.Intn(2))
			}
			b := e.db.NewIndexedBatch()
			done, err := e.s.Compact(b, rev)
			switch {
			case rev <= m.compact:
				if !errors.Is(err, ErrCompacted) {
					t.Fatalf("op %d: compact %d (at %d): %v", i, rev, m.compact, err)
				}
			case rev > m.rev:
				if !errors.Is(err, ErrFutureRev) {
					t.Fatalf("op %d: compact %d (rev %d): %v", i, rev, m.rev, err)
				}
			default:
				if err != nil {
					t.Fatalf("op %d: compact %d: %v", i, rev, err)
				}
				m.compact = rev
				dones = append(dones, done)
			}
			if err := e.db.Commit(b, storage.NoSync); err != nil {
				t.Fatal(err)
			}
			b.Close()
			e.s.Publish()
			if r.Intn(2) == 0 {
				for _, d := range dones {
					<-d
				}
				dones = nil
				<-e.s.compacted(m.compact) // also one resumed by a reopen
				checkCompacted(t, e, m)
			}
		case op < 95: // hash stays put through physical compaction
			h1, c1, err := e.s.HashKV(0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dones {
				<-d
			}
			dones = nil
			h2, c2, err := e.s.HashKV(0)
			if err != nil || h1 != h2 || c1 != c2 {
				t.Fatalf("op %d: hash %x/%d then %x/%d (%v)", i, h1, c1, h2, c2, err)
			}
		default:
			e.reopen()
			dones = nil // closed with the old store's compactor, or not
			if e.s.Rev() != m.rev || e.s.pub.Load().compact != m.compact {
				t.Fatalf("op %d: reopened at %d/%d, want %d/%d", i, e.s.Rev(), e.s.pub.Load().compact, m.rev, m.compact)
			}
		}
	}
}

// checkCompacted verifies that physical compaction left exactly the
// versions etcd keeps: above the compaction revision, plus each key's
// newest version at or below it unless that is a tombstone.
func checkCompacted(t *testing.T, e *testEnv, m *model) {
	t.Helper()
	if e.s.FinishedCompactRev() != max(m.compact, 0) {
		t.Fatalf("finished %d, want %d", e.s.FinishedCompactRev(), m.compact)
	}
	var want [][]byte
	for _, k := range m.keys() {
		h := m.hist[k]
		kept := false
		for i := len(h) - 1; i >= 0; i-- {
			v := h[i]
			if v.main > m.compact {
				want = append(want, EncodeVersionKey([]byte(k), v.main, v.sub))
				continue
			}
			if !kept {
				kept = true
				if v.kv != nil {
					want = append(want, EncodeVersionKey([]byte(k), v.main, v.sub))
				}
			}
		}
	}
	it, err := e.db.NewIter(&storage.IterOptions{LowerBound: []byte{storage.PrefixMVCC}, UpperBound: mvccUpper})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var got [][]byte
	for it.First(); it.Valid(); it.Next() {
		got = append(got, slices.Clone(it.Key()))
	}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("after compaction at %d: versions\n got %q\nwant %q", m.compact, got, want)
	}
	// The revision log holds exactly the writes above the compaction, and
	// the puts at the compaction revision that stay their key's newest
	// version (a watch may start at the compaction revision, as in etcd).
	it2, err := e.db.NewIter(&storage.IterOptions{LowerBound: revLogLower, UpperBound: revLogUpper})
	if err != nil {
		t.Fatal(err)
	}
	defer it2.Close()
	n := 0
	for it2.First(); it2.Valid(); it2.Next() {
		main, _, err := decodeRevLogKey(it2.Key())
		if err != nil || main < m.compact {
			t.Fatalf("log entry at %d after compaction at %d (%v)", main, m.compact, err)
		}
		n++
	}
	wantN := 0
	for _, ev := range m.events {
		if ev.Kv.ModRevision > m.compact {
			wantN++
		}
	}
	for _, k := range m.keys() {
		h := m.hist[k]
		for i := len(h) - 1; i >= 0; i-- {
			if v := h[i]; v.main <= m.compact {
				if v.main == m.compact && v.kv != nil {
					wantN++
				}
				break
			}
		}
	}
	if n != wantN {
		t.Fatalf("log holds %d entries, want %d", n, wantN)
	}
}
