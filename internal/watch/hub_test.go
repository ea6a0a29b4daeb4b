package watch

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSyncedRevisionsStayWhole(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.hub.NewStream()
	req := WatchRequest{Key: []byte("a"), End: []byte("b")}
	id, err := s.Watch(req)
	if err != nil {
		t.Fatal(err)
	}
	e.write(put("a1", "x"))
	e.write(put("zz", "unrelated"))
	e.write(put("a1", "y"), put("a2", "y"), put("b", "out of range"))
	last := e.write(del("a1"), del("a2"))

	rs := syncedTo(t, s, last)
	if len(rs) != 3 {
		t.Fatalf("got %d responses, want one per matching revision (3): %v", len(rs), rs)
	}
	for _, r := range rs {
		if r.Revision != r.Events[0].Kv.ModRevision {
			t.Fatalf("synced response header %d, want its revision %d", r.Revision, r.Events[0].Kv.ModRevision)
		}
	}
	checkResponses(t, id, rs, expected(e.hist.all(), req, 1, last))
}

func TestCatchUpFromPastInChunks(t *testing.T) {
	e := newEnv(t, Options{SyncEvents: 3})
	e.preload(40, func(i int) string { return fmt.Sprintf("k%02d", i%7) })
	s := e.hub.NewStream()
	req := WatchRequest{Key: []byte("k"), End: []byte("l"), StartRev: 5}
	id, err := s.Watch(req)
	if err != nil {
		t.Fatal(err)
	}
	// Writes keep coming while the watcher catches up.
	var last int64
	for i := range 40 {
		last = e.write(put(fmt.Sprintf("k%02d", i%5), "live"))
	}
	rs := syncedTo(t, s, last)
	checkResponses(t, id, rs, expected(e.hist.all(), req, 5, last))
}

// TestRandomized runs writers against many watchers with random ranges,
// start revisions, filters and tiny channels, and checks that every watcher
// gets exactly its events, in order, whole revisions at a time.
func TestRandomized(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			testRandomized(t, seed)
		})
	}
}

func testRandomized(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	e := newEnv(t, Options{ChanBuffer: 2, SyncEvents: 7, SyncWatchers: 3})
	keys := []string{"a", "ab", "abc", "b", "ba", "c", "d", "\x00", "\xff"}
	randKey := func() string { return keys[rng.IntN(len(keys))] }
	e.preload(30, func(int) string { return randKey() })

	const streams, perStream, writes = 4, 6, 300
	type watched struct {
		id  int64
		req WatchRequest
	}
	type streamState struct {
		s  *Stream
		ws []watched
		rs []Response
	}
	var ss []*streamState
	var reqs [][]WatchRequest
	for range streams {
		var list []WatchRequest
		for range perStream {
			req := WatchRequest{Key: []byte(randKey()), NoPut: rng.IntN(6) == 0, NoDelete: rng.IntN(6) == 0, PrevKV: rng.IntN(2) == 0}
			switch rng.IntN(4) {
			case 1:
				req.End = []byte{0}
			case 2:
				req.End = []byte(string(req.Key) + "\xff")
			}
			switch rng.IntN(3) {
			case 0:
				req.StartRev = 1 + rng.Int64N(30)
			case 1:
				req.StartRev = 30 + rng.Int64N(writes+20) // may be in the future
			}
			list = append(list, req)
		}
		reqs = append(reqs, list)
	}

	// Each stream has a slow consumer; writers never wait for them.
	var wg sync.WaitGroup
	for i := range streams {
		st := &streamState{s: e.hub.NewStream()}
		ss = append(ss, st)
		for _, req := range reqs[i] {
			id, err := st.s.Watch(req)
			if err != nil {
				t.Fatal(err)
			}
			st.ws = append(st.ws, watched{id, req})
		}
	}
	// Consumers read slowly while the writes go on; Notify never waits.
	done := make(chan struct{})
	var last int64
	for i, st := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			crng := rand.New(rand.NewPCG(seed, uint64(i)))
			for {
				select {
				case r := <-st.s.Chan():
					if !r.Stale() {
						st.rs = append(st.rs, r)
					}
					if crng.IntN(4) == 0 {
						time.Sleep(time.Duration(crng.IntN(200)) * time.Microsecond)
					}
				case <-done:
					st.rs = append(st.rs, syncedTo(t, st.s, last)...)
					return
				}
			}
		}()
	}
	for i := range writes {
		n := 1 + rng.IntN(3)
		var ops []op
		for range n {
			if rng.IntN(4) == 0 {
				ops = append(ops, del(randKey()))
			} else {
				ops = append(ops, put(randKey(), fmt.Sprint(i)))
			}
		}
		last = e.write(ops...)
	}
	// Reach every future start revision, or progress would wait for it.
	for last < 30+writes+20 {
		last = e.write(put("pad", "x"))
	}
	close(done)
	wg.Wait()
	log := e.hist.all()
	for _, st := range ss {
		for _, w := range st.ws {
			from := w.req.StartRev
			if from == 0 {
				from = 31 // the hub's revision when the watcher was made, + 1
			}
			checkResponses(t, w.id, st.rs, expected(log, w.req, from, last))
		}
	}
}

