package watch

import (
	"math"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.uber.org/zap"
)

// syncOnce catches up to SyncWatchers unsynced watchers by one chunk of
// History. It reads History without holding the lock: the batch's watchers
// are only moved by this goroutine or canceled, which is checked after the
// read. It reports whether more can be done right away.
func (h *Hub) syncOnce() (more bool) {
	h.mu.Lock()
	if h.mu.closed || len(h.mu.unsynced) == 0 {
		h.mu.Unlock()
		return false
	}
	batch := make([]*watcher, 0, min(len(h.mu.unsynced), h.opts.SyncWatchers))
	for w := range h.mu.unsynced {
		if len(batch) == cap(batch) {
			break
		}
		batch = append(batch, w)
	}
	to := h.mu.rev
	from, prevKV := int64(math.MaxInt64), false
	for _, w := range batch {
		from = min(from, w.minRev)
		prevKV = prevKV || w.prevKV
	}
	h.mu.Unlock()

	first := h.firstAvailable()
	from = max(from, first) // compacted watchers need no read
	upTo := to
	var err error
	var evs []*mvccpb.Event
	if from <= to {
		evs, err = h.hist.Events(from, to, h.opts.SyncEvents, prevKV)
		if err == nil && len(evs) >= h.opts.SyncEvents {
			// The read may have stopped early, but never inside a revision.
			upTo = evs[len(evs)-1].GetKv().GetModRevision()
		}
	}
	if err != nil {
		// A compaction that raced the read is seen by the next round.
		h.lg.Warn("watch: reading history to catch watchers up",
			zap.Int64("from", from), zap.Int64("to", to), zap.Error(err))
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		return false
	}
	progressed := false
	ix := newIndex()
	live := batch[:0]
	for _, w := range batch {
		if w.state != stateUnsynced {
			continue // canceled meanwhile
		}
		if w.minRev < first {
			// etcd sends this response with no header revision.
			resp := Response{WatchID: w.id, CompactRevision: first, w: w}
			if h.trySendLocked(w, resp) {
				delete(h.mu.unsynced, w)
				delete(h.mu.progress, w)
				w.state = stateDone
				progressed = true
			}
			continue
		}
		if err == nil {
			ix.add(w)
			live = append(live, w)
		}
	}
	if err == nil && len(live) > 0 {
		for _, w := range h.distributeLocked(ix, evs, 0, upTo) {
			resp := Response{WatchID: w.id, Events: w.batch, Revision: upTo, w: w}
			w.batch = nil
			if !h.trySendLocked(w, resp) {
				delete(h.mu.unsynced, w)
				h.makeVictimLocked(w, resp, upTo)
			}
		}
		for _, w := range live {
			progressed = true
			if w.state != stateUnsynced {
				continue // became a victim
			}
			w.minRev = max(w.minRev, upTo+1)
			if w.minRev > h.mu.rev {
				delete(h.mu.unsynced, w)
				w.state = stateSynced
				h.mu.synced.add(w)
			}
		}
	}
	return progressed && len(h.mu.unsynced) > 0
}

// firstAvailable returns the oldest revision History can serve: the
// compaction revision itself if History keeps its events (etcd's rule),
// otherwise the one after (the History contract). The answer is probed once
// per compaction revision. Only the loop goroutine calls it.
func (h *Hub) firstAvailable() int64 {
	c := h.hist.CompactRev()
	if c <= 0 {
		return 1
	}
	if h.first.valid && h.first.compactRev == c {
		return h.first.rev
	}
	first := c + 1
	if _, err := h.hist.Events(c, c, 1, false); err == nil {
		first = c
	}
	h.first.valid, h.first.compactRev, h.first.rev = true, c, first
	return first
}

// retryVictimsLocked offers every victim's response again; a watcher whose
// response is taken rejoins the synced set, or the unsynced one if revisions
// went by meanwhile.
func (h *Hub) retryVictimsLocked() {
	for w := range h.mu.victims {
		if !h.trySendLocked(w, w.pending) {
			continue
		}
		delete(h.mu.victims, w)
		w.pending = Response{}
		w.minRev = max(w.minRev, w.pendingRev+1)
		if w.minRev > h.mu.rev {
			w.state = stateSynced
			h.mu.synced.add(w)
		} else {
			w.state = stateUnsynced
			h.mu.unsynced[w] = struct{}{}
			h.wakeLocked()
		}
	}
}

// progressReadyLocked reports whether a progress response at the hub's
// revision is true for every live watcher of s: all synced, none waiting for
// a start revision beyond the next one.
func (h *Hub) progressReadyLocked(s *Stream) (ready bool, live int) {
	for _, w := range s.watchers {
		switch w.state {
		case stateDone:
			continue
		case stateSynced:
			if w.minRev > h.mu.rev+1 {
				return false, 0
			}
			live++
		default:
			return false, 0
		}
	}
	return true, live
}

// streamProgressLocked sends s a stream-wide progress response if it is
// ready; it reports whether the request is settled.
func (h *Hub) streamProgressLocked(s *Stream) bool {
	if s.closed {
		return true
	}
	ready, live := h.progressReadyLocked(s)
	if !ready {
		return false
	}
	if live == 0 {
		return true // nobody to tell, as etcd
	}
	select {
	case s.ch <- Response{WatchID: ProgressID, Revision: h.mu.rev}:
		return true
	default:
		return false
	}
}

func (h *Hub) flushProgressLocked() {
	for s := range h.mu.progressWanted {
		if h.streamProgressLocked(s) {
			delete(h.mu.progressWanted, s)
		}
	}
}

// progressTick sends a progress response to every synced watcher with
// ProgressNotify that got no events since the previous tick. A full channel
// skips the response: the watcher is busy anyway.
func (h *Hub) progressTick() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.mu.progress {
		if w.state == stateSynced && !w.sent && w.minRev <= h.mu.rev+1 {
			h.trySendLocked(w, Response{WatchID: w.id, Revision: h.mu.rev, w: w})
		}
		w.sent = false
	}
}
