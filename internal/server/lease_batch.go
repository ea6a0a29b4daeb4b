package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/lease"
)

// A follower forwards the keep-alives its clients send to the leader. One
// peer request per keep-alive costs both members a request's syscalls and
// HTTP work for eight bytes of payload, so keep-alives that arrive while
// a request is in flight are sent together in the next one.
//
// The batch path's body is the lease IDs, 8 bytes each, big-endian; its
// answer is one 8-byte TTL per ID in the same order, -1 for a lease the
// leader does not know. A refusal that concerns the whole batch (not the
// leader, timeout) travels as for a single forwarded call.
const leaseRenewBatchPath = "/cairn/lease/renew-batch"

const (
	// maxRenewBatch bounds the IDs of one batch, so a request stays small.
	maxRenewBatch = 1024
	// renewSenders is how many batches may be in flight at once: while
	// one waits for the leader's read index, the next fills.
	renewSenders = 4
)

// errRenewBatch is a batch body that is not a whole number of IDs.
var errRenewBatch = errors.New("server: malformed lease renew batch")

type renewCall struct {
	id    int64
	reply chan renewReply // buffered: a sender never waits on a caller
}

type renewReply struct {
	ttl int64
	err error
}

// renewBatcher gathers a follower's keep-alives into batches.
type renewBatcher struct {
	s     *Server
	calls chan renewCall
	// ctx bounds the batches in flight; stop cancels it, so Stop does not
	// wait out the forward client's timeout.
	ctx    context.Context
	cancel context.CancelFunc
	// unsupported is set once the leader answered that it does not serve
	// the batch path; keep-alives are then forwarded one by one.
	unsupported atomic.Bool
	// batches and renewed count requests sent and IDs they carried.
	batches, renewed atomic.Uint64
}

func newRenewBatcher(s *Server) *renewBatcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &renewBatcher{s: s, calls: make(chan renewCall, maxRenewBatch), ctx: ctx, cancel: cancel}
}

// stop abandons the batches in flight; their callers get the error.
func (b *renewBatcher) stop() { b.cancel() }

// run is one sender: it takes a waiting keep-alive, everything queued
// behind it, and forwards them as one batch. It ends when the member stops.
func (b *renewBatcher) run() {
	batch := make([]renewCall, 0, maxRenewBatch)
	for {
		select {
		case c := <-b.calls:
			batch = append(batch[:0], c)
		case <-b.s.stopc:
			return
		}
	drain:
		for len(batch) < maxRenewBatch {
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		b.send(batch)
		clear(batch) // drop the reply channels
	}
}

func (b *renewBatcher) send(batch []renewCall) {
	ids := make([]int64, len(batch))
	for i, c := range batch {
		ids[i] = c.id
	}
	// The forward client's own timeout bounds the request; callers that
	// give up earlier simply stop listening.
	data, err := b.s.forwardBytes(b.ctx, leaseRenewBatchPath, encodeLeaseIDs(ids))
	var ttls []int64
	if err == nil {
		ttls, err = decodeLeaseTTLs(data, len(ids))
	}
	b.batches.Add(1)
	b.renewed.Add(uint64(len(ids)))
	for i, c := range batch {
		r := renewReply{err: err}
		if err == nil {
			r.ttl = ttls[i]
			if r.ttl < 0 {
				r.err = lease.ErrLeaseNotFound
			}
		}
		c.reply <- r
	}
}

// renew forwards one keep-alive in the next batch and waits for its TTL.
func (b *renewBatcher) renew(ctx context.Context, id int64) (int64, error) {
	c := renewCall{id: id, reply: make(chan renewReply, 1)}
	select {
	case b.calls <- c:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.s.stopc:
		return 0, ErrStopped
	}
	select {
	case r := <-c.reply:
		return r.ttl, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.s.stopc:
		return 0, ErrStopped
	}
}

// forwardRenew renews id through the leader, retrying while leadership
// moves.
func (s *Server) forwardRenew(ctx context.Context, id int64) (int64, error) {
	for {
		var (
			ttl int64
			err error
		)
		if s.renewals.unsupported.Load() {
			ttl, err = s.forwardRenewOne(ctx, id)
		} else {
			ttl, err = s.renewals.renew(ctx, id)
			if errors.Is(err, errForwardPathUnknown) {
				s.renewals.unsupported.Store(true)
				continue
			}
		}
		if !retryForward(err) {
			return ttl, err
		}
		if err := s.forwardBackoff(ctx); err != nil {
			return 0, err
		}
	}
}

// renewBatchHandler serves a follower's batch of keep-alives on the
// leader.
func (s *Server) renewBatchHandler(w http.ResponseWriter, r *http.Request) {
	body, ok := s.acceptForwarded(w, r)
	if !ok {
		return
	}
	ids, err := decodeLeaseIDs(body)
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	// One wait for the applied index covers the batch, as it would cover
	// each keep-alive: a revoke committed before it is seen by all.
	if err := s.reads.wait(r.Context()); err != nil {
		writeForwardError(w, err)
		return
	}
	ttls := make([]int64, len(ids))
	for i, id := range ids {
		ttl, err := s.lessor.Renew(id)
		switch {
		case err == nil:
			ttls[i] = ttl
		case errors.Is(err, lease.ErrLeaseNotFound):
			ttls[i] = -1
		default:
			writeForwardError(w, err)
			return
		}
	}
	out := encodeLeaseIDs(ttls)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
}

// encodeLeaseIDs writes vs (IDs or TTLs) 8 bytes each, big-endian.
func encodeLeaseIDs(vs []int64) []byte {
	out := make([]byte, 0, 8*len(vs))
	for _, v := range vs {
		out = binary.BigEndian.AppendUint64(out, uint64(v))
	}
	return out
}

// decodeLeaseIDs reads a batch body: 1 to maxRenewBatch IDs.
func decodeLeaseIDs(body []byte) ([]int64, error) {
	if len(body) == 0 || len(body)%8 != 0 || len(body)/8 > maxRenewBatch {
		return nil, fmt.Errorf("%w: %d bytes", errRenewBatch, len(body))
	}
	ids := make([]int64, len(body)/8)
	for i := range ids {
		ids[i] = int64(binary.BigEndian.Uint64(body[8*i:]))
	}
	return ids, nil
}

// decodeLeaseTTLs reads the leader's answer to a batch of n IDs.
func decodeLeaseTTLs(body []byte, n int) ([]int64, error) {
	if len(body) != 8*n {
		return nil, fmt.Errorf("%w: answer of %d bytes for %d IDs", errRenewBatch, len(body), n)
	}
	ttls := make([]int64, n)
	for i := range ttls {
		ttls[i] = int64(binary.BigEndian.Uint64(body[8*i:]))
	}
	return ttls, nil
}
