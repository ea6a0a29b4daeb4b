package mvcc

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/storage"
	"github.com/cockroachdb/datadriven"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// fakeLeases is a LeaseHooks that logs its calls.
type fakeLeases struct {
	ids map[int64]bool
	log []string
}

func (f *fakeLeases) Exists(id int64) bool { return f.ids[id] }
func (f *fakeLeases) Attach(id int64, key []byte) {
	f.log = append(f.log, fmt.Sprintf("attach %d %q", id, key))
}
func (f *fakeLeases) Detach(id int64, key []byte) {
	f.log = append(f.log, fmt.Sprintf("detach %d %q", id, key))
}

// TestDataDriven runs the scripts in testdata/scripts. Commands:
//
//	put k=<key> v=<value> [lease=<id>]    one txn, one put
//	delete k=<key> [end=<end>]            one txn, one delete
//	write                                  one txn; input lines: put k v [lease] | del k [end] | range k [end]
//	range k=<key> [end=] [rev=] [limit=] [count] [keys-only]
//	events from=<rev> [to=] [limit=] [prev-kv]
//	compact rev=<rev> [wait]
//	rev | hash [rev=] | reopen
//	leases ids=(1,2,...)                  leases that exist for requests
//	req kind=range|put|delete|txn [batch] input: the request in protobuf text format
//	check kind=range|put|delete|txn [max-ops=]   API-side validation of the request in the input
//
// Keys and values accept Go escapes (\x00).
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/scripts", func(t *testing.T, path string) {
		e := newEnv(t)
		leases := &fakeLeases{ids: map[int64]bool{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runCmd(t, e, leases, d)
		})
	})
}

func unq(t testing.TB, s string) []byte {
	u, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		t.Fatalf("bad escape in %q: %v", s, err)
	}
	return []byte(u)
}

func argBytes(t testing.TB, d *datadriven.TestData, key string) []byte {
	if !d.HasArg(key) {
		return nil
	}
	var s string
	d.ScanArgs(t, key, &s)
	return unq(t, s)
}

func argInt(t testing.TB, d *datadriven.TestData, key string) int64 {
	var v int64
	if d.HasArg(key) {
		d.ScanArgs(t, key, &v)
	}
	return v
}

