package mvcc

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// FuzzRequests feeds arbitrary bytes to the request path a client reaches:
// decode as a request, run the API checks, and apply what passes to a real
// store — and then read it back. Nothing may panic, and every refusal must
// be one of the package's errors.
func FuzzRequests(f *testing.F) {
	seed := func(m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(0), b)
		f.Add(byte(1), b)
		f.Add(byte(2), b)
		f.Add(byte(3), b)
	}
	seed(&pb.PutRequest{Key: []byte("a"), Value: []byte("1"), PrevKv: true})
	seed(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, SortOrder: pb.RangeRequest_DESCEND, SortTarget: pb.RangeRequest_MOD, Limit: 1})
	seed(&pb.TxnRequest{
		Compare: []*pb.Compare{{Key: []byte("a"), Target: pb.Compare_VALUE, Result: pb.Compare_EQUAL, TargetUnion: &pb.Compare_Value{Value: []byte("1")}}},
		Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("b")}}},
			{Request: &pb.RequestOp_RequestTxn{RequestTxn: &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte{0}}}}}}}}},
	})
	seed(&pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("b"), PrevKv: true})

	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		e := newEnv(t)
		leases := &fakeLeases{ids: map[int64]bool{1: true}}
		e.apply(func(w *WriteTxn) {
			w.Put([]byte("a"), []byte("1"), 0)
			w.Put([]byte("a\x00"), []byte("2"), 1)
		})
		var applyErr error
		switch kind % 4 {
		case 0:
			req := &pb.PutRequest{}
			if proto.Unmarshal(data, req) != nil || CheckPut(req) != nil {
				return
			}
			e.apply(func(w *WriteTxn) { _, applyErr = w.ApplyPut(req, leases) })
		case 1:
			req := &pb.RangeRequest{}
			if proto.Unmarshal(data, req) != nil || CheckRange(req) != nil {
				return
			}
			_, applyErr = e.s.RangeRequest(req)
		case 2:
			req := &pb.TxnRequest{}
			if proto.Unmarshal(data, req) != nil || CheckTxn(req, 128) != nil {
				return
			}
			e.apply(func(w *WriteTxn) { _, applyErr = w.ApplyTxn(req, leases) })
			if _, err := e.s.ReadTxn(req); err != nil && err != ErrNotReadOnly && IsFatal(err) {
				t.Fatalf("read txn: %v", err)
			}
		case 3:
			req := &pb.DeleteRangeRequest{}
			if proto.Unmarshal(data, req) != nil || CheckDeleteRange(req) != nil {
				return
			}
			e.apply(func(w *WriteTxn) { _, applyErr = w.ApplyDeleteRange(req, leases) })
		}
		if applyErr != nil && IsFatal(applyErr) {
			t.Fatalf("a client request caused a member failure: %v", applyErr)
		}
		if _, err := e.s.Range(nil, []byte{0}, RangeOptions{}); err != nil {
			t.Fatalf("store unreadable after request: %v", err)
		}
	})
}
