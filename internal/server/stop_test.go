package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/mvcc"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/goleak"
)

// errPanic marks a request that panicked instead of returning an error.
var errPanic = errors.New("request panicked")

// call runs op and turns a panic into errPanic, so one broken request fails
// its test instead of the whole test binary.
func call(op func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v (at %s)", errPanic, r, panicSite())
		}
	}()
	return op()
}

// panicSite names the innermost Cairn function on a panicking stack.
func panicSite() string {
	for _, line := range strings.Split(string(debug.Stack()), "\n") {
		if strings.HasPrefix(line, "\t/") && strings.Contains(line, "/internal/") &&
			!strings.Contains(line, "_test.go") {
			return strings.TrimSpace(line)
		}
	}
	return "unknown"
}

// stopWithin calls s.Stop and fails the test if it does not return in time.
func stopWithin(t *testing.T, s *Server) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		s.Stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(testWait):
		t.Fatal("Stop did not return")
	}
}

// TestStopLeavesNoGoroutines exercises every background loop (leases with
// expiry, keep-alives, compaction, reads) and then checks that Stop ends
// all of them.
func TestStopLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newTestServer(t, func(o *Options) {
		o.AutoCompaction = AutoCompaction{Mode: "periodic", Period: time.Hour}
	})
	ctx := testCtx(t)
	g, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Put(ctx, &pb.PutRequest{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v"), Lease: g.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LeaseRenew(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k0")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Compact(ctx, &pb.CompactionRequest{Revision: s.KV().Rev(), Physical: true}); err != nil {
		t.Fatal(err)
	}
	// Let the lease expire so a revoke goroutine has run.
	waitFor(t, "lease expiry", func() bool {
		rr, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k0"), Serializable: true})
		return err == nil && len(rr.Kvs) == 0
	})
	stopWithin(t, s)
}

func TestStopIdempotent(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	stopWithin(t, s)
	stopWithin(t, s)
	select {
	case <-s.StopNotify():
	default:
		t.Error("StopNotify not closed after Stop")
	}
}

func TestStopNeverStarted(t *testing.T) {
	s, err := New(testOptions(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	stopWithin(t, s)
	stopWithin(t, s)
}

// TestRequestsAfterStop: every operation fails fast with ErrStopped (the
// sentinel the API layer maps to etcd's "server stopped").
func TestRequestsAfterStop(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	stopWithin(t, s)

	ops := map[string]func() error{
		"put": func() error {
			_, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("v")})
			return err
		},
		"delete": func() error {
			_, err := s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte("k")})
			return err
		},
		"txn": func() error {
			_, err := s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{putOp("k", "v")}})
			return err
		},
		"range": func() error {
			_, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k")})
			return err
		},
		"lease grant": func() error {
			_, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 10})
			return err
		},
		"lease renew": func() error {
			_, err := s.LeaseRenew(ctx, 1)
			return err
		},
		"compact": func() error {
			_, err := s.Compact(ctx, &pb.CompactionRequest{Revision: 1})
			return err
		},
	}
	for name, op := range ops {
		// Repeat: a select between ready channels picks at random, so a
		// single call could pass by luck.
		for range 20 {
			if err := call(op); !errors.Is(err, ErrStopped) {
				t.Errorf("%s after Stop: err = %v, want %v", name, err, ErrStopped)
				break
			}
		}
	}
	// A serializable read reaches the closed store and says so.
	err := call(func() error {
		_, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), Serializable: true})
		return err
	})
	if err == nil || errors.Is(err, errPanic) {
		t.Errorf("serializable range after Stop: err = %v, want an error", err)
	}
}

// TestStopWithRequestsInFlight: Stop while writers and readers are busy
// returns, and every request in flight returns too, with a stop error.
func TestStopWithRequestsInFlight(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	run := func(op func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if err := call(func() error { return op(i) }); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	for w := range 8 {
		run(func(i int) error {
			_, err := s.Put(ctx, &pb.PutRequest{Key: fmt.Appendf(nil, "w%d", w), Value: fmt.Appendf(nil, "%d", i)})
			return err
		})
		run(func(int) error {
			_, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("w"), RangeEnd: []byte("x")})
			return err
		})
	}
	run(func(int) error {
		_, err := s.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 60})
		return err
	})
	waitFor(t, "requests to flow", func() bool { return done.Load() >= 200 })
	stopWithin(t, s)

	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(testWait):
		t.Fatal("requests in flight did not return after Stop")
	}
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrStopped) && !errors.Is(err, mvcc.ErrClosed) {
			t.Errorf("request in flight at Stop: err = %v, want %v", err, ErrStopped)
		}
	}
}

// TestStopWithSerializableReadsInFlight: serializable reads go straight to
// the store; Stop closes the store and the DB under them. They must fail
// with an error, not crash the process. The window is small, so the test
// tries several times.
func TestStopWithSerializableReadsInFlight(t *testing.T) {
	// More Ps than CPUs: the OS then parks reader threads at arbitrary
	// points, which widens the window this test looks for.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4 * runtime.NumCPU()))
	for range 10 {
		s := newTestServer(t)
		ctx := testCtx(t)
		if _, err := s.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		var reads atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := call(func() error {
						_, err := s.Range(context.Background(), &pb.RangeRequest{Key: []byte("k"), Serializable: true})
						return err
					})
					if errors.Is(err, errPanic) {
						t.Error(err)
					}
					if err != nil {
						return
					}
					reads.Add(1)
				}
			}()
		}
		stopWithin(t, s)
		wg.Wait()
	}
}