func runCmd(t *testing.T, e *testEnv, leases *fakeLeases, d *datadriven.TestData) string {
	var out strings.Builder
	switch d.Cmd {
	case "put":
		var prev *mvccpb.KeyValue
		evs := e.apply(func(w *WriteTxn) {
			prev = w.Put(argBytes(t, d, "k"), argBytes(t, d, "v"), argInt(t, d, "lease"))
		})
		fmt.Fprintf(&out, "rev=%d prev=%s\n", e.s.Rev(), fmtKV(prev))
		fmtEvents(&out, evs)
	case "delete":
		var del []*mvccpb.KeyValue
		evs := e.apply(func(w *WriteTxn) { del = w.DeleteRange(argBytes(t, d, "k"), argBytes(t, d, "end")) })
		fmt.Fprintf(&out, "rev=%d deleted=%d\n", e.s.Rev(), len(del))
		fmtEvents(&out, evs)
	case "write":
		evs := e.apply(func(w *WriteTxn) {
			for _, line := range strings.Split(d.Input, "\n") {
				f := strings.Fields(line)
				if len(f) == 0 {
					continue
				}
				arg := func(i int) []byte {
					if i < len(f) {
						return unq(t, f[i])
					}
					return nil
				}
				switch f[0] {
				case "put":
					var lease int64
					if len(f) > 3 {
						lease, _ = strconv.ParseInt(f[3], 10, 64)
					}
					fmt.Fprintf(&out, "%s: prev=%s\n", line, fmtKV(w.Put(arg(1), arg(2), lease)))
				case "del":
					fmt.Fprintf(&out, "%s: deleted=%d\n", line, len(w.DeleteRange(arg(1), arg(2))))
				case "range":
					rr, err := w.Range(arg(1), arg(2), RangeOptions{})
					fmt.Fprintf(&out, "%s:", line)
					fmtRange(&out, rr, err)
				default:
					t.Fatalf("unknown op %q", line)
				}
			}
		})
		fmt.Fprintf(&out, "rev=%d\n", e.s.Rev())
		fmtEvents(&out, evs)
	case "range":
		ro := RangeOptions{Rev: argInt(t, d, "rev"), Limit: argInt(t, d, "limit"),
			Count: d.HasArg("count"), KeysOnly: d.HasArg("keys-only")}
		rr, err := e.s.Range(argBytes(t, d, "k"), argBytes(t, d, "end"), ro)
		fmtRange(&out, rr, err)
	case "events":
		to := argInt(t, d, "to")
		evs, err := e.s.Events(argInt(t, d, "from"), to, int(argInt(t, d, "limit")), d.HasArg("prev-kv"))
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		fmtEvents(&out, evs)
		if len(evs) == 0 {
			out.WriteString("no events\n")
		}
	case "compact":
		b := e.db.NewIndexedBatch()
		defer b.Close()
		done, err := e.s.Compact(b, argInt(t, d, "rev"))
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		if err := e.db.Commit(b, storage.NoSync); err != nil {
			t.Fatal(err)
		}
		e.s.Publish()
		if d.HasArg("wait") {
			<-done
		}
		fmt.Fprintf(&out, "rev=%d compact=%d\n", e.s.Rev(), e.s.CompactRev())
	case "rev":
		fmt.Fprintf(&out, "rev=%d compact=%d\n", e.s.Rev(), e.s.CompactRev())
	case "hash":
		h, c, err := e.s.HashKV(argInt(t, d, "rev"))
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		fmt.Fprintf(&out, "hash=%08x compact=%d\n", h, c)
	case "reopen":
		e.reopen()
		fmt.Fprintf(&out, "rev=%d compact=%d\n", e.s.Rev(), e.s.CompactRev())
	case "leases":
		var ids []int
		d.ScanArgs(t, "ids", &ids)
		leases.ids = map[int64]bool{}
		for _, id := range ids {
			leases.ids[int64(id)] = true
		}
		return "ok\n"
	case "req":
		return runReq(t, e, leases, d)
	case "check":
		var kind string
		d.ScanArgs(t, "kind", &kind)
		maxOps := int64(128)
		if d.HasArg("max-ops") {
			maxOps = argInt(t, d, "max-ops")
		}
		var err error
		switch m := parseReq(t, kind, d.Input).(type) {
		case *pb.RangeRequest:
			err = CheckRange(m)
		case *pb.PutRequest:
			err = CheckPut(m)
		case *pb.DeleteRangeRequest:
			err = CheckDeleteRange(m)
		case *pb.TxnRequest:
			err = CheckTxn(m, int(maxOps))
		}
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return "ok\n"
	default:
		t.Fatalf("unknown command %q", d.Cmd)
	}
	return out.String()
}

func parseReq(t testing.TB, kind, input string) proto.Message {
	var m proto.Message
	switch kind {
	case "range":
		m = &pb.RangeRequest{}
	case "put":
		m = &pb.PutRequest{}
	case "delete":
		m = &pb.DeleteRangeRequest{}
	case "txn":
		m = &pb.TxnRequest{}
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err := prototext.Unmarshal([]byte(input), m); err != nil {
		t.Fatalf("parse %s request: %v", kind, err)
	}
	return m
}

// runReq applies a request: ranges (and read-only txns without "write") on
// the read path, the rest in a write txn.
func runReq(t *testing.T, e *testEnv, leases *fakeLeases, d *datadriven.TestData) string {
	var kind string
	d.ScanArgs(t, "kind", &kind)
	m := parseReq(t, kind, d.Input)
	leases.log = nil
	var (
		resp proto.Message
		err  error
		evs  []*mvccpb.Event
	)
	switch r := m.(type) {
	case *pb.RangeRequest:
		resp, err = e.s.RangeRequest(r)
	case *pb.TxnRequest:
		if IsTxnReadOnly(r) && !d.HasArg("write") {
			resp, err = e.s.ReadTxn(r)
			break
		}
		evs = e.apply(func(w *WriteTxn) { resp, err = w.ApplyTxn(r, leases) })
	case *pb.PutRequest:
		evs = e.apply(func(w *WriteTxn) { resp, err = w.ApplyPut(r, leases) })
	case *pb.DeleteRangeRequest:
		evs = e.apply(func(w *WriteTxn) { resp, err = w.ApplyDeleteRange(r, leases) })
	}
	var out strings.Builder
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
	} else {
		fmtResp(&out, "", resp)
	}
	for _, l := range leases.log {
		fmt.Fprintf(&out, "lease: %s\n", l)
	}
	fmtEvents(&out, evs)
	return out.String()
}

