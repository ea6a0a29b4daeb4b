package watch

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

var errFakeCompacted = errors.New("fake: required revision has been compacted")

// fakeHistory is an in-memory revision log following the History contract.
type fakeHistory struct {
	mu      sync.Mutex
	evs     []*mvccpb.Event // in revision order
	rev     int64
	compact int64
	kvs     map[string]*mvccpb.KeyValue
	// keepCompactRev serves the events of the compaction revision itself
	// (etcd's rule) instead of failing from <= CompactRev.
	keepCompactRev bool
}

func newFakeHistory() *fakeHistory {
	return &fakeHistory{kvs: make(map[string]*mvccpb.KeyValue)}
}

func (f *fakeHistory) Rev() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rev
}

func (f *fakeHistory) CompactRev() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.compact
}

func (f *fakeHistory) Events(from, to int64, limit int, prevKV bool) ([]*mvccpb.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if from < f.compact || (from == f.compact && !f.keepCompactRev) {
		return nil, fmt.Errorf("fake: events from %d: %w", from, errFakeCompacted)
	}
	i := sort.Search(len(f.evs), func(i int) bool { return f.evs[i].Kv.ModRevision >= from })
	var out []*mvccpb.Event
	for ; i < len(f.evs); i++ {
		ev := f.evs[i]
		rev := ev.Kv.ModRevision
		if rev > to {
			break
		}
		if limit > 0 && len(out) >= limit && out[len(out)-1].Kv.ModRevision != rev {
			break
		}
		// A real store decodes fresh events; so does the fake.
		c := &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
		if prevKV {
			c.PrevKv = ev.PrevKv
		}
		out = append(out, c)
	}
	return out, nil
}

// op is one write of a transaction.
type op struct {
	del      bool
	key, val string
}

func put(k, v string) op { return op{key: k, val: v} }
func del(k string) op    { return op{del: true, key: k} }

// commit applies ops as one revision and returns it with its events (or
// just the revision if nothing changed, as a delete of a missing key).
func (f *fakeHistory) commit(ops ...op) (int64, []*mvccpb.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rev := f.rev + 1
	var evs []*mvccpb.Event
	for _, o := range ops {
		prev := f.kvs[o.key]
		if o.del {
			if prev == nil {
				continue
			}
			delete(f.kvs, o.key)
			evs = append(evs, &mvccpb.Event{
				Type:   mvccpb.Event_DELETE,
				Kv:     &mvccpb.KeyValue{Key: []byte(o.key), ModRevision: rev},
				PrevKv: prev,
			})
			continue
		}
		kv := &mvccpb.KeyValue{Key: []byte(o.key), Value: []byte(o.val), CreateRevision: rev, ModRevision: rev, Version: 1}
		if prev != nil {
			kv.CreateRevision = prev.CreateRevision
			kv.Version = prev.Version + 1
		}
		f.kvs[o.key] = kv
		evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv, PrevKv: prev})
	}
	if len(evs) == 0 {
		return f.rev, nil
	}
	f.rev = rev
	f.evs = append(f.evs, evs...)
	return rev, evs
}

func (f *fakeHistory) compactTo(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compact = rev
	keep := rev + 1
	if f.keepCompactRev {
		keep = rev
	}
	i := sort.Search(len(f.evs), func(i int) bool { return f.evs[i].Kv.ModRevision >= keep })
	f.evs = append([]*mvccpb.Event(nil), f.evs[i:]...)
}

// all returns every event still in the log.
func (f *fakeHistory) all() []*mvccpb.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*mvccpb.Event(nil), f.evs...)
}

// env is a hub over a fake history.
type env struct {
	t    *testing.T
	hist *fakeHistory
	hub  *Hub
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{t: t, hist: newFakeHistory()}
	if opts.ResyncInterval == 0 {
		opts.ResyncInterval = 5 * time.Millisecond
	}
	if opts.VictimRetryInterval == 0 {
		opts.VictimRetryInterval = time.Millisecond
	}
	if opts.ProgressNotifyInterval == 0 {
		opts.ProgressNotifyInterval = time.Hour // tests tick by hand
	}
	e.hub = NewHub(e.hist, opts)
	t.Cleanup(e.hub.Close)
	return e
}

// write commits ops to the history and notifies the hub.
func (e *env) write(ops ...op) int64 {
	rev, evs := e.hist.commit(ops...)
	if evs != nil {
		e.hub.Notify(rev, evs)
	}
	return rev
}

