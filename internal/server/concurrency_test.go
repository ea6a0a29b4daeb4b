package server

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestConcurrentLinearizable runs writers and linearizable readers at once.
// Each writer owns one key and writes 1, 2, 3, ...; after each
// acknowledgement it publishes the value and the revision. A reader notes
// what was acknowledged before its read started; the read must show each
// key at least at that value, at a revision at least the highest
// acknowledged one.
func TestConcurrentLinearizable(t *testing.T) {
	const (
		writers = 8
		readers = 8
		writes  = 40
	)
	s := newTestServer(t)
	ctx := testCtx(t)

	var acked [writers]atomic.Int64
	var maxRev atomic.Int64
	var writersLeft atomic.Int32
	writersLeft.Store(writers)
	key := func(w int) string { return fmt.Sprintf("c/%02d", w) }

	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer writersLeft.Add(-1)
			for i := int64(1); i <= writes; i++ {
				resp, err := s.Put(ctx, &pb.PutRequest{Key: []byte(key(w)), Value: []byte(strconv.FormatInt(i, 10))})
				if err != nil {
					t.Errorf("writer %d put %d: %v", w, i, err)
					return
				}
				acked[w].Store(i)
				for {
					cur := maxRev.Load()
					if resp.Header.Revision <= cur || maxRev.CompareAndSwap(cur, resp.Header.Revision) {
						break
					}
				}
			}
		}()
	}
	var reads atomic.Int64
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; writersLeft.Load() > 0 || n < 5; n++ {
				var before [writers]int64
				for w := range writers {
					before[w] = acked[w].Load()
				}
				minRev := maxRev.Load()

				var kvs map[string]int64
				var rev int64
				if n%2 == 0 {
					rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("c/"), RangeEnd: []byte("c0")})
					if err != nil {
						t.Errorf("reader %d: %v", r, err)
						return
					}
					rev, kvs = rr.Header.Revision, map[string]int64{}
					for _, kv := range rr.Kvs {
						kvs[string(kv.Key)], _ = strconv.ParseInt(string(kv.Value), 10, 64)
					}
				} else {
					// A read-only txn takes the same linearizable path.
					tr, err := s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{
						RequestRange: &pb.RangeRequest{Key: []byte("c/"), RangeEnd: []byte("c0")}}}}})
					if err != nil {
						t.Errorf("reader %d: %v", r, err)
						return
					}
					rev, kvs = tr.Header.Revision, map[string]int64{}
					for _, kv := range tr.Responses[0].GetResponseRange().Kvs {
						kvs[string(kv.Key)], _ = strconv.ParseInt(string(kv.Value), 10, 64)
					}
				}
				reads.Add(1)
				if rev < minRev {
					t.Errorf("reader %d: read at revision %d after revision %d was acknowledged", r, rev, minRev)
				}
				for w := range writers {
					if got := kvs[key(w)]; got < before[w] {
						t.Errorf("reader %d: %s = %d, but %d was acknowledged before the read", r, key(w), got, before[w])
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("c/"), RangeEnd: []byte("c0")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Kvs) != writers {
		t.Fatalf("final read: %d keys, want %d", len(rr.Kvs), writers)
	}
	for _, kv := range rr.Kvs {
		if string(kv.Value) != strconv.Itoa(writes) || kv.Version != writes {
			t.Errorf("%s = %s at version %d, want %d", kv.Key, kv.Value, kv.Version, writes)
		}
	}
	t.Logf("%d linearizable reads checked", reads.Load())
}
