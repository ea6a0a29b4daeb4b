package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// watcher watches Prefix for the whole run from a start revision, with
// prev_kv and progress notifications, asks for a bookmark now and then,
// and restarts its Watch call on an error and on purpose, from one past
// the last revision it knows to be delivered.
type watcher struct {
	cli  *clientv3.Client
	rng  *rand.Rand
	p    *Profile
	rec  WatchRecord
	mu   sync.Mutex   // guards rec while run goes on
	last atomic.Int64 // what rec.Reached() returns, for waiting
}

func newWatcher(name string, cli *clientv3.Client, rng *rand.Rand, p *Profile, start int64) *watcher {
	w := &watcher{cli: cli, rng: rng, p: p, rec: WatchRecord{Name: name, PrevKV: true}}
	w.last.Store(start - 1)
	return w
}

// reached returns the highest revision delivered so far.
func (w *watcher) reached() int64 { return w.last.Load() }

// record returns what the watcher received; call it after run returned.
func (w *watcher) record() *WatchRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	return &w.rec
}

// run watches until ctx is done.
func (w *watcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		start := w.last.Load() + 1
		w.segment(ctx, start)
		if ctx.Err() == nil {
			sleepCtx(ctx, 20*time.Millisecond) // after an error, do not spin
		}
	}
}

// segment runs one Watch call from start until it ends, ctx is done, or
// the time comes to restart it.
func (w *watcher) segment(ctx context.Context, start int64) {
	w.mu.Lock()
	w.rec.Segments = append(w.rec.Segments, WatchSegment{StartRev: start})
	seg := &w.rec.Segments[len(w.rec.Segments)-1]
	w.mu.Unlock()

	// WithRequireLeader: a member that loses its leader should end the
	// watch, so that resuming from the client side is exercised too.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	ch := w.cli.Watch(wctx, Prefix, clientv3.WithPrefix(), clientv3.WithRev(start),
		clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	restart := time.NewTimer(w.between(w.p.WatchRestart[0], w.p.WatchRestart[1]))
	defer restart.Stop()
	progress := time.NewTicker(w.p.ProgressEvery)
	defer progress.Stop()
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return
			}
			w.add(seg, resp)
		case <-progress.C:
			_ = w.cli.RequestProgress(wctx)
		case <-restart.C:
			cancel()
			w.drain(seg, ch)
			return
		case <-ctx.Done():
			cancel()
			w.drain(seg, ch)
			return
		}
	}
}

// drain records what a canceled Watch call still delivers.
func (w *watcher) drain(seg *WatchSegment, ch clientv3.WatchChan) {
	for resp := range ch {
		w.add(seg, resp)
	}
}

func (w *watcher) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)+1))
}

// add records one response. A response canceled because ctx was canceled
// is the client's doing, not the server's, and is left out.
func (w *watcher) add(seg *WatchSegment, resp clientv3.WatchResponse) {
	r, ok := toWatchResponse(resp)
	if !ok {
		return
	}
	w.mu.Lock()
	seg.Responses = append(seg.Responses, r)
	w.mu.Unlock()
	reached := w.last.Load()
	for _, e := range r.Events {
		reached = max(reached, e.Rev())
	}
	if r.Progress {
		reached = max(reached, r.Revision)
	}
	w.last.Store(reached)
}

// toWatchResponse converts a clientv3 response; it reports false for one
// that carries nothing worth checking (the cancel of a canceled context).
func toWatchResponse(resp clientv3.WatchResponse) (WatchResponse, bool) {
	r := WatchResponse{Progress: resp.IsProgressNotify()}
	if resp.Header.Revision != 0 {
		r.Revision = resp.Header.Revision
	}
	if err := resp.Err(); err != nil {
		if errors.Is(err, context.Canceled) && len(resp.Events) == 0 {
			return r, false
		}
		r.Err = err.Error()
	}
	for _, ev := range resp.Events {
		r.Events = append(r.Events, toEvent(ev))
	}
	return r, len(r.Events) > 0 || r.Progress || r.Err != ""
}

func toEvent(ev *clientv3.Event) Event {
	e := Event{Type: EventPut, KV: toKeyState(ev.Kv)}
	if ev.Type == mvccpb.DELETE {
		e.Type = EventDelete
	}
	if ev.PrevKv != nil {
		p := toKeyState(ev.PrevKv)
		e.Prev = &p
	}
	return e
}

func toKeyState(kv *mvccpb.KeyValue) KeyState {
	return KeyState{
		Key:       string(kv.Key),
		Value:     string(kv.Value),
		CreateRev: kv.CreateRevision,
		ModRev:    kv.ModRevision,
		Version:   kv.Version,
	}
}

// replay watches Prefix on cli from revision from until it has every event
// up to revision to, with no fault in the way, and returns the events.
func replay(ctx context.Context, cli *clientv3.Client, from, to int64) ([]Event, error) {
	if to < from {
		return nil, nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var evs []Event
	ch := cli.Watch(wctx, Prefix, clientv3.WithPrefix(), clientv3.WithRev(from))
	for resp := range ch {
		if err := resp.Err(); err != nil {
			return evs, fmt.Errorf("replay from revision %d: %w", from, err)
		}
		for _, ev := range resp.Events {
			evs = append(evs, toEvent(ev))
		}
		if n := len(evs); n > 0 && evs[n-1].Rev() >= to {
			return evs, nil
		}
	}
	return evs, fmt.Errorf("replay from revision %d: watch ended at %d events: %w", from, len(evs), ctx.Err())
}
