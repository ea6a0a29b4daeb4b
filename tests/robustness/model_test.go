package robustness

import (
	"os"
	"strings"
	"testing"
)

func TestStep(t *testing.T) {
	var empty State
	empty.Rev = 1
	_, withA := Step(empty, Request{Kind: OpPut, Key: 0, Value: "a"}, Response{Revision: 2})
	a := KV{Key: 0, Value: "a", CreateRev: 2, ModRev: 2, Version: 1}
	_, withA2 := Step(withA, Request{Kind: OpPut, Key: 0, Value: "a2"}, Response{Revision: 3})
	a2 := KV{Key: 0, Value: "a2", CreateRev: 2, ModRev: 3, Version: 2}

	for _, tc := range []struct {
		name string
		s    State
		req  Request
		resp Response
		ok   bool
		want *State
	}{
		{"put takes the next revision", empty, Request{Kind: OpPut, Key: 0, Value: "a"}, Response{Revision: 2}, true, &withA},
		{"put at another revision", empty, Request{Kind: OpPut, Key: 0, Value: "a"}, Response{Revision: 3}, false, nil},
		{"put keeps the create revision", withA, Request{Kind: OpPut, Key: 0, Value: "a2"}, Response{Revision: 3}, true, &withA2},
		{"get absent", empty, Request{Kind: OpGet, Key: 0}, Response{Revision: 1, KVs: []KV{{Key: 0}}}, true, &empty},
		{"get present", withA2, Request{Kind: OpGet, Key: 0}, Response{Revision: 3, KVs: []KV{a2}}, true, &withA2},
		{"stale get", withA2, Request{Kind: OpGet, Key: 0}, Response{Revision: 3, KVs: []KV{a}}, false, nil},
		{"get at an old revision", withA2, Request{Kind: OpGet, Key: 0}, Response{Revision: 2, KVs: []KV{a2}}, false, nil},
		{"get with a wrong version", withA2, Request{Kind: OpGet, Key: 0}, Response{Revision: 3, KVs: []KV{{0, "a2", 2, 3, 1}}}, false, nil},
		{"range", withA2, Request{Kind: OpRange}, Response{Revision: 3, KVs: []KV{a2}}, true, &withA2},
		{"range missing a key", withA2, Request{Kind: OpRange}, Response{Revision: 3}, false, nil},
		{"range with an extra key", withA2, Request{Kind: OpRange}, Response{Revision: 3, KVs: []KV{a2, {Key: 1, Value: "x", CreateRev: 3, ModRev: 3, Version: 1}}}, false, nil},
		{"delete absent keeps the revision", empty, Request{Kind: OpDelete, Key: 0}, Response{Revision: 1}, true, &empty},
		{"delete absent that bumps the revision", empty, Request{Kind: OpDelete, Key: 0}, Response{Revision: 2}, false, nil},
		{"delete present", withA, Request{Kind: OpDelete, Key: 0}, Response{Revision: 3, Deleted: 1}, true, &State{Rev: 3}},
		{"delete present that deleted nothing", withA, Request{Kind: OpDelete, Key: 0}, Response{Revision: 2}, false, nil},
		{"txn on mod revision", withA, Request{Kind: OpTxn, Key: 0, Cmp: Compare{Target: CmpModRev, ModRev: 2}, Puts: []KeyValue{{0, "a2"}}},
			Response{Revision: 3, Succeeded: true}, true, &withA2},
		{"txn that should have failed", withA, Request{Kind: OpTxn, Key: 0, Cmp: Compare{Target: CmpModRev, ModRev: 1}, Puts: []KeyValue{{0, "a2"}}},
			Response{Revision: 3, Succeeded: true}, false, nil},
		{"txn else branch", withA, Request{Kind: OpTxn, Key: 0, Cmp: Compare{Target: CmpModRev, ModRev: 1}, Puts: []KeyValue{{0, "a2"}, {1, "b"}}},
			Response{Revision: 2, KVs: []KV{a, {Key: 1}}}, true, &withA},
		{"txn else branch that read stale", withA2, Request{Kind: OpTxn, Key: 0, Cmp: Compare{Target: CmpModRev, ModRev: 1}, Puts: []KeyValue{{0, "x"}}},
			Response{Revision: 3, KVs: []KV{a}}, false, nil},
		{"txn mod revision 0 means absent", empty, Request{Kind: OpTxn, Key: 0, Cmp: Compare{Target: CmpModRev}, Puts: []KeyValue{{0, "a"}}},
			Response{Revision: 2, Succeeded: true}, true, &withA},
		{"txn on value", withA, Request{Kind: OpTxn, Key: 0, Cmp: Compare{Target: CmpValue, Value: "a"}, Puts: []KeyValue{{0, "a2"}}},
			Response{Revision: 3, Succeeded: true}, true, &withA2},
		{"txn on the value of an absent key fails", empty, Request{Kind: OpTxn, Key: 0, Cmp: Compare{Target: CmpValue}, Puts: []KeyValue{{0, "a"}}},
			Response{Revision: 1, KVs: []KV{{Key: 0}}}, true, &empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, got := Step(tc.s, tc.req, tc.resp)
			if ok != tc.ok {
				t.Fatalf("Step(%s, %s, %s) = %v, want %v", describeState(tc.s), tc.req, tc.resp, ok, tc.ok)
			}
			if tc.want != nil && got != *tc.want {
				t.Fatalf("state after = %s, want %s", describeState(got), describeState(*tc.want))
			}
		})
	}
}

