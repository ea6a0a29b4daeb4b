package robustness

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Violation is one broken guarantee.
type Violation struct {
	// Check names the guarantee: "ordered", "unique", "atomic", "reliable",
	// "resumable", "bookmarkable", "prev_kv", "history", "lost write",
	// "phantom write", "serializable", "linearizable".
	Check string
	Msg   string
}

func (v Violation) String() string { return v.Check + ": " + v.Msg }

func violationf(check, format string, args ...any) Violation {
	return Violation{Check: check, Msg: fmt.Sprintf(format, args...)}
}

// Summarize counts violations per check and lists the first max of them.
func Summarize(vs []Violation, max int) string {
	if len(vs) == 0 {
		return "no violation"
	}
	count := map[string]int{}
	for _, v := range vs {
		count[v.Check]++
	}
	checks := make([]string, 0, len(count))
	for c := range count {
		checks = append(checks, c)
	}
	sort.Strings(checks)
	var b strings.Builder
	fmt.Fprintf(&b, "%d violations:", len(vs))
	for _, c := range checks {
		fmt.Fprintf(&b, " %s %d;", c, count[c])
	}
	for i, v := range vs {
		if i == max {
			fmt.Fprintf(&b, "\n  ... and %d more", len(vs)-max)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(v.String())
	}
	return b.String()
}

// EventType is a watch event's type.
type EventType uint8

// The two event types.
const (
	EventPut EventType = iota + 1
	EventDelete
)

func (t EventType) String() string {
	if t == EventPut {
		return "PUT"
	}
	return "DELETE"
}

// KeyState is a key as a watch event carries it. For a delete, ModRev is
// the delete's revision and the other fields are zero.
type KeyState struct {
	Key       string
	Value     string
	CreateRev int64
	ModRev    int64
	Version   int64
}

// Event is one watch event.
type Event struct {
	Type EventType
	KV   KeyState
	// Prev is the event's prev_kv: nil when not asked for or when the key
	// was absent.
	Prev *KeyState
}

// Rev returns the revision of the event.
func (e Event) Rev() int64 { return e.KV.ModRev }

// same reports whether e and o are the same event, prev_kv aside.
func (e Event) same(o Event) bool { return e.Type == o.Type && e.KV == o.KV }

func (e Event) String() string {
	if e.Type == EventDelete {
		return fmt.Sprintf("DELETE %s@%d", e.KV.Key, e.KV.ModRev)
	}
	return fmt.Sprintf("PUT %s=%q@%d(c%d,v%d)", e.KV.Key, e.KV.Value, e.KV.ModRev, e.KV.CreateRev, e.KV.Version)
}

// Revision is the events of one revision, in the order the store wrote
// them, with what each key held before.
type Revision struct {
	Rev    int64
	Events []Event
	// Prev[i] is what Events[i]'s key held before this revision, nil when
	// absent.
	Prev []*KeyState
}

// History is every revision after InitRev, as the full replay watch of the
// key prefix reported them and checked for consistency: revisions
// InitRev+1 … LastRev with none missing, each event consistent with what
// came before.
type History struct {
	InitRev   int64
	Revisions []Revision // Revisions[i].Rev == InitRev+1+i
	// Final is every present key after the last revision.
	Final map[string]KeyState
	// changes lists, per key, the revisions that changed it and what it
	// held after (nil: deleted), in revision order.
	changes map[string][]keyChange
}

type keyChange struct {
	rev   int64
	state *KeyState
}

// KeyAt returns what key held at revision rev (after rev was applied),
// and false when it was absent.
func (h *History) KeyAt(key string, rev int64) (KeyState, bool) {
	cs := h.changes[key]
	i := sort.Search(len(cs), func(i int) bool { return cs[i].rev > rev }) - 1
	if i < 0 || cs[i].state == nil {
		return KeyState{}, false
	}
	return *cs[i].state, true
}

// LastRev returns the last revision, InitRev when there is none.
func (h *History) LastRev() int64 { return h.InitRev + int64(len(h.Revisions)) }

// At returns revision rev, or nil when it is outside the history.
func (h *History) At(rev int64) *Revision {
	i := rev - h.InitRev - 1
	if i < 0 || i >= int64(len(h.Revisions)) {
		return nil
	}
	return &h.Revisions[i]
}

// Events returns the number of events in the history.
func (h *History) Events() int {
	n := 0
	for _, r := range h.Revisions {
		n += len(r.Events)
	}
	return n
}

// BuildHistory builds the history of a store that was empty at initRev
// from events, the replay of every event since, and checks it: revisions
// increase with none missing (the harness is the only writer, and every
// write it makes creates events), a key changes at most once per revision,
// a put's create revision and version follow from the key's previous
// state, and a delete removes a present key.
func BuildHistory(initRev int64, events []Event) (*History, []Violation) {
	h := &History{InitRev: initRev, Final: map[string]KeyState{}, changes: map[string][]keyChange{}}
	var vs []Violation
	for i := 0; i < len(events); {
		rev := events[i].Rev()
		j := i
		for j < len(events) && events[j].Rev() == rev {
			j++
		}
		want := h.LastRev() + 1
		if rev < want {
			vs = append(vs, violationf("history", "replay: revision %d after revision %d", rev, want-1))
			i = j
			continue
		}
		if rev > want {
			vs = append(vs, violationf("history", "replay: revisions %d to %d have no event", want, rev-1))
			for r := want; r < rev; r++ { // keep Revisions indexed by revision
				h.Revisions = append(h.Revisions, Revision{Rev: r})
			}
		}
		r := Revision{Rev: rev}
		seen := map[string]bool{}
		for _, e := range events[i:j] {
			k := e.KV.Key
			if seen[k] {
				vs = append(vs, violationf("history", "replay: revision %d changes %s twice", rev, k))
			}
			seen[k] = true
			prev, ok := h.Final[k]
			var prevp *KeyState
			if ok {
				p := prev
				prevp = &p
			}
			switch e.Type {
			case EventPut:
				wantCreate, wantVersion := rev, int64(1)
				if ok {
					wantCreate, wantVersion = prev.CreateRev, prev.Version+1
				}
				if e.KV.CreateRev != wantCreate || e.KV.Version != wantVersion {
					vs = append(vs, violationf("history", "replay: %s, want create revision %d and version %d",
						e, wantCreate, wantVersion))
				}
				h.Final[k] = e.KV
				kv := e.KV
				h.changes[k] = append(h.changes[k], keyChange{rev, &kv})
			case EventDelete:
				if !ok {
					vs = append(vs, violationf("history", "replay: %s of an absent key", e))
				}
				delete(h.Final, k)
				h.changes[k] = append(h.changes[k], keyChange{rev, nil})
			default:
				vs = append(vs, violationf("history", "replay: event of unknown type %d at revision %d", e.Type, rev))
			}
			r.Events = append(r.Events, e)
			r.Prev = append(r.Prev, prevp)
		}
		h.Revisions = append(h.Revisions, r)
		i = j
	}
	return h, vs
}

// CheckFinal compares the history's final state with a linearizable range
// read of the prefix at revision rev: the replay and the store must agree.
func CheckFinal(h *History, rev int64, kvs []KeyState) []Violation {
	var vs []Violation
	if rev != h.LastRev() {
		vs = append(vs, violationf("history", "the final read is at revision %d, the replay ends at %d", rev, h.LastRev()))
	}
	got := map[string]KeyState{}
	for _, kv := range kvs {
		got[kv.Key] = kv
	}
	keys := make([]string, 0, len(got)+len(h.Final))
	for k := range got {
		keys = append(keys, k)
	}
	for k := range h.Final {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, gok := got[k]
		w, wok := h.Final[k]
		switch {
		case !gok:
			vs = append(vs, violationf("history", "%s: the replay ends with %q@%d, the final read has no such key", k, w.Value, w.ModRev))
		case !wok:
			vs = append(vs, violationf("history", "%s: the final read has %q@%d, the replay ends without it", k, g.Value, g.ModRev))
		case g != w:
			vs = append(vs, violationf("history", "%s: the final read has %+v, the replay ends with %+v", k, g, w))
		}
	}
	return vs
}

// CompareReplays checks that replays of the same revisions from different
// members are identical: every member applied the same history.
func CompareReplays(names []string, replays [][]Event) []Violation {
	var vs []Violation
	for i := 1; i < len(replays); i++ {
		a, b := replays[0], replays[i]
		n := min(len(a), len(b))
		for j := 0; j < n; j++ {
			if !a[j].same(b[j]) {
				vs = append(vs, violationf("history", "replays differ at event %d: %s has %s, %s has %s",
					j, names[0], a[j], names[i], b[j]))
				break
			}
		}
		if len(a) != len(b) {
			vs = append(vs, violationf("history", "replay from %s has %d events, from %s %d",
				names[0], len(a), names[i], len(b)))
		}
	}
	return vs
}