// preload commits n revisions to the history without Notify, as a
// snapshot would, then tells the hub with Restore.
func (e *env) preload(n int, key func(i int) string) {
	for i := range n {
		e.hist.commit(put(key(i), fmt.Sprint(i)))
	}
	e.hub.Restore(e.hist.Rev())
}

const waitFor = 10 * time.Second

// next returns the stream's next non-stale response.
func next(t *testing.T, s *Stream) Response {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case r, ok := <-s.Chan():
			if !ok {
				t.Fatalf("stream closed")
			}
			if r.Stale() {
				continue
			}
			return r
		case <-timeout:
			t.Fatalf("no response within %v", waitFor)
		}
	}
}

// until reads responses until one satisfies stop (included in the result).
func until(t *testing.T, s *Stream, stop func(Response) bool) []Response {
	t.Helper()
	var out []Response
	for {
		r := next(t, s)
		out = append(out, r)
		if stop(r) {
			return out
		}
	}
}

// syncedTo reads until the stream-wide progress response at rev.
func syncedTo(t *testing.T, s *Stream, rev int64) []Response {
	t.Helper()
	s.RequestProgress()
	var out []Response
	for {
		r := next(t, s)
		if r.WatchID == ProgressID {
			if r.Revision >= rev {
				return out
			}
			s.RequestProgress()
			continue
		}
		out = append(out, r)
	}
}

type evKey struct {
	rev  int64
	key  string
	typ  mvccpb.Event_EventType
	prev bool
}

func keysOf(evs []*mvccpb.Event) []evKey {
	out := make([]evKey, 0, len(evs))
	for _, ev := range evs {
		out = append(out, evKey{ev.Kv.ModRevision, string(ev.Kv.Key), ev.Type, ev.PrevKv != nil})
	}
	return out
}

// expected filters the log as watcher req should see it through rev to.
func expected(log []*mvccpb.Event, req WatchRequest, from, to int64) []evKey {
	kind, key, end, err := keyRange(req.Key, req.End)
	if err != nil {
		panic(err)
	}
	w := &watcher{kind: kind, key: key, end: end, noPut: req.NoPut, noDelete: req.NoDelete, prevKV: req.PrevKV, minRev: from}
	var out []evKey
	for _, ev := range log {
		r := ev.Kv.ModRevision
		if r < from || r > to || !naiveContains(w, string(ev.Kv.Key)) || !w.wants(ev) {
			continue
		}
		out = append(out, evKey{r, string(ev.Kv.Key), ev.Type, req.PrevKV && ev.PrevKv != nil})
	}
	return out
}

func naiveContains(w *watcher, k string) bool {
	switch w.kind {
	case kindKey:
		return k == w.key
	case kindFromKey:
		return k >= w.key
	default:
		return k >= w.key && k < w.end
	}
}

// checkResponses verifies the responses of one watcher: events in revision
// order, no revision split between responses, header revisions that never go
// back and cover their events, and the flattened events equal to want.
func checkResponses(t *testing.T, id int64, rs []Response, want []evKey) {
	t.Helper()
	var got []evKey
	var lastHdr, lastRev int64
	for i, r := range rs {
		if r.WatchID != id {
			continue
		}
		if r.Revision < lastHdr {
			t.Fatalf("watcher %d: response %d header revision %d < previous %d", id, i, r.Revision, lastHdr)
		}
		lastHdr = r.Revision
		for j, ev := range r.Events {
			rev := ev.Kv.ModRevision
			if j == 0 && rev == lastRev && lastRev != 0 {
				t.Fatalf("watcher %d: revision %d split across responses", id, rev)
			}
			if rev < lastRev {
				t.Fatalf("watcher %d: revision %d after %d", id, rev, lastRev)
			}
			if rev > r.Revision {
				t.Fatalf("watcher %d: event revision %d above header %d", id, rev, r.Revision)
			}
			lastRev = rev
		}
		got = append(got, keysOf(r.Events)...)
	}
	if len(got) != len(want) {
		t.Fatalf("watcher %d: got %d events, want %d\ngot  %v\nwant %v", id, len(got), len(want), trim(got), trim(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("watcher %d: event %d = %v, want %v", id, i, got[i], want[i])
		}
	}
}

func trim(k []evKey) []evKey {
	if len(k) > 20 {
		return k[:20]
	}
	return k
}
