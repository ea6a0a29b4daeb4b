package robustness

import (
	"fmt"
	"slices"
)

// Attribution is the outcome of matching the client calls with the
// history.
type Attribution struct {
	// Ops are the calls to check for linearizability: every successful
	// call, and every failed write that took effect, with the response it
	// would have had (Patched marks them). Failed reads, and failed writes
	// that took no effect, are left out: they constrain nothing.
	Ops []Op
	// Patched[i] reports whether Ops[i] is a failed write whose outcome was
	// taken from the history; it may have taken effect at any time after
	// its call, so it is checked as returning after every other call.
	Patched []bool
	// FailedWrites, FailedApplied and FailedReads count failed calls:
	// writes, those of them that took effect, and reads.
	FailedWrites, FailedApplied, FailedReads int
	// Serializable counts the successful serializable reads, which
	// CheckSerializable checks instead.
	Serializable int
}

// Attribute matches every revision of h with the client call that wrote it
// and checks what it finds:
//
//   - every put event carries a value some client sent (each Put and each
//     put of a Txn sends a value no other call sends), and a revision holds
//     exactly the puts of one call ("phantom write" otherwise);
//   - every acknowledged write is in the history at the revision its
//     response reported: a Put, a Txn that succeeded, a Delete that
//     deleted a key ("lost write" otherwise); a Txn that failed its
//     comparison wrote nothing;
//   - a revision holding only a delete was written by a Delete of that key
//     that succeeded at that revision, or else by one that failed (the
//     call's outcome was unknown), called before it.
//
// A failed write found in the history took effect at that revision: it is
// returned with that outcome, to be checked as if it had returned after
// every other call. One not found took no effect (its value is nowhere; a
// failed Delete not matched with a revision deleted nothing), and is left
// out. This is sound for the linearizability check: an unknown-outcome
// call may take effect or not, at any point after its call, so a
// linearization of the returned calls is one of the recorded history; and
// a history the replay invented or lost is caught, by the reads that
// contradict it or by the checks here.
func Attribute(ops []Op, h *History, keys Keys) (*Attribution, []Violation) {
	var vs []Violation
	add := func(check, format string, args ...any) { vs = append(vs, violationf(check, format, args...)) }

	byValue := map[string]int{}     // value → index in ops of the write that sends it
	deletesByRev := map[int64]int{} // revision → successful Delete that deleted at it
	failedDeletes := map[int][]int{}
	for i, op := range ops {
		for _, v := range op.Req.Values() {
			if j, dup := byValue[v]; dup {
				panic(fmt.Sprintf("robustness: value %q sent by two calls: %s and %s", v, ops[j], op))
			}
			byValue[v] = i
		}
		if op.Req.Kind == OpDelete {
			switch {
			case op.Failed():
				failedDeletes[op.Req.Key] = append(failedDeletes[op.Req.Key], i)
			case op.Resp.Deleted > 0:
				deletesByRev[op.Resp.Revision] = i
			}
		}
	}

	applied := map[int]int64{} // index in ops → revision it took effect at
	type orphan struct {
		key int
		rev int64
	}
	var orphans []orphan // delete-only revisions no successful Delete explains
	for ri := range h.Revisions {
		r := &h.Revisions[ri]
		var puts, dels []Event
		for _, e := range r.Events {
			if e.Type == EventPut {
				puts = append(puts, e)
			} else {
				dels = append(dels, e)
			}
		}
		if len(puts) > 0 {
			owner, ok := byValue[puts[0].KV.Value]
			if !ok {
				add("phantom write", "revision %d: %s puts a value no client sent", r.Rev, puts[0])
				continue
			}
			op := ops[owner]
			if prev, twice := applied[owner]; twice {
				add("phantom write", "revision %d applies %s again (first at revision %d)", r.Rev, op, prev)
				continue
			}
			if !sameWrite(op.Req, keys, r.Events) {
				add("phantom write", "revision %d is %v, not the whole of %s", r.Rev, r.Events, op)
				continue
			}
			applied[owner] = r.Rev
			if op.Failed() {
				continue
			}
			if op.Req.Kind == OpTxn && !op.Resp.Succeeded {
				add("phantom write", "revision %d applies the puts of %s, whose comparison failed", r.Rev, op)
			} else if op.Resp.Revision != r.Rev {
				add("lost write", "%s was acknowledged at revision %d but is in the history at revision %d",
					op, op.Resp.Revision, r.Rev)
			}
			continue
		}
		if len(dels) != 1 {
			add("phantom write", "revision %d deletes %d keys; no call deletes more than one", r.Rev, len(dels))
			continue
		}
		k := keys.Index(dels[0].KV.Key)
		if k < 0 {
			add("phantom write", "revision %d: %s of a key outside the key set", r.Rev, dels[0])
			continue
		}
		if i, ok := deletesByRev[r.Rev]; ok && ops[i].Req.Key == k {
			applied[i] = r.Rev
			continue
		}
		orphans = append(orphans, orphan{k, r.Rev})
	}

	// Failed Deletes: match each key's unexplained delete revisions in
	// order with its failed Deletes in call order. All of them may take
	// effect at any time after their call, so if any matching works, this
	// one does (earliest call to earliest revision).
	for _, cands := range failedDeletes {
		slices.SortStableFunc(cands, func(i, j int) int { return cmpInt64(ops[i].Call, ops[j].Call) })
	}
	matched := map[int][]int{} // key → failed deletes used so far
	for _, o := range orphans {
		cands := failedDeletes[o.key]
		used := len(matched[o.key])
		if used == len(cands) {
			add("phantom write", "revision %d deletes %s, and no Delete of it explains that", o.rev, keys[o.key])
			continue
		}
		i := cands[used]
		matched[o.key] = append(matched[o.key], i)
		applied[i] = o.rev
	}

	a := &Attribution{}
	for i, op := range ops {
		if op.Req.Kind == OpSerializableGet {
			if op.Failed() {
				a.FailedReads++
			} else {
				a.Serializable++
			}
			continue
		}
		rev, ok := applied[i]
		if op.Failed() {
			if op.Req.Kind.IsWrite() {
				a.FailedWrites++
			} else {
				a.FailedReads++
			}
			if !ok {
				continue
			}
			a.FailedApplied++
			op.Resp = Response{Revision: rev, Succeeded: op.Req.Kind == OpTxn}
			if op.Req.Kind == OpDelete {
				op.Resp.Deleted = 1
			}
			a.Ops = append(a.Ops, op)
			a.Patched = append(a.Patched, true)
			continue
		}
		if !ok && wrote(op) {
			add("lost write", "%s was acknowledged, but the history has no revision %d from it", op, op.Resp.Revision)
		}
		a.Ops = append(a.Ops, op)
		a.Patched = append(a.Patched, false)
	}
	return a, vs
}

