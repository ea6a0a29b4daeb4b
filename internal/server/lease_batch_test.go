package server

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cairn-db/cairn/internal/lease"
	"github.com/cairn-db/cairn/internal/membership"
	"github.com/cairn-db/cairn/internal/transport"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// follower returns the index of a member that is not the leader.
func (c *testCluster) follower(t *testing.T) int {
	return (c.leader(t) + 1) % len(c.members)
}

// TestFollowerKeepAlivesBatched: keep-alives sent through a follower at
// once reach the leader in fewer requests than keep-alives, and each
// caller gets its own lease's answer.
func TestFollowerKeepAlivesBatched(t *testing.T) {
	c := startTestCluster(t, 3)
	ctx := testCtx(t)
	f := c.members[c.follower(t)]
	var ids []int64
	for range 4 {
		g, err := f.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 60})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	const calls = 200
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		id := ids[i%len(ids)]
		if i%10 == 9 {
			id = 987654321 // no such lease
		}
		wg.Go(func() {
			ttl, err := f.LeaseRenew(ctx, id)
			switch {
			case id == 987654321 && !errors.Is(err, lease.ErrLeaseNotFound):
				errs <- errors.New("unknown lease: want ErrLeaseNotFound, got " + errString(err))
			case id != 987654321 && (err != nil || ttl != 60):
				errs <- errors.New("renew: " + errString(err))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	batches, renewed := f.renewals.batches.Load(), f.renewals.renewed.Load()
	if renewed != calls || batches >= calls {
		t.Fatalf("%d keep-alives went in %d batches carrying %d; want %d in fewer batches", calls, batches, renewed, calls)
	}
	t.Logf("%d keep-alives in %d batches", calls, batches)
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestKeepAliveFallsBackToSingle: a leader that does not serve the batch
// path (an older version) answers 404; the follower then forwards
// keep-alives one by one.
func TestKeepAliveFallsBackToSingle(t *testing.T) {
	withoutBatch := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == leaseRenewBatchPath {
				http.NotFound(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	c := startTestClusterPeers(t, 3, nil, withoutBatch)
	ctx := testCtx(t)
	f := c.members[c.follower(t)]
	g, err := f.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 30})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if ttl, err := f.LeaseRenew(ctx, g.ID); err != nil || ttl != 30 {
			t.Fatalf("renew through follower: ttl %d, %v", ttl, err)
		}
	}
	if !f.renewals.unsupported.Load() {
		t.Fatal("follower did not note that the leader lacks the batch path")
	}
	if _, err := f.LeaseRenew(ctx, 987654321); !errors.Is(err, lease.ErrLeaseNotFound) {
		t.Fatalf("unknown lease: %v", err)
	}
}

// TestRenewBatchHandlerRejectsBadBodies: the leader answers a malformed
// batch with 400 and renews nothing.
func TestRenewBatchHandlerRejectsBadBodies(t *testing.T) {
	c := startTestCluster(t, 3)
	l := c.members[c.leader(t)]
	for _, body := range [][]byte{nil, make([]byte, 7), make([]byte, 8*(maxRenewBatch+1))} {
		req := httptest.NewRequest(http.MethodPost, leaseRenewBatchPath, bytes.NewReader(body))
		req.Header.Set(transport.HeaderClusterID, membership.FormatID(l.ClusterID()))
		rec := httptest.NewRecorder()
		l.renewBatchHandler(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%d-byte body: status %d, want 400 (%s)", len(body), rec.Code, rec.Body)
		}
	}
}

func FuzzDecodeLeaseIDs(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 8))
	f.Add(make([]byte, 9))
	f.Add(encodeLeaseIDs([]int64{1, -1, 1 << 62}))
	f.Fuzz(func(t *testing.T, body []byte) {
		ids, err := decodeLeaseIDs(body)
		if err != nil {
			if ids != nil {
				t.Fatal("IDs with an error")
			}
			return
		}
		if !bytes.Equal(encodeLeaseIDs(ids), body) {
			t.Fatal("decode does not invert encode")
		}
		if _, err := decodeLeaseTTLs(body, len(ids)+1); err == nil {
			t.Fatal("an answer of the wrong length was accepted")
		}
	})
}
