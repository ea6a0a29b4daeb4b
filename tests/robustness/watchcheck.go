package robustness

import (
	"fmt"
	"strings"
)

// WatchResponse is one response a watcher received.
type WatchResponse struct {
	Events []Event
	// Revision is the header revision.
	Revision int64
	// Progress marks a progress notification (a bookmark): no event, and
	// Revision is a revision up to which every event has been delivered.
	Progress bool
	// Err is the error that ended the watch, on its last response.
	Err string
}

// WatchSegment is one Watch call: the revision it started from and what it
// received until it ended.
type WatchSegment struct {
	StartRev  int64
	Responses []WatchResponse
}

// WatchRecord is what one watcher received over the run. The watcher
// restarts its Watch call (on an error, and on purpose now and then) from
// one past the last revision it knows to be delivered: its last event's, or
// its last bookmark's if that is higher.
type WatchRecord struct {
	Name     string
	PrevKV   bool // the watcher asked for prev_kv
	Segments []WatchSegment
}

// Events returns the number of events the watcher received.
func (w *WatchRecord) Events() int {
	n := 0
	for _, s := range w.Segments {
		for _, r := range s.Responses {
			n += len(r.Events)
		}
	}
	return n
}

// Reached returns the highest revision the watcher knows to be delivered:
// its last event's, or its last bookmark's if that is higher.
func (w *WatchRecord) Reached() int64 {
	var rev int64
	for _, s := range w.Segments {
		for _, r := range s.Responses {
			for _, e := range r.Events {
				rev = max(rev, e.Rev())
			}
			if r.Progress {
				rev = max(rev, r.Revision)
			}
		}
	}
	return rev
}

// maxWatchViolations bounds the violations reported per watcher: past a
// first break, the rest of a stream mostly repeats it.
const maxWatchViolations = 50

// CheckWatch checks what watcher w received against h, the history of the
// watched prefix, up to revision h.LastRev(), which w must have reached.
// The guarantees are etcd's:
//
//   - ordered: event revisions never decrease, within a response or across
//     responses and resumptions;
//   - unique: no event (revision, key) is delivered twice;
//   - atomic: a response that holds an event of revision r holds every
//     event of r, and no other response holds one;
//   - reliable: every delivered event is one of the history, equal to it,
//     and the watcher receives every event of the history from its first
//     start revision on, with no gap, up to the last revision;
//   - resumable: a Watch call restarted at revision r delivers nothing
//     before r;
//   - bookmarkable: a progress notification's revision b is at least the
//     revision of every event delivered before it, every event of the
//     history up to b has been delivered before it, and no event delivered
//     after it has a revision at most b;
//   - prev_kv: when asked for, each event's prev_kv is what the key held
//     just before that revision.
func CheckWatch(w *WatchRecord, h *History) []Violation {
	var vs []Violation
	add := func(check, format string, args ...any) {
		if len(vs) < maxWatchViolations {
			vs = append(vs, violationf(check, w.Name+": "+format, args...))
		}
	}
	if len(w.Segments) == 0 {
		add("reliable", "no Watch call was made")
		return vs
	}
	firstStart := w.Segments[0].StartRev
	var (
		last     int64 // revision of the last event delivered
		bookmark int64 // revision of the last progress notification
		seen     = map[string]bool{}
		// next is the next revision of the history the watcher should
		// deliver in full; events are matched against it to find gaps.
		next = max(firstStart, h.InitRev+1)
	)
	for si, seg := range w.Segments {
		if si > 0 && seg.StartRev != max(last, bookmark)+1 {
			add("resumable", "Watch call %d started at revision %d, after revision %d was delivered (harness bug?)",
				si, seg.StartRev, max(last, bookmark))
		}
		for ri, resp := range seg.Responses {
			where := fmt.Sprintf("call %d response %d", si, ri)
			if strings.Contains(resp.Err, "compacted") {
				add("reliable", "%s: the watch ended with %q, and nothing was compacted", where, resp.Err)
			}
			if resp.Progress {
				if resp.Revision < last {
					add("bookmarkable", "%s: progress notification at revision %d after an event of revision %d",
						where, resp.Revision, last)
				}
				// Every revision of the history up to the bookmark must be in.
				if next <= min(resp.Revision, h.LastRev()) {
					add("bookmarkable", "%s: progress notification at revision %d before revision %d was delivered",
						where, resp.Revision, next)
				}
				bookmark = max(bookmark, resp.Revision)
				continue
			}
			revsHere := map[int64]int{} // revision → events of it in this response
			for _, e := range resp.Events {
				rev := e.Rev()
				id := fmt.Sprintf("%d/%s", rev, e.KV.Key)
				switch {
				case rev < seg.StartRev:
					add("resumable", "%s: %s before the call's start revision %d", where, e, seg.StartRev)
				case rev < last:
					add("ordered", "%s: %s after an event of revision %d", where, e, last)
				case rev == last && revsHere[rev] == 0 && !seen[id]:
					add("atomic", "%s: revision %d split across responses (%s)", where, rev, e)
				}
				if seen[id] {
					add("unique", "%s: %s delivered again", where, e)
				}
				seen[id] = true
				if bookmark > 0 && rev <= bookmark {
					add("bookmarkable", "%s: %s after a progress notification at revision %d", where, e, bookmark)
				}
				last = max(last, rev)
				revsHere[rev]++

				hr := h.At(rev)
				if hr == nil {
					add("reliable", "%s: %s is not in the history (last revision %d)", where, e, h.LastRev())
					continue
				}
				i := eventIndex(hr, e.KV.Key)
				if i < 0 || !hr.Events[i].same(e) {
					add("reliable", "%s: %s, but the history's revision %d is %v", where, e, rev, hr.Events)
					continue
				}
				if w.PrevKV && !sameKeyState(e.Prev, hr.Prev[i]) {
					add("prev_kv", "%s: %s has prev_kv %s, want %s", where, e, describePrev(e.Prev), describePrev(hr.Prev[i]))
				}
				if rev > next {
					add("reliable", "%s: %s delivered, but revisions %d to %d were not", where, e, next, rev-1)
				}
				if rev >= next {
					next = rev + 1
				}
			}
			for rev, n := range revsHere {
				if hr := h.At(rev); hr != nil && n != len(hr.Events) {
					add("atomic", "%s: %d of the %d events of revision %d", where, n, len(hr.Events), rev)
				}
			}
		}
	}
	if next <= h.LastRev() {
		add("reliable", "revisions %d to %d were never delivered (the watcher reached revision %d)",
			next, h.LastRev(), w.Reached())
	}
	return vs
}

// eventIndex returns the index of key's event in r, or -1.
func eventIndex(r *Revision, key string) int {
	for i, e := range r.Events {
		if e.KV.Key == key {
			return i
		}
	}
	return -1
}

func sameKeyState(a, b *KeyState) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func describePrev(p *KeyState) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%q@%d(c%d,v%d)", p.Value, p.ModRev, p.CreateRev, p.Version)
}