func fmtKV(kv *mvccpb.KeyValue) string {
	if kv == nil {
		return "none"
	}
	s := fmt.Sprintf("%q", kv.Key)
	if kv.Value != nil {
		s += fmt.Sprintf("=%q", kv.Value)
	}
	s += fmt.Sprintf(" create=%d mod=%d ver=%d", kv.CreateRevision, kv.ModRevision, kv.Version)
	if kv.Lease != 0 {
		s += fmt.Sprintf(" lease=%d", kv.Lease)
	}
	return s
}

func fmtRange(out *strings.Builder, rr *RangeResult, err error) {
	if err != nil {
		fmt.Fprintf(out, " error: %v\n", err)
		return
	}
	fmt.Fprintf(out, " rev=%d count=%d\n", rr.Rev, rr.Count)
	for _, kv := range rr.KVs {
		fmt.Fprintf(out, "  %s\n", fmtKV(kv))
	}
}

func fmtEvents(out *strings.Builder, evs []*mvccpb.Event) {
	for _, ev := range evs {
		fmt.Fprintf(out, "event %s %s", ev.Type, fmtKV(ev.Kv))
		if ev.PrevKv != nil {
			fmt.Fprintf(out, " prev: %s", fmtKV(ev.PrevKv))
		}
		out.WriteString("\n")
	}
}

func fmtResp(out *strings.Builder, indent string, m proto.Message) {
	switch r := m.(type) {
	case *pb.RangeResponse:
		fmt.Fprintf(out, "%srange: rev=%d count=%d more=%t\n", indent, r.Header.GetRevision(), r.Count, r.More)
		for _, kv := range r.Kvs {
			fmt.Fprintf(out, "%s  %s\n", indent, fmtKV(kv))
		}
	case *pb.PutResponse:
		fmt.Fprintf(out, "%sput: rev=%d prev=%s\n", indent, r.Header.GetRevision(), fmtKV(r.PrevKv))
	case *pb.DeleteRangeResponse:
		fmt.Fprintf(out, "%sdelete: rev=%d deleted=%d\n", indent, r.Header.GetRevision(), r.Deleted)
		for _, kv := range r.PrevKvs {
			fmt.Fprintf(out, "%s  prev %s\n", indent, fmtKV(kv))
		}
	case *pb.TxnResponse:
		hdr := "nil"
		if r.Header != nil {
			hdr = strconv.FormatInt(r.Header.Revision, 10)
		}
		fmt.Fprintf(out, "%stxn: rev=%s succeeded=%t\n", indent, hdr, r.Succeeded)
		for _, op := range r.Responses {
			switch x := op.Response.(type) {
			case *pb.ResponseOp_ResponseRange:
				fmtResp(out, indent+"  ", x.ResponseRange)
			case *pb.ResponseOp_ResponsePut:
				fmtResp(out, indent+"  ", x.ResponsePut)
			case *pb.ResponseOp_ResponseDeleteRange:
				fmtResp(out, indent+"  ", x.ResponseDeleteRange)
			case *pb.ResponseOp_ResponseTxn:
				fmtResp(out, indent+"  ", x.ResponseTxn)
			default:
				fmt.Fprintf(out, "%s  empty\n", indent)
			}
		}
	default:
		fmt.Fprintf(out, "%s%T\n", indent, m)
	}
}
