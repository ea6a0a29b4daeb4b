package robustness

import "testing"

func events(evs ...Event) WatchResponse {
	return WatchResponse{Events: evs, Revision: evs[len(evs)-1].Rev()}
}
func progress(rev int64) WatchResponse { return WatchResponse{Revision: rev, Progress: true} }

// goodWatch is a correct stream of sampleEvents with prev_kv: a bookmark,
// a resumption after revision 3, and the last revisions in one response.
func goodWatch() *WatchRecord {
	e := sampleEvents()
	a := e[0].KV
	a2 := e[1].KV
	return &WatchRecord{Name: "w", PrevKV: true, Segments: []WatchSegment{
		{StartRev: 2, Responses: []WatchResponse{
			events(e[0]),
			progress(2),
			events(withPrev(e[1], &a), e[2]),
		}},
		{StartRev: 4, Responses: []WatchResponse{
			progress(3),
			events(withPrev(e[3], &a2), e[4]),
			progress(5),
		}},
	}}
}

func TestCheckWatchAcceptsAGoodStream(t *testing.T) {
	h := mustHistory(t, sampleEvents())
	w := goodWatch()
	if vs := CheckWatch(w, h); len(vs) > 0 {
		t.Fatal(Summarize(vs, 20))
	}
	if w.Reached() != 5 || w.Events() != 5 {
		t.Fatalf("reached %d with %d events", w.Reached(), w.Events())
	}
}

func TestCheckWatchFindsBrokenGuarantees(t *testing.T) {
	e := sampleEvents()
	a := e[0].KV
	a2 := e[1].KV
	seg := func(start int64, rs ...WatchResponse) WatchSegment {
		return WatchSegment{StartRev: start, Responses: rs}
	}
	for _, tc := range []struct {
		name   string
		segs   []WatchSegment
		check  string
		substr string
	}{
		{"out of order", []WatchSegment{seg(2,
			events(e[0]), events(withPrev(e[3], &a2), e[4]), events(withPrev(e[1], &a), e[2]))},
			"ordered", "after an event of revision 5"},
		{"duplicate", []WatchSegment{seg(2,
			events(e[0]), events(e[0]), events(withPrev(e[1], &a), e[2]), events(withPrev(e[3], &a2), e[4]))},
			"unique", "delivered again"},
		{"revision split", []WatchSegment{seg(2,
			events(e[0]), events(withPrev(e[1], &a)), events(e[2]), events(withPrev(e[3], &a2), e[4]))},
			"atomic", "revision 3 split across responses"},
		{"part of a revision", []WatchSegment{seg(2,
			events(e[0]), events(withPrev(e[1], &a)), events(withPrev(e[3], &a2), e[4]))},
			"atomic", "1 of the 2 events of revision 3"},
		{"gap", []WatchSegment{seg(2,
			events(e[0]), events(withPrev(e[3], &a2), e[4]))},
			"reliable", "revisions 3 to 3 were not"},
		{"stalls before the end", []WatchSegment{seg(2,
			events(e[0]), events(withPrev(e[1], &a), e[2]))},
			"reliable", "revisions 4 to 5 were never delivered"},
		{"event that never happened", []WatchSegment{seg(2,
			events(e[0]), events(withPrev(e[1], &a), e[2]), events(withPrev(e[3], &a2), putEv(0, "other", 5, 5, 1)))},
			"reliable", "but the history's revision 5"},
		{"resumed too early", []WatchSegment{
			seg(2, events(e[0]), events(withPrev(e[1], &a), e[2])),
			seg(4, events(withPrev(e[1], &a), e[2]), events(withPrev(e[3], &a2), e[4]))},
			"resumable", "before the call's start revision 4"},
		{"bookmark ahead of delivered events", []WatchSegment{seg(2,
			events(e[0]), progress(3), events(withPrev(e[1], &a), e[2]), events(withPrev(e[3], &a2), e[4]))},
			"bookmarkable", "before revision 3 was delivered"},
		{"event after a bookmark past it", []WatchSegment{seg(2,
			events(e[0]), progress(3), events(withPrev(e[1], &a), e[2]), events(withPrev(e[3], &a2), e[4]))},
			"bookmarkable", "after a progress notification at revision 3"},
		{"bookmark behind delivered events", []WatchSegment{seg(2,
			events(e[0]), events(withPrev(e[1], &a), e[2]), progress(2), events(withPrev(e[3], &a2), e[4]))},
			"bookmarkable", "progress notification at revision 2 after an event of revision 3"},
		{"wrong prev_kv", []WatchSegment{seg(2,
			events(e[0]), events(e[1], e[2]), events(withPrev(e[3], &a2), e[4]))},
			"prev_kv", "want \"a\"@2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustHistory(t, sampleEvents())
			vs := CheckWatch(&WatchRecord{Name: "w", PrevKV: true, Segments: tc.segs}, h)
			wantViolation(t, vs, tc.check, tc.substr)
		})
	}
}
