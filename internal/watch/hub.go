package watch

import (
	"errors"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.uber.org/zap"
)

var (
	// ErrClosed is returned by a closed hub or stream.
	ErrClosed = errors.New("watch: closed")
	// ErrDuplicateID is returned when a stream already has the requested ID.
	ErrDuplicateID = errors.New("watch: duplicate watch ID")
	// ErrEmptyRange is returned for a range whose end is not after its key.
	ErrEmptyRange = errors.New("watch: key range is empty")
	// ErrWatcherNotExist is returned when canceling an unknown watch ID.
	ErrWatcherNotExist = errors.New("watch: watcher does not exist")
	// ErrInvalidID is returned for a negative watch ID.
	ErrInvalidID = errors.New("watch: negative watch ID")
	// ErrInvalidStartRev is returned for a negative start revision.
	ErrInvalidStartRev = errors.New("watch: negative start revision")
)

// History is the revision log the hub catches watchers up from; the mvcc
// package implements it.
type History interface {
	// Rev is the last published revision.
	Rev() int64
	// CompactRev is the last compaction revision.
	CompactRev() int64
	// Events returns the events of main revisions [from, to] in order, all
	// events of a revision together; limit is a soft cap that never splits a
	// revision; PrevKv is filled when prevKV is set. It fails (wrapping
	// mvcc.ErrCompacted) when from <= CompactRev().
	Events(from, to int64, limit int, prevKV bool) ([]*mvccpb.Event, error)
}

// Hub fans published events out to watchers. See the package documentation
// for its guarantees and the caller's duties.
type Hub struct {
	hist History
	opts Options
	lg   *zap.Logger

	kick  chan struct{} // wakes the loop; capacity 1
	stopc chan struct{}
	wg    sync.WaitGroup

	// first caches firstAvailable; touched only by the loop goroutine.
	first struct {
		valid      bool
		compactRev int64
		rev        int64
	}

	// mu is the hub's only lock. It also protects the fields of every
	// Stream and watcher (but watcher.canceled, an atomic). Nothing blocks
	// while holding it: sends are non-blocking and History is read outside.
	mu struct {
		sync.Mutex
		closed bool
		// rev is the last revision given to Notify or Restore.
		rev      int64
		synced   *index
		unsynced watcherSet
		victims  watcherSet
		// progress holds the watchers created with ProgressNotify.
		progress watcherSet
		streams  map[*Stream]struct{}
		// progressWanted holds streams whose RequestProgress waits for all
		// their watchers to be synced.
		progressWanted map[*Stream]struct{}
		// touched is scratch space for distribute.
		touched []*watcher
	}
}

// NewHub returns a hub serving events from h, starting at h.Rev(), and
// starts its background loop. It panics if opts are invalid.
func NewHub(h History, opts Options) *Hub {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	hub := &Hub{
		hist:  h,
		opts:  opts,
		lg:    opts.Logger,
		kick:  make(chan struct{}, 1),
		stopc: make(chan struct{}),
	}
	hub.mu.rev = h.Rev()
	hub.mu.synced = newIndex()
	hub.mu.unsynced = make(watcherSet)
	hub.mu.victims = make(watcherSet)
	hub.mu.progress = make(watcherSet)
	hub.mu.streams = make(map[*Stream]struct{})
	hub.mu.progressWanted = make(map[*Stream]struct{})
	hub.wg.Add(1)
	go hub.run()
	return hub
}

// Rev returns the last revision the hub was notified of.
func (h *Hub) Rev() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.rev
}

// Notify publishes the events of the revisions after the previous call, up
// to rev. evs carry PrevKv. Notify never blocks on a consumer.
func (h *Hub) Notify(rev int64, evs []*mvccpb.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		return
	}
	prev := h.mu.rev
	if rev <= prev {
		h.lg.Warn("watch: ignoring notify of an old revision",
			zap.Int64("revision", rev), zap.Int64("hub-revision", prev))
		return
	}
	h.mu.rev = rev
	if h.mu.synced.len() > 0 && len(evs) > 0 {
		for _, w := range h.distributeLocked(h.mu.synced, evs, prev+1, rev) {
			resp := Response{WatchID: w.id, Events: w.batch, Revision: rev, w: w}
			w.batch = nil
			if !h.trySendLocked(w, resp) {
				h.mu.synced.remove(w)
				h.makeVictimLocked(w, resp, rev)
			}
		}
	}
	if len(h.mu.progressWanted) > 0 {
		h.flushProgressLocked()
	}
}

// Restore tells the hub that the store jumped to rev without events (a
// snapshot was installed): every synced watcher is caught up from History.
func (h *Hub) Restore(rev int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		return
	}
	old := h.mu.rev
	var moved []*watcher
	h.mu.synced.each(func(w *watcher) {
		if w.minRev <= rev {
			moved = append(moved, w)
		}
	})
	for _, w := range moved {
		h.mu.synced.remove(w)
		w.minRev = max(w.minRev, old+1)
		w.state = stateUnsynced
		h.mu.unsynced[w] = struct{}{}
	}
	h.mu.rev = rev
	h.wakeLocked()
}

