package server

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"go.etcd.io/raft/v3"
)

// readIndexer batches linearizable reads: every read that arrives while a
// ReadIndex round is in flight shares the next round, so a burst of reads
// costs one raft round trip.
type readIndexer struct {
	s *Server

	mu struct {
		sync.Mutex
		next *readBatch // protected by mu; the batch new readers join
	}
	wakec   chan struct{}
	statesc chan raft.ReadState
}

// readBatch is one ReadIndex round; done closes when its readers may read.
type readBatch struct {
	done chan struct{}
	err  error
}

func newReadIndexer(s *Server) *readIndexer {
	r := &readIndexer{
		s:       s,
		wakec:   make(chan struct{}, 1),
		statesc: make(chan raft.ReadState, 64),
	}
	r.mu.next = &readBatch{done: make(chan struct{})}
	return r
}

// wait blocks until a read started now would be linearizable.
func (r *readIndexer) wait(ctx context.Context) error {
	r.mu.Lock()
	b := r.mu.next
	r.mu.Unlock()
	select {
	case r.wakec <- struct{}{}:
	default:
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	case <-r.s.stopc:
		return ErrStopped
	}
}

// onReadStates runs on the raft goroutine; it must not block.
func (r *readIndexer) onReadStates(states []raft.ReadState) {
	for _, st := range states {
		select {
		case r.statesc <- st:
		default:
		}
	}
}

func (r *readIndexer) run() {
	for {
		select {
		case <-r.wakec:
		case <-r.s.stopc:
			return
		}
		r.mu.Lock()
		b := r.mu.next
		r.mu.next = &readBatch{done: make(chan struct{})}
		r.mu.Unlock()
		b.err = r.round()
		close(b.done)
	}
}

// round runs one ReadIndex exchange and waits for apply to catch up.
func (r *readIndexer) round() error {
	s := r.s
	id := s.reqID.next()
	rctx := binary.BigEndian.AppendUint64(nil, id)
	timeout := time.NewTimer(s.opts.RequestTimeout)
	defer timeout.Stop()
	// Retry the request if raft dropped it (no leader yet, or a leader
	// change in between), as etcd does.
	retry := time.NewTicker(500 * time.Millisecond)
	defer retry.Stop()
	send := func() error {
		if s.Leader() == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return s.node.ReadIndex(ctx, rctx)
	}
	if err := send(); err != nil {
		return err
	}
	for {
		select {
		case st := <-r.statesc:
			if len(st.RequestCtx) != 8 || binary.BigEndian.Uint64(st.RequestCtx) != id {
				continue // an answer to an older, abandoned round
			}
			select {
			case <-s.applied.wait(st.Index):
				return nil
			case <-timeout.C:
				return ErrTimeout
			case <-s.stopc:
				return ErrStopped
			}
		case <-retry.C:
			if err := send(); err != nil {
				return err
			}
		case <-timeout.C:
			if s.Leader() == 0 {
				return ErrNoLeader
			}
			return ErrTimeout
		case <-s.stopc:
			return ErrStopped
		}
	}
}