// wrote reports whether a successful call's response says it changed the
// store.
func wrote(op Op) bool {
	switch op.Req.Kind {
	case OpPut:
		return true
	case OpDelete:
		return op.Resp.Deleted > 0
	case OpTxn:
		return op.Resp.Succeeded
	}
	return false
}

// sameWrite reports whether events are exactly the puts of req.
func sameWrite(req Request, keys Keys, events []Event) bool {
	var want []KeyValue
	switch req.Kind {
	case OpPut:
		want = []KeyValue{{req.Key, req.Value}}
	case OpTxn:
		want = req.Puts
	default:
		return false
	}
	if len(events) != len(want) {
		return false
	}
	for _, e := range events {
		kv := KeyValue{keys.Index(e.KV.Key), e.KV.Value}
		if e.Type != EventPut || !slices.Contains(want, kv) {
			return false
		}
	}
	return true
}

// CheckSerializable checks every successful serializable read against h: a
// member may answer from an old state, but it must be a state the store
// was in: the key as it was at the response's header revision, which must
// be one of the history's.
func CheckSerializable(ops []Op, h *History, keys Keys) []Violation {
	var vs []Violation
	for _, op := range ops {
		if op.Req.Kind != OpSerializableGet || op.Failed() {
			continue
		}
		rev := op.Resp.Revision
		if rev < h.InitRev || rev > h.LastRev() {
			vs = append(vs, violationf("serializable", "%s: revision %d is outside the history [%d, %d]",
				op, rev, h.InitRev, h.LastRev()))
			continue
		}
		want := KV{Key: op.Req.Key}
		if ks, ok := h.KeyAt(keys[op.Req.Key], rev); ok {
			want = KV{Key: op.Req.Key, Value: ks.Value, CreateRev: ks.CreateRev, ModRev: ks.ModRev, Version: ks.Version}
		}
		if len(op.Resp.KVs) != 1 || op.Resp.KVs[0] != want {
			vs = append(vs, violationf("serializable", "%s: at revision %d the key was %s", op, rev, want))
		}
	}
	return vs
}