func TestMultiKeyTxnIsOneRevision(t *testing.T) {
	s := State{Rev: 5}
	ok, s := Step(s, Request{Kind: OpTxn, Key: 0, Puts: []KeyValue{{0, "a"}, {1, "b"}}}, Response{Revision: 6, Succeeded: true})
	if !ok {
		t.Fatal("txn refused")
	}
	ok, _ = Step(s, Request{Kind: OpRange}, Response{Revision: 6, KVs: []KV{
		{Key: 0, Value: "a", CreateRev: 6, ModRev: 6, Version: 1},
		{Key: 1, Value: "b", CreateRev: 6, ModRev: 6, Version: 1},
	}})
	if !ok {
		t.Fatalf("range after a two-key txn refused; state %s", describeState(s))
	}
}

// op builds a successful call.
func op(client int, call, ret int64, req Request, resp Response) Op {
	return Op{Client: client, Call: call, Return: ret, Req: req, Resp: resp}
}

func put(k int, v string) Request { return Request{Kind: OpPut, Key: k, Value: v} }
func get(k int) Request           { return Request{Kind: OpGet, Key: k} }
func del(k int) Request           { return Request{Kind: OpDelete, Key: k} }
func rev(r int64) Response        { return Response{Revision: r} }
func got(r int64, kv KV) Response { return Response{Revision: r, KVs: []KV{kv}} }

func checkOps(t *testing.T, ops []Op, patched []bool, viz string) LinearizabilityResult {
	t.Helper()
	if patched == nil {
		patched = make([]bool, len(ops))
	}
	res, err := CheckLinearizable(&Attribution{Ops: ops, Patched: patched}, 1, 0, viz)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestLinearizable(t *testing.T) {
	a := KV{Key: 0, Value: "a", CreateRev: 2, ModRev: 2, Version: 1}
	b := KV{Key: 0, Value: "b", CreateRev: 2, ModRev: 3, Version: 2}
	for _, tc := range []struct {
		name    string
		ops     []Op
		patched []bool
		want    bool
	}{
		{"sequential", []Op{
			op(0, 0, 10, put(0, "a"), rev(2)),
			op(1, 20, 30, get(0), got(2, a)),
			op(0, 40, 50, put(0, "b"), rev(3)),
			op(1, 60, 70, get(0), got(3, b)),
		}, nil, true},
		{"a read concurrent with a write may see either", []Op{
			op(0, 0, 10, put(0, "a"), rev(2)),
			op(0, 20, 50, put(0, "b"), rev(3)),
			op(1, 25, 30, get(0), got(2, a)),
			op(2, 26, 31, get(0), got(3, b)),
		}, nil, true},
		{"stale read after a write returned", []Op{
			op(0, 0, 10, put(0, "a"), rev(2)),
			op(0, 20, 30, put(0, "b"), rev(3)),
			op(1, 40, 50, get(0), got(2, a)),
		}, nil, false},
		{"reads going back in time", []Op{
			op(0, 0, 10, put(0, "a"), rev(2)),
			op(0, 20, 100, put(0, "b"), rev(3)),
			op(1, 30, 40, get(0), got(3, b)),
			op(2, 50, 60, get(0), got(2, a)),
		}, nil, false},
		{"a lost write: a later read does not see it", []Op{
			op(0, 0, 10, put(0, "a"), rev(2)),
			op(1, 20, 30, get(0), got(1, KV{Key: 0})),
		}, nil, false},
		{"a failed put that took effect", []Op{
			{Client: 0, Call: 0, Return: 5, Req: put(0, "a"), Resp: rev(2), Err: "timeout"},
			op(1, 20, 30, get(0), got(2, a)),
		}, []bool{true, false}, true},
		{"a failed put cannot take effect before its call", []Op{
			op(1, 0, 10, get(0), got(2, a)),
			{Client: 0, Call: 20, Return: 25, Req: put(0, "a"), Resp: rev(2), Err: "timeout"},
		}, []bool{false, true}, false},
		{"a delete of an absent key keeps the revision", []Op{
			op(0, 0, 10, del(0), rev(1)),
			op(0, 20, 30, put(0, "a"), rev(2)),
			op(0, 40, 50, del(0), Response{Revision: 3, Deleted: 1}),
			op(1, 60, 70, get(0), got(3, KV{Key: 0})),
		}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := checkOps(t, tc.ops, tc.patched, "")
			if (res.Result == "Ok") != tc.want {
				t.Fatalf("result %s, want linearizable=%v", res.Result, tc.want)
			}
		})
	}
}

func TestIllegalHistoryIsVisualized(t *testing.T) {
	a := KV{Key: 0, Value: "a", CreateRev: 2, ModRev: 2, Version: 1}
	dir := t.TempDir()
	res := checkOps(t, []Op{
		op(0, 0, 10, put(0, "a"), rev(2)),
		op(0, 20, 30, put(0, "b"), rev(3)),
		op(1, 40, 50, get(0), got(2, a)),
	}, nil, dir)
	if res.Result != "Illegal" || res.Visualization == "" {
		t.Fatalf("result %+v, want Illegal with a visualization", res)
	}
	html, err := os.ReadFile(res.Visualization)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "put(k0") {
		t.Errorf("the visualization does not describe the calls")
	}
}