// Close stops the background loop and closes every stream. Notify and the
// stream methods are no-ops (or return ErrClosed) afterwards.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.mu.closed {
		h.mu.Unlock()
		return
	}
	h.mu.closed = true
	h.mu.Unlock()

	close(h.stopc)
	h.wg.Wait()

	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.mu.streams {
		h.closeStreamLocked(s)
	}
}

// NewStream returns a stream; on a closed hub its channel is closed.
func (h *Hub) NewStream() *Stream {
	s := &Stream{
		hub:      h,
		ch:       make(chan Response, h.opts.ChanBuffer),
		watchers: make(map[int64]*watcher),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		s.closed = true
		close(s.ch)
		return s
	}
	h.mu.streams[s] = struct{}{}
	return s
}

// distributeLocked gathers, for every watcher of ix, the events of evs with a
// revision in [lo, hi] that it wants, into w.batch. It returns the watchers
// with a non-empty batch, in the order they first matched.
func (h *Hub) distributeLocked(ix *index, evs []*mvccpb.Event, lo, hi int64) []*watcher {
	touched := h.mu.touched[:0]
	for _, ev := range evs {
		rev := ev.GetKv().GetModRevision()
		if rev < lo || rev > hi {
			continue
		}
		var bare *mvccpb.Event
		ix.match(ev.GetKv().GetKey(), func(w *watcher) {
			if !w.wants(ev) {
				return
			}
			if len(w.batch) == 0 {
				touched = append(touched, w)
			}
			w.batch = append(w.batch, w.view(ev, &bare))
		})
	}
	// Keep the scratch slice but not its pointers.
	h.mu.touched = touched[:0]
	out := make([]*watcher, len(touched))
	copy(out, touched)
	clear(touched)
	return out
}

// trySendLocked offers resp to w's stream without blocking.
func (h *Hub) trySendLocked(w *watcher, resp Response) bool {
	s := w.stream
	if s.closed {
		return true
	}
	select {
	case s.ch <- resp:
		if len(resp.Events) > 0 {
			w.sent = true
		}
		return true
	default:
		return false
	}
}

// makeVictimLocked parks w, which is in no set, with a refused response.
func (h *Hub) makeVictimLocked(w *watcher, resp Response, rev int64) {
	w.state = stateVictim
	w.pending = resp
	w.pendingRev = rev
	h.mu.victims[w] = struct{}{}
	h.wakeLocked()
}

// removeLocked takes w out of every set and marks it canceled.
func (h *Hub) removeLocked(w *watcher) {
	switch w.state {
	case stateSynced:
		h.mu.synced.remove(w)
	case stateUnsynced:
		delete(h.mu.unsynced, w)
	case stateVictim:
		delete(h.mu.victims, w)
		w.pending = Response{}
	}
	delete(h.mu.progress, w)
	w.state = stateCanceled
	w.canceled.Store(true)
}

func (h *Hub) closeStreamLocked(s *Stream) {
	if s.closed {
		return
	}
	for _, w := range s.watchers {
		h.removeLocked(w)
	}
	s.watchers = nil
	s.closed = true
	close(s.ch)
	delete(h.mu.streams, s)
	delete(h.mu.progressWanted, s)
}

func (h *Hub) wakeLocked() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// run is the background loop: it retries victims, catches unsynced watchers
// up, sends deferred and periodic progress responses.
func (h *Hub) run() {
	defer h.wg.Done()
	resync := time.NewTicker(h.opts.ResyncInterval)
	defer resync.Stop()
	progress := time.NewTicker(h.opts.ProgressNotifyInterval)
	defer progress.Stop()
	for {
		retrySoon, more := h.step()
		if more {
			select {
			case <-h.stopc:
				return
			case <-progress.C:
				h.progressTick()
			default:
			}
			continue
		}
		var retry <-chan time.Time
		if retrySoon {
			retry = time.After(h.opts.VictimRetryInterval)
		}
		select {
		case <-h.stopc:
			return
		case <-h.kick:
		case <-resync.C:
		case <-retry:
		case <-progress.C:
			h.progressTick()
		}
	}
}

// step runs one round of background work. retrySoon reports responses still
// waiting for room in a channel; more reports unsynced watchers that can be
// caught up further right away.
func (h *Hub) step() (retrySoon, more bool) {
	h.mu.Lock()
	h.retryVictimsLocked()
	h.mu.Unlock()

	more = h.syncOnce()

	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.mu.progressWanted) > 0 {
		h.flushProgressLocked()
	}
	return len(h.mu.victims) > 0 || len(h.mu.progressWanted) > 0, more
}
