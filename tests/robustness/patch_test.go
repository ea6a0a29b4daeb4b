package robustness

import "testing"

// sampleOps are the calls that wrote sampleEvents, all acknowledged.
func sampleOps() []Op {
	return []Op{
		op(0, 0, 10, put(0, "a"), rev(2)),
		op(1, 20, 30, Request{Kind: OpTxn, Key: 0, Cmp: Compare{ModRev: 2}, Puts: []KeyValue{{0, "a2"}, {1, "b"}}},
			Response{Revision: 3, Succeeded: true}),
		op(2, 40, 50, del(0), Response{Revision: 4, Deleted: 1}),
		op(0, 60, 70, put(0, "a3"), rev(5)),
	}
}

func mustAttribute(t *testing.T, ops []Op, events []Event) *Attribution {
	t.Helper()
	a, vs := Attribute(ops, mustHistory(t, events), testKeys)
	if len(vs) > 0 {
		t.Fatal(Summarize(vs, 10))
	}
	return a
}

func TestAttributeAcknowledged(t *testing.T) {
	a := mustAttribute(t, sampleOps(), sampleEvents())
	if len(a.Ops) != 4 || a.FailedWrites != 0 {
		t.Fatalf("attribution %+v", a)
	}
	if res := checkOps(t, a.Ops, a.Patched, ""); res.Result != "Ok" {
		t.Fatalf("linearizability %s", res.Result)
	}
}

func TestAttributeFailedCalls(t *testing.T) {
	ops := sampleOps()
	// The txn and the delete failed but took effect; a put and a delete
	// failed and took none; a get failed.
	ops[1].Err, ops[1].Resp = "timeout", Response{}
	ops[2].Err, ops[2].Resp = "unavailable", Response{}
	ops = append(ops,
		Op{Client: 3, Call: 1, Return: 2, Req: put(2, "never"), Err: "timeout"},
		Op{Client: 4, Call: 80, Return: 90, Req: del(1), Err: "timeout"},
		Op{Client: 5, Call: 5, Return: 6, Req: get(0), Err: "timeout"},
	)
	a := mustAttribute(t, ops, sampleEvents())
	if a.FailedWrites != 4 || a.FailedApplied != 2 || a.FailedReads != 1 || len(a.Ops) != 4 {
		t.Fatalf("attribution: %d failed writes, %d applied, %d failed reads, %d calls",
			a.FailedWrites, a.FailedApplied, a.FailedReads, len(a.Ops))
	}
	for i, o := range a.Ops {
		if a.Patched[i] && o.Resp.Revision == 0 {
			t.Errorf("patched %s has no revision", o)
		}
	}
	if res := checkOps(t, a.Ops, a.Patched, ""); res.Result != "Ok" {
		t.Fatalf("linearizability %s", res.Result)
	}
}

func TestAttributeFindsLostAndPhantomWrites(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ops    func([]Op) []Op
		events func([]Event) []Event
		check  string
		substr string
	}{
		{"acknowledged put missing", nil,
			func(e []Event) []Event { return append(e[:0:0], e[1:]...) },
			"lost write", `put(k0, "a")`},
		{"acknowledged at another revision", func(o []Op) []Op { o[0].Resp.Revision = 3; return o }, nil,
			"lost write", "acknowledged at revision 3"},
		{"acknowledged delete missing", func(o []Op) []Op {
			return append(o, op(3, 80, 90, del(1), Response{Revision: 6, Deleted: 1}))
		}, nil, "lost write", "delete(k1)"},
		{"value nobody sent", nil, func(e []Event) []Event {
			return append(e, putEv(2, "intruder", 6, 6, 1))
		}, "phantom write", "no client sent"},
		{"txn applied in part", nil, func(e []Event) []Event {
			e = append(e[:0:0], e...)
			e = append(e[:2], e[3:]...) // drop the put of k1 at revision 3
			return e
		}, "phantom write", "not the whole of"},
		{"failed comparison applied", func(o []Op) []Op { o[1].Resp = Response{Revision: 2, KVs: []KV{{Key: 0}, {Key: 1}}}; return o }, nil,
			"phantom write", "comparison failed"},
		{"delete nobody made", func(o []Op) []Op { return append(o[:2:2], o[3]) }, nil,
			"phantom write", "no Delete of it explains that"},
		{"put applied twice", nil, func(e []Event) []Event {
			return append(e, putEv(0, "a3", 6, 5, 2))
		}, "phantom write", "again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, events := sampleOps(), sampleEvents()
			if tc.ops != nil {
				ops = tc.ops(ops)
			}
			if tc.events != nil {
				events = tc.events(events)
			}
			h, _ := BuildHistory(1, events)
			_, vs := Attribute(ops, h, testKeys)
			wantViolation(t, vs, tc.check, tc.substr)
		})
	}
}

// A failed write the history does not hold is left out; if a read saw its
// value anyway, the linearizability check fails.
func TestUnappliedFailedWriteSeenByARead(t *testing.T) {
	ops := []Op{
		{Client: 0, Call: 0, Return: 10, Req: put(0, "ghost"), Err: "timeout"},
		op(1, 20, 30, get(0), got(2, KV{Key: 0, Value: "ghost", CreateRev: 2, ModRev: 2, Version: 1})),
	}
	a := mustAttribute(t, ops, nil)
	if res := checkOps(t, a.Ops, a.Patched, ""); res.Result != "Illegal" {
		t.Fatalf("linearizability %s, want Illegal", res.Result)
	}
}

func TestCheckSerializable(t *testing.T) {
	h := mustHistory(t, sampleEvents())
	sget := func(r int64, kv KV) Op {
		return op(0, 0, 1, Request{Kind: OpSerializableGet, Key: kv.Key}, got(r, kv))
	}
	a := KV{Key: 0, Value: "a", CreateRev: 2, ModRev: 2, Version: 1}
	a2 := KV{Key: 0, Value: "a2", CreateRev: 2, ModRev: 3, Version: 2}
	good := []Op{
		sget(1, KV{Key: 0}), // an old state is fine for a serializable read
		sget(2, a),
		sget(3, a2),
		sget(4, KV{Key: 0}),
		sget(4, KV{Key: 1, Value: "b", CreateRev: 3, ModRev: 3, Version: 1}),
	}
	if vs := CheckSerializable(good, h, testKeys); len(vs) > 0 {
		t.Fatal(Summarize(vs, 10))
	}
	wantViolation(t, CheckSerializable([]Op{sget(3, a)}, h, testKeys), "serializable", "at revision 3 the key was")
	wantViolation(t, CheckSerializable([]Op{sget(4, a2)}, h, testKeys), "serializable", "k0 absent")
	wantViolation(t, CheckSerializable([]Op{sget(9, KV{Key: 0})}, h, testKeys), "serializable", "outside the history")
	// Serializable reads are not given to porcupine.
	ops := append(sampleOps(), sget(2, a))
	if at := mustAttribute(t, ops, sampleEvents()); at.Serializable != 1 || len(at.Ops) != 4 {
		t.Fatalf("attribution: %d serializable, %d calls", at.Serializable, len(at.Ops))
	}
}
