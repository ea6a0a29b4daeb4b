package watch

import (
	"bytes"
	"sync/atomic"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// AutoID in WatchRequest.ID asks the stream to choose the watch ID.
const AutoID int64 = 0

// ProgressID is the WatchID of a stream-wide progress response (etcd's
// InvalidWatchID): the client broadcasts it to all the stream's watchers.
const ProgressID int64 = -1

// WatchRequest describes a watcher. Key, End and StartRev follow the etcd
// wire protocol.
type WatchRequest struct {
	// ID is the watch ID; AutoID lets the stream pick the lowest free ID.
	ID int64
	// Key is the key, or the start of the range; empty means "\x00".
	Key []byte
	// End is empty for a single key, "\x00" for every key >= Key, and
	// otherwise the exclusive end of the range, which must be > Key.
	End []byte
	// StartRev is the first revision to deliver; 0 means the hub's current
	// revision + 1. A revision in the future is waited for.
	StartRev int64
	// NoPut and NoDelete drop events of that type.
	NoPut, NoDelete bool
	// PrevKV keeps the previous key-value pair in events.
	PrevKV bool
	// ProgressNotify asks for periodic progress responses.
	ProgressNotify bool
}

// Response is what a stream delivers for one watcher, or for all of them
// (WatchID == ProgressID).
type Response struct {
	WatchID int64
	// Events, possibly of several revisions, in revision order; empty for a
	// progress or compaction response.
	Events []*mvccpb.Event
	// Revision is the header revision: every event of the watcher's range up
	// to it has been sent. It is 0 in a compaction response, as etcd.
	Revision int64
	// CompactRevision, when not 0, ends the watcher: its next event was
	// compacted. It is the oldest revision a new watch can start from.
	CompactRevision int64

	w *watcher // nil for a stream-wide response
}

// Stale reports whether the watcher was canceled after r was queued; the
// consumer drops stale responses.
func (r Response) Stale() bool { return r.w != nil && r.w.canceled.Load() }

type state uint8

const (
	stateSynced   state = iota // fed by Notify
	stateUnsynced              // caught up from History by the loop
	stateVictim                // holds a response its channel refused
	stateDone                  // ended by compaction; ID kept until Cancel
	stateCanceled              // removed
)

type rangeKind uint8

const (
	kindKey     rangeKind = iota // one key
	kindRange                    // [key, end)
	kindFromKey                  // [key, ∞)
)

// watcher is one watch. Every field but canceled is protected by Hub.mu.
type watcher struct {
	id     int64
	stream *Stream

	kind     rangeKind
	key, end string

	noPut, noDelete, prevKV, progressNotify bool

	state state
	// minRev is the next revision the watcher wants: every event before it
	// has been sent. For a synced watcher the hub's revision + 1 is the
	// floor, so minRev only matters when it is in the future.
	minRev int64
	// createdRev is the hub's revision when the watcher was created.
	createdRev int64
	// pending is the response a victim waits to deliver; pendingRev is its
	// revision.
	pending    Response
	pendingRev int64
	// sent records events sent since the last progress tick.
	sent bool
	// batch collects events while a Notify or sync round distributes them.
	batch []*mvccpb.Event

	canceled atomic.Bool
}

func (w *watcher) single() bool { return w.kind == kindKey }

func (w *watcher) span() span {
	return span{start: w.key, end: w.end, inf: w.kind == kindFromKey}
}

// wants reports whether ev passes the watcher's filters and revision floor.
func (w *watcher) wants(ev *mvccpb.Event) bool {
	if ev.GetKv().GetModRevision() < w.minRev {
		return false
	}
	switch ev.GetType() {
	case mvccpb.Event_PUT:
		return !w.noPut
	case mvccpb.Event_DELETE:
		return !w.noDelete
	}
	return true
}

// keyRange normalizes a request's key range to the hub's form.
func keyRange(key, end []byte) (rangeKind, string, string, error) {
	if len(key) == 0 {
		key = []byte{0}
	}
	switch {
	case len(end) == 0:
		return kindKey, string(key), "", nil
	case len(end) == 1 && end[0] == 0:
		return kindFromKey, string(key), "", nil
	case bytes.Compare(key, end) >= 0:
		return 0, "", "", ErrEmptyRange
	}
	return kindRange, string(key), string(end), nil
}

// view returns ev as watcher w should see it. bare caches ev without PrevKv
// so that one copy serves every watcher that did not ask for it.
func (w *watcher) view(ev *mvccpb.Event, bare **mvccpb.Event) *mvccpb.Event {
	if w.prevKV || ev.PrevKv == nil {
		return ev
	}
	if *bare == nil {
		*bare = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
	}
	return *bare
}
