package mvcc

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairn-db/cairn/internal/storage"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestConcurrentReads runs readers against a writer that keeps rewriting
// ten keys in one txn each and compacts now and then. Every read must see
// one txn's writes whole, revisions never go back, and a read at an old
// revision either sees that revision's state or fails with ErrCompacted.
// Run it with -race.
func TestConcurrentReads(t *testing.T) {
	e := newEnvOpts(t, Options{CompactionBatchLimit: 7})
	const nkeys = 10
	txns := 400
	if testing.Short() {
		txns = 100
	}
	keys := make([][]byte, nkeys)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("k%d", i))
	}
	// Revision 2 holds value 0; the txn writing value v is at revision v+2.
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	report := func(err error) {
		select {
		case errc <- err:
		default:
		}
		stop.Store(true)
	}
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			last := int64(0)
			for n := 0; !stop.Load(); n++ {
				rr, err := e.s.Range([]byte("k"), []byte("l"), RangeOptions{})
				if err != nil {
					report(err)
					return
				}
				if rr.Rev < last {
					report(fmt.Errorf("revision went back from %d to %d", last, rr.Rev))
					return
				}
				last = rr.Rev
				if err := sameValues(rr, rr.Rev, nkeys); err != nil {
					report(err)
					return
				}
				// An older revision.
				old := max(1, rr.Rev-int64(n%50))
				rr, err = e.s.Range([]byte("k"), []byte("l"), RangeOptions{Rev: old})
				if errors.Is(err, ErrCompacted) {
					continue
				}
				if err != nil {
					report(err)
					return
				}
				if err := sameValues(rr, old, nkeys); err != nil {
					report(err)
					return
				}
				switch r {
				case 0:
					evs, err := e.s.Events(old, 0, 0, true)
					if err != nil && !errors.Is(err, ErrCompacted) {
						report(err)
						return
					}
					for _, ev := range evs {
						if ev.PrevKv != nil && ev.PrevKv.ModRevision != ev.Kv.ModRevision-1 {
							report(fmt.Errorf("event at %d has prev at %d", ev.Kv.ModRevision, ev.PrevKv.ModRevision))
							return
						}
					}
				case 1:
					resp, err := e.s.ReadTxn(&pb.TxnRequest{
						Compare: []*pb.Compare{{Key: keys[0], Target: pb.Compare_VERSION, Result: pb.Compare_GREATER}},
						Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l")}}}},
					})
					if err != nil {
						report(err)
						return
					}
					if !resp.Succeeded {
						if resp.Header.Revision != 1 {
							report(fmt.Errorf("compare failed at %d", resp.Header.Revision))
							return
						}
						continue
					}
					if rr := resp.Responses[0].GetResponseRange(); rr.Header.Revision != resp.Header.Revision {
						report(fmt.Errorf("txn range at %d in txn at %d", rr.Header.Revision, resp.Header.Revision))
						return
					}
				case 2:
					if _, _, err := e.s.HashKV(0); err != nil && !errors.Is(err, ErrCompacted) {
						report(err)
						return
					}
				}
			}
		}(r)
	}

	for v := 0; v < txns && !stop.Load(); v++ {
		b := e.db.NewIndexedBatch()
		w := e.s.Write(b)
		val := []byte(strconv.Itoa(v))
		for _, k := range keys {
			w.Put(k, val, 0)
		}
		w.End()
		if v%37 == 36 {
			if _, err := e.s.Compact(b, int64(v)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.db.Commit(b, storage.NoSync); err != nil {
			t.Fatal(err)
		}
		b.Close()
		e.s.Publish()
	}
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
}

// sameValues checks that a range over the ten keys read at rev saw the txn
// of that revision whole.
func sameValues(rr *RangeResult, rev int64, n int) error {
	if rev < 2 {
		if rr.Count != 0 {
			return fmt.Errorf("at %d: %d keys", rev, rr.Count)
		}
		return nil
	}
	if rr.Count != n || len(rr.KVs) != n {
		return fmt.Errorf("at %d: %d keys (%d kvs), want %d", rev, rr.Count, len(rr.KVs), n)
	}
	want := strconv.FormatInt(rev-2, 10)
	for _, kv := range rr.KVs {
		if string(kv.Value) != want || kv.ModRevision != rev {
			return fmt.Errorf("at %d: %s=%s mod %d, want %s", rev, kv.Key, kv.Value, kv.ModRevision, want)
		}
	}
	return nil
}

// TestCloseWithReadsInFlight: Close waits for reads in flight, later reads
// fail with ErrClosed, and the DB can be closed right after Close.
func TestCloseWithReadsInFlight(t *testing.T) {
	for range 5 {
		e := newEnv(t)
		e.apply(func(w *WriteTxn) { w.Put([]byte("k"), []byte("v"), 0) })
		s := e.s
		var wg sync.WaitGroup
		errc := make(chan error, 64)
		for r := 0; r < 8; r++ {
			wg.Add(1)
			go func(r int) {
				defer wg.Done()
				for {
					var err error
					switch r % 4 {
					case 0:
						_, err = s.Range([]byte("k"), nil, RangeOptions{})
					case 1:
						_, err = s.ReadTxn(&pb.TxnRequest{})
					case 2:
						_, err = s.Events(1, 0, 0, true)
					case 3:
						_, _, err = s.HashKV(0)
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							errc <- err
						}
						return
					}
				}
			}(r)
		}
		e.close()
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
	}
}
