package robustness

import (
	"strings"
	"testing"
)

var testKeys = NewKeys(3)

// putEv is a put event of key k, value v at revision rev with the given
// create revision and version.
func putEv(k int, v string, rev, create, version int64) Event {
	return Event{Type: EventPut, KV: KeyState{Key: testKeys[k], Value: v, CreateRev: create, ModRev: rev, Version: version}}
}

func delEv(k int, rev int64) Event {
	return Event{Type: EventDelete, KV: KeyState{Key: testKeys[k], ModRev: rev}}
}

// withPrev returns e with prev_kv p.
func withPrev(e Event, p *KeyState) Event { e.Prev = p; return e }

// sampleEvents is a consistent history from revision 1: a put, a two-key
// txn, a delete, a put that recreates the key.
func sampleEvents() []Event {
	return []Event{
		putEv(0, "a", 2, 2, 1),
		putEv(0, "a2", 3, 2, 2), putEv(1, "b", 3, 3, 1),
		delEv(0, 4),
		putEv(0, "a3", 5, 5, 1),
	}
}

func mustHistory(t *testing.T, events []Event) *History {
	t.Helper()
	h, vs := BuildHistory(1, events)
	if len(vs) > 0 {
		t.Fatalf("BuildHistory: %s", Summarize(vs, 10))
	}
	return h
}

// wantViolation fails unless vs has a violation of check whose message
// contains substr.
func wantViolation(t *testing.T, vs []Violation, check, substr string) {
	t.Helper()
	for _, v := range vs {
		if v.Check == check && strings.Contains(v.Msg, substr) {
			return
		}
	}
	t.Fatalf("want a %q violation mentioning %q, got %s", check, substr, Summarize(vs, 20))
}

func TestBuildHistory(t *testing.T) {
	h := mustHistory(t, sampleEvents())
	if h.LastRev() != 5 || h.Events() != 5 {
		t.Fatalf("last revision %d, %d events", h.LastRev(), h.Events())
	}
	r3 := h.At(3)
	if len(r3.Events) != 2 || r3.Prev[0] == nil || r3.Prev[0].Value != "a" || r3.Prev[1] != nil {
		t.Fatalf("revision 3 = %+v", r3)
	}
	if got := h.Final; len(got) != 2 || got[testKeys[0]].Value != "a3" || got[testKeys[1]].Value != "b" {
		t.Fatalf("final state %v", got)
	}
	if vs := CheckFinal(h, 5, []KeyState{h.Final[testKeys[0]], h.Final[testKeys[1]]}); len(vs) > 0 {
		t.Fatal(Summarize(vs, 10))
	}
}

func TestBuildHistoryFindsInconsistencies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []Event
		substr string
	}{
		{"gap", []Event{putEv(0, "a", 2, 2, 1), putEv(0, "b", 4, 2, 2)}, "revisions 3 to 3 have no event"},
		{"revision going back", []Event{putEv(0, "a", 2, 2, 1), putEv(1, "b", 3, 3, 1), putEv(2, "c", 2, 2, 1)}, "revision 2 after revision 3"},
		{"wrong version", []Event{putEv(0, "a", 2, 2, 1), putEv(0, "b", 3, 2, 1)}, "want create revision 2 and version 2"},
		{"create revision not kept", []Event{putEv(0, "a", 2, 2, 1), putEv(0, "b", 3, 3, 2)}, "want create revision 2"},
		{"delete of an absent key", []Event{putEv(0, "a", 2, 2, 1), delEv(1, 3)}, "of an absent key"},
		{"key twice in a revision", []Event{putEv(0, "a", 2, 2, 1), putEv(0, "b", 2, 2, 2)}, "changes " + testKeys[0] + " twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, vs := BuildHistory(1, tc.events)
			wantViolation(t, vs, "history", tc.substr)
		})
	}
}

func TestCheckFinalAndReplays(t *testing.T) {
	h := mustHistory(t, sampleEvents())
	wantViolation(t, CheckFinal(h, 5, []KeyState{h.Final[testKeys[0]]}), "history", "the final read has no such key")
	wantViolation(t, CheckFinal(h, 6, []KeyState{h.Final[testKeys[0]], h.Final[testKeys[1]]}), "history", "the replay ends at 5")

	a, b := sampleEvents(), sampleEvents()
	if vs := CompareReplays([]string{"m0", "m1"}, [][]Event{a, b}); len(vs) > 0 {
		t.Fatal(Summarize(vs, 10))
	}
	b[2].KV.Value = "other"
	wantViolation(t, CompareReplays([]string{"m0", "m1"}, [][]Event{a, b}), "history", "replays differ at event 2")
	wantViolation(t, CompareReplays([]string{"m0", "m1"}, [][]Event{a, a[:3]}), "history", "from m1 3")
}