func TestCompactedStartRevision(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keepCompactRev=%v", keep), func(t *testing.T) {
			e := newEnv(t, Options{})
			e.hist.keepCompactRev = keep
			for i := range 10 {
				e.write(put("k", fmt.Sprint(i)))
			}
			e.hist.compactTo(5)
			first := int64(6)
			if keep {
				first = 5
			}
			s := e.hub.NewStream()
			id, err := s.Watch(WatchRequest{ID: 7, Key: []byte("k"), StartRev: 3})
			if err != nil {
				t.Fatal(err)
			}
			r := next(t, s)
			if r.WatchID != id || r.CompactRevision != first || len(r.Events) != 0 {
				t.Fatalf("got %+v, want compaction response with CompactRevision %d", r, first)
			}
			// Watching from the reported revision works.
			req := WatchRequest{Key: []byte("k"), StartRev: r.CompactRevision}
			id2, err := s.Watch(req)
			if err != nil {
				t.Fatal(err)
			}
			last := e.write(put("k", "after"))
			rs := syncedTo(t, s, last)
			for _, r := range rs {
				if r.WatchID == id {
					t.Fatalf("compacted watcher got %+v", r)
				}
			}
			checkResponses(t, id2, rs, expected(e.hist.all(), req, first, last))
			// The compacted watcher's ID stays taken until canceled, as etcd.
			if _, err := s.Watch(WatchRequest{ID: id, Key: []byte("k")}); !errors.Is(err, ErrDuplicateID) {
				t.Fatalf("reusing compacted ID: %v", err)
			}
			if err := s.Cancel(id); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A watcher that falls behind and then behind a compaction ends with a
// compaction response after what it had already been sent.
func TestVictimOverrunByCompaction(t *testing.T) {
	e := newEnv(t, Options{ChanBuffer: 1})
	s := e.hub.NewStream()
	id, _ := s.Watch(WatchRequest{Key: []byte("k")})
	r1 := e.write(put("k", "1")) // fills the channel
	r2 := e.write(put("k", "2")) // refused: victim
	r3 := e.write(put("k", "3")) // missed while a victim
	e.write(put("other", "x"))
	e.hist.compactTo(r3)

	got := []Response{next(t, s), next(t, s), next(t, s)}
	if got[0].Events[0].Kv.ModRevision != r1 || got[1].Events[0].Kv.ModRevision != r2 {
		t.Fatalf("got %v %v, want revisions %d then %d", got[0], got[1], r1, r2)
	}
	if got[2].WatchID != id || got[2].CompactRevision != r3+1 || got[2].Revision != 0 {
		t.Fatalf("got %+v, want compaction at %d without header revision", got[2], r3+1)
	}
}

func TestSlowConsumerNeverBlocksNotify(t *testing.T) {
	e := newEnv(t, Options{ChanBuffer: 2})
	s := e.hub.NewStream()
	req := WatchRequest{Key: []byte("k"), PrevKV: true}
	id, _ := s.Watch(req)
	other := e.hub.NewStream()
	oid, _ := other.Watch(WatchRequest{Key: []byte("k")})
	// Nobody reads while 500 revisions are published: Notify must return.
	var last int64
	for i := range 500 {
		last = e.write(put("k", fmt.Sprint(i)))
	}
	checkResponses(t, id, syncedTo(t, s, last), expected(e.hist.all(), req, 1, last))
	checkResponses(t, oid, syncedTo(t, other, last), expected(e.hist.all(), WatchRequest{Key: []byte("k")}, 1, last))
}

// Canceling a victim or an unsynced watcher drops it and its queued
// responses, and lets a waiting progress request through.
func TestCancelWhileBehind(t *testing.T) {
	e := newEnv(t, Options{ChanBuffer: 1})
	e.preload(5, func(int) string { return "k" })
	s := e.hub.NewStream()
	keep, _ := s.Watch(WatchRequest{Key: []byte("k")})
	e.write(put("k", "6")) // fills the channel
	e.write(put("k", "7")) // keep is now a victim
	behind, _ := s.Watch(WatchRequest{Key: []byte("k"), StartRev: 1})
	live, _ := s.Watch(WatchRequest{Key: []byte("other")})
	s.RequestProgress() // waits for keep and behind
	if err := s.Cancel(keep); err != nil {
		t.Fatal(err)
	}
	if err := s.Cancel(behind); err != nil {
		t.Fatal(err)
	}
	r := next(t, s) // the 6 for keep is stale and skipped
	if r.WatchID != ProgressID || r.Revision != 7 {
		t.Fatalf("got %+v, want progress at 7", r)
	}
	last := e.write(put("other", "8"))
	if r := next(t, s); r.WatchID != live || r.Revision != last {
		t.Fatalf("got %+v, want the event of %d", r, live)
	}
	if got := s.CreatedRev(live); got != 7 {
		t.Fatalf("CreatedRev = %d, want 7", got)
	}
	if got := e.hub.Rev(); got != last {
		t.Fatalf("Rev = %d, want %d", got, last)
	}
}

func TestFiltersAndPrevKV(t *testing.T) {
	e := newEnv(t, Options{})
	e.write(put("k", "0"))
	reqs := []WatchRequest{
		{Key: []byte("k")},
		{Key: []byte("k"), PrevKV: true},
		{Key: []byte("k"), NoPut: true, PrevKV: true},
		{Key: []byte("k"), NoDelete: true},
		{Key: []byte("k"), StartRev: 1},               // catch-up path
		{Key: []byte("k"), StartRev: 1, PrevKV: true}, // in the same batch
	}
	s := e.hub.NewStream()
	var ids []int64
	for _, req := range reqs {
		id, err := s.Watch(req)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var published []*mvccpb.Event
	for _, o := range []op{put("k", "1"), del("k"), put("k", "2")} {
		rev, evs := e.hist.commit(o)
		for _, ev := range evs {
			if ev.PrevKv != nil {
				published = append(published, ev)
			}
		}
		e.hub.Notify(rev, evs)
	}
	rs := syncedTo(t, s, 4)
	for i, req := range reqs {
		from := req.StartRev
		if from == 0 {
			from = 2
		}
		checkResponses(t, ids[i], rs, expected(e.hist.all(), req, from, 4))
	}
	// Shared events are never modified.
	for _, ev := range published {
		if ev.PrevKv == nil {
			t.Fatalf("published event %v lost its PrevKv", ev)
		}
	}
}

func TestKeyRanges(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.hub.NewStream()
	reqs := []WatchRequest{
		{Key: []byte("foo")},                                 // one key
		{Key: []byte("foo"), End: []byte("fop")},             // prefix
		{Key: []byte("foo"), End: []byte{0}},                 // from key
		{Key: nil, End: []byte{0}},                           // everything
		{Key: []byte("a"), End: []byte("foo")},               // range
		{Key: []byte{}, End: nil},                            // the key "\x00"
		{Key: []byte("foo\x00"), End: []byte("foo\x00\x01")}, // tiny range
	}
	var ids []int64
	for _, req := range reqs {
		id, err := s.Watch(req)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var last int64
	for _, k := range []string{"foo", "foo\x00", "foobar", "fop", "a", "\x00", "zzz", "fo"} {
		last = e.write(put(k, "v"))
	}
	rs := syncedTo(t, s, last)
	for i, req := range reqs {
		checkResponses(t, ids[i], rs, expected(e.hist.all(), req, 1, last))
	}
	for _, bad := range []WatchRequest{
		{Key: []byte("b"), End: []byte("a")},
		{Key: []byte("a"), End: []byte("a")},
	} {
		if _, err := s.Watch(bad); !errors.Is(err, ErrEmptyRange) {
			t.Fatalf("Watch(%q, %q) = %v, want ErrEmptyRange", bad.Key, bad.End, err)
		}
	}
	if _, err := s.Watch(WatchRequest{Key: []byte("a"), StartRev: -1}); !errors.Is(err, ErrInvalidStartRev) {
		t.Fatalf("negative start revision: %v", err)
	}
}

func TestIDsAndCancel(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.hub.NewStream()
	mustWatch := func(req WatchRequest) int64 {
		t.Helper()
		id, err := s.Watch(req)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if id := mustWatch(WatchRequest{Key: []byte("k")}); id != 0 {
		t.Fatalf("first automatic ID = %d, want 0", id)
	}
	mustWatch(WatchRequest{ID: 2, Key: []byte("k")})
	if id := mustWatch(WatchRequest{Key: []byte("k")}); id != 1 {
		t.Fatalf("second automatic ID = %d, want 1", id)
	}
	if id := mustWatch(WatchRequest{Key: []byte("k")}); id != 3 {
		t.Fatalf("automatic ID after explicit 2 = %d, want 3", id)
	}
	if _, err := s.Watch(WatchRequest{ID: 2, Key: []byte("k")}); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("duplicate ID: %v", err)
	}
	if _, err := s.Watch(WatchRequest{ID: -4, Key: []byte("k")}); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("negative ID: %v", err)
	}
	if err := s.Cancel(99); !errors.Is(err, ErrWatcherNotExist) {
		t.Fatalf("Cancel(99) = %v", err)
	}

	// Events queued for watcher 2 before its cancel are stale; the new
	// watcher 2 sees only its own.
	r1 := e.write(put("k", "1"))
	if err := s.Cancel(2); err != nil {
		t.Fatal(err)
	}
	mustWatch(WatchRequest{ID: 2, Key: []byte("k"), NoPut: true})
	r2 := e.write(del("k"))
	for _, r := range syncedTo(t, s, r2) {
		if r.WatchID == 2 && r.Events[0].Kv.ModRevision != r2 {
			t.Fatalf("new watcher 2 got revision %d (stale, from %d)", r.Events[0].Kv.ModRevision, r1)
		}
	}
	if err := s.Cancel(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Cancel(2); !errors.Is(err, ErrWatcherNotExist) {
		t.Fatalf("second Cancel(2) = %v", err)
	}
}

func TestRequestProgress(t *testing.T) {
	e := newEnv(t, Options{SyncEvents: 2})
	e.preload(20, func(i int) string { return fmt.Sprint("k", i%3) })
	s := e.hub.NewStream()

	// No watcher: nothing is sent, as etcd.
	s.RequestProgress()
	id, _ := s.Watch(WatchRequest{Key: []byte("k"), End: []byte("l")})
	s.RequestProgress()
	if r := next(t, s); r.WatchID != ProgressID || r.Revision != 20 || len(r.Events) != 0 {
		t.Fatalf("got %+v, want progress at 20", r)
	}

	// An unsynced watcher defers the progress after its events.
	past, _ := s.Watch(WatchRequest{Key: []byte("k"), End: []byte("l"), StartRev: 1})
	s.RequestProgress()
	rs := until(t, s, func(r Response) bool { return r.WatchID == ProgressID })
	checkResponses(t, past, rs, expected(e.hist.all(), WatchRequest{Key: []byte("k"), End: []byte("l")}, 1, 20))
	if p := rs[len(rs)-1]; p.Revision != 20 {
		t.Fatalf("deferred progress at %d, want 20", p.Revision)
	}
	if err := s.Cancel(past); err != nil {
		t.Fatal(err)
	}

	// A watcher waiting for a future revision defers it until the revision
	// before its start is reached.
	fut, _ := s.Watch(WatchRequest{Key: []byte("x"), StartRev: 23})
	s.RequestProgress()
	e.write(put("k0", "a")) // 21
	e.write(put("x", "a"))  // 22: before fut's start
	rs = until(t, s, func(r Response) bool { return r.WatchID == ProgressID })
	if p := rs[len(rs)-1]; p.Revision != 22 {
		t.Fatalf("progress with a future watcher at %d, want 22", p.Revision)
	}
	for _, r := range rs {
		if r.WatchID == fut {
			t.Fatalf("future watcher got %+v", r)
		}
	}
	_ = id
}

func TestProgressNotify(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.hub.NewStream()
	id, _ := s.Watch(WatchRequest{Key: []byte("k"), ProgressNotify: true})
	quiet, _ := s.Watch(WatchRequest{Key: []byte("q")})

	e.hub.progressTick()
	if r := next(t, s); r.WatchID != id || r.Revision != 0 || len(r.Events) != 0 {
		t.Fatalf("got %+v, want progress for %d", r, id)
	}
	rev := e.write(put("k", "v"))
	if r := next(t, s); r.WatchID != id || len(r.Events) != 1 {
		t.Fatalf("got %+v, want the event", r)
	}
	e.hub.progressTick() // events were sent in this interval: no progress
	e.write(put("q", "v"))
	if r := next(t, s); r.WatchID != quiet {
		t.Fatalf("got %+v, want the event of %d", r, quiet)
	}
	e.hub.progressTick()
	if r := next(t, s); r.WatchID != id || r.Revision != rev+1 || len(r.Events) != 0 {
		t.Fatalf("got %+v, want progress for %d at %d", r, id, rev+1)
	}
}

func TestRestore(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.hub.NewStream()
	req := WatchRequest{Key: []byte("k")}
	id, _ := s.Watch(req)
	e.write(put("k", "1"))
	// A snapshot brings revisions 2..5 without Notify.
	for i := range 4 {
		e.hist.commit(put("k", fmt.Sprint("snap", i)))
	}
	e.hub.Restore(5)
	last := e.write(put("k", "6"))
	checkResponses(t, id, syncedTo(t, s, last), expected(e.hist.all(), req, 1, last))
}

func TestNotifyIgnoresOldRevisions(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.hub.NewStream()
	id, _ := s.Watch(WatchRequest{Key: []byte("k")})
	rev, evs := e.hist.commit(put("k", "1"))
	e.hub.Notify(rev, evs)
	e.hub.Notify(rev, evs) // replayed: ignored
	last := e.write(put("k", "2"))
	checkResponses(t, id, syncedTo(t, s, last), expected(e.hist.all(), WatchRequest{Key: []byte("k")}, 1, last))
}

func TestClose(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.hub.NewStream()
	s.Watch(WatchRequest{Key: []byte("k")})
	s.Watch(WatchRequest{Key: []byte("k"), StartRev: 1})
	e.write(put("k", "1"))

	closed := e.hub.NewStream()
	closed.Watch(WatchRequest{Key: []byte("k")})
	closed.Close()
	closed.Close()
	if _, err := closed.Watch(WatchRequest{Key: []byte("k")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Watch on closed stream: %v", err)
	}

	e.hub.Close()
	for range s.Chan() {
	}
	e.write(put("k", "2")) // no panic, no effect
	e.hub.Close()
	late := e.hub.NewStream()
	if _, ok := <-late.Chan(); ok {
		t.Fatal("stream of a closed hub is open")
	}
	if _, err := late.Watch(WatchRequest{Key: []byte("k")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Watch on closed hub: %v", err)
	}
	late.RequestProgress()
	if err := late.Cancel(0); !errors.Is(err, ErrWatcherNotExist) {
		t.Fatalf("Cancel on closed hub: %v", err)
	}
}

func TestOptions(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.ResyncInterval.Milliseconds() != 100 || o.ChanBuffer != 128 || o.ProgressNotifyInterval.Minutes() != 10 {
		t.Fatalf("defaults: %+v", o)
	}
	bad := Options{ChanBuffer: -1}
	bad.EnsureDefaults()
	if bad.Validate() == nil {
		t.Fatal("negative ChanBuffer accepted")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewHub accepted invalid options")
		}
	}()
	NewHub(newFakeHistory(), Options{SyncEvents: -1})
}
